package audit

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// flawed is the golden origin: correct, except that its 304s lack Vary
// (a MUST of RFC 9110 §15.4.5) and it ignores If-Modified-Since (a SHOULD
// of §13.1.3), so that the report shows every verdict.
func flawed() http.Handler {
	return misbehave(origin(), func(r *http.Request, serve func(*http.Request) *reply) *reply {
		rep := serve(without(r, "If-Modified-Since"))
		if rep.status == http.StatusNotModified {
			rep.header.Del("Vary")
		}
		return rep
	})
}

// golden compares got, with the test server's address masked, with
// testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, rep *Report, got []byte) {
	t.Helper()
	host := strings.TrimSuffix(strings.TrimPrefix(rep.URL, "http://"), "/")
	got = bytes.ReplaceAll(got, []byte(host), []byte("127.0.0.1:PORT"))
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test -update to accept):\n%s", path, got)
	}
}

// TestGolden pins the human report, plain and verbose, and the JSON
// document for one origin.
func TestGolden(t *testing.T) {
	rep := audit(t, flawed(), Options{})
	var text, verbose, js bytes.Buffer
	if err := WriteText(&text, []*Report{rep}, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&verbose, []*Report{rep}, TextOptions{Verbose: true}); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, []*Report{rep}); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt.golden", rep, text.Bytes())
	golden(t, "report-verbose.txt.golden", rep, verbose.Bytes())
	golden(t, "report.json.golden", rep, js.Bytes())

	// The JSON document decodes into the types it was made from.
	var doc struct {
		Schema  string    `json:"schema"`
		Reports []*Report `json:"reports"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != Schema || len(doc.Reports) != 1 || len(doc.Reports[0].Findings) != len(rep.Findings) {
		t.Fatalf("decoded %s with %d reports", doc.Schema, len(doc.Reports))
	}
	if f := doc.Reports[0].Find("304-missing-vary"); f == nil || f.Verdict != Must {
		t.Errorf("decoded finding %+v", f)
	}
}

// TestTextColor checks that colours appear only when asked for.
func TestTextColor(t *testing.T) {
	rep := audit(t, flawed(), Options{})
	var plain, color bytes.Buffer
	WriteText(&plain, []*Report{rep}, TextOptions{})
	WriteText(&color, []*Report{rep}, TextOptions{Color: true})
	if bytes.Contains(plain.Bytes(), []byte("\x1b[")) {
		t.Error("plain text has escape sequences")
	}
	if !bytes.Contains(color.Bytes(), []byte("\x1b[1;31mMUST  \x1b[0m")) {
		t.Errorf("coloured text lacks a red MUST:\n%q", color.String())
	}
}

// TestSummary pins the table of several reports.
func TestSummary(t *testing.T) {
	reps := []*Report{
		{URL: "http://a.example/", Status: 200, Counts: Counts{OK: 20, Info: 3}},
		{URL: "http://b.example/x", Status: 200, Counts: Counts{Must: 1, Should: 2, OK: 18, Info: 3}},
		{URL: "http://c.example/", Error: "audit: GET http://c.example/: refused"},
	}
	var b bytes.Buffer
	if err := WriteSummary(&b, reps); err != nil {
		t.Fatal(err)
	}
	want := `URL                 STATUS  MUST  SHOULD  OK  INFO  RESULT
http://a.example/   200     0     0       20  3     pass
http://b.example/x  200     1     2       18  3     fail
http://c.example/   -       -     -       -   -     error
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
