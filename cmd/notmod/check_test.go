package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/notmod/notmod/precond"
)

// checkOrigin is a correct origin: validators from precond, a fixed
// Last-Modified. seen, when set, records the requests' Authorization.
func checkOrigin(seen *sync.Map) http.Handler {
	return precond.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen != nil {
			seen.Store(r.Header.Get("Authorization"), true)
		}
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Last-Modified", "Fri, 20 Nov 2026 10:00:00 GMT")
		w.Header().Set("Etag", `"v1"`)
		io.WriteString(w, "<h1>hello</h1>\n")
	}))
}

// bareOrigin answers every request with 200 and no validators: it
// ignores If-None-Match: * and If-Match, two MUST violations.
func bareOrigin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "plain\n")
	})
}

// runCheck runs "notmod check" with args and returns its output and
// error.
func runCheck(t *testing.T, c checkCommand, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = c.run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestCheckCommand(t *testing.T) {
	good := httptest.NewServer(checkOrigin(nil))
	defer good.Close()
	bad := httptest.NewServer(bareOrigin())
	defer bad.Close()

	t.Run("clean_origin_exits_zero", func(t *testing.T) {
		out, _, err := runCheck(t, checkCommand{}, good.URL+"/")
		if err != nil {
			t.Fatalf("check: %v\n%s", err, out)
		}
		for _, want := range []string{"== " + good.URL + "/", "Fine (", "inm-list-matched (RFC 9110 §13.1.2)", "0 must, 0 should"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "\x1b[") {
			t.Error("colour written to a non-terminal")
		}
		if strings.Contains(out, "URL  ") {
			t.Error("summary table for a single URL")
		}
	})
	t.Run("must_violation_exits_non_zero", func(t *testing.T) {
		out, _, err := runCheck(t, checkCommand{}, bad.URL+"/")
		if err == nil || !strings.Contains(err.Error(), "1 of 1 URLs violate a MUST") {
			t.Errorf("error %v, want a MUST failure", err)
		}
		if !strings.Contains(out, "Violates a MUST") || !strings.Contains(out, "inm-star-not-honoured") {
			t.Errorf("output lacks the violation:\n%s", out)
		}
	})
	t.Run("verbose_shows_probes", func(t *testing.T) {
		out, _, _ := runCheck(t, checkCommand{}, "-v", good.URL+"/")
		if !strings.Contains(out, "> If-None-Match: *") || !strings.Contains(out, "< HTTP/1.1 304 Not Modified") {
			t.Errorf("verbose output lacks probe heads:\n%s", out)
		}
	})
	t.Run("json", func(t *testing.T) {
		out, _, err := runCheck(t, checkCommand{}, "--json", good.URL+"/", bad.URL+"/")
		if err == nil {
			t.Error("no error for the failing URL")
		}
		var doc struct {
			Schema  string `json:"schema"`
			Reports []struct {
				URL    string `json:"url"`
				Counts struct {
					Must int `json:"must"`
				} `json:"counts"`
			} `json:"reports"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		if doc.Schema != "notmod-audit/1" || len(doc.Reports) != 2 || doc.Reports[0].URL != good.URL+"/" {
			t.Fatalf("document %+v", doc)
		}
		if doc.Reports[0].Counts.Must != 0 || doc.Reports[1].Counts.Must == 0 {
			t.Errorf("counts %+v", doc.Reports)
		}
	})
	t.Run("file_and_summary", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "urls")
		list := "# audited nightly\n\n  " + good.URL + "/a  \n" + good.URL + "/b\n"
		if err := os.WriteFile(path, []byte(list), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _, err := runCheck(t, checkCommand{}, "-c", "2", "-f", path, good.URL+"/c")
		if err != nil {
			t.Fatalf("check: %v", err)
		}
		for _, want := range []string{"URL", "RESULT", good.URL + "/a", good.URL + "/b", good.URL + "/c  ", "pass"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		// Reports come in the order given: arguments first, then the file.
		if strings.Index(out, "== "+good.URL+"/c") > strings.Index(out, "== "+good.URL+"/a") {
			t.Error("reports out of order")
		}
	})
	t.Run("stdin", func(t *testing.T) {
		out, _, err := runCheck(t, checkCommand{stdin: strings.NewReader(good.URL + "/\n")}, "-f", "-")
		if err != nil || !strings.Contains(out, "== "+good.URL+"/") {
			t.Errorf("check -f -: %v\n%s", err, out)
		}
	})
	t.Run("extra_header", func(t *testing.T) {
		var seen sync.Map
		srv := httptest.NewServer(checkOrigin(&seen))
		defer srv.Close()
		if _, _, err := runCheck(t, checkCommand{}, "-H", "Authorization: Bearer abc", srv.URL+"/"); err != nil {
			t.Fatal(err)
		}
		n := 0
		seen.Range(func(k, _ any) bool {
			n++
			if k != "Bearer abc" {
				t.Errorf("a probe carried Authorization %q", k)
			}
			return true
		})
		if n == 0 {
			t.Error("no request seen")
		}
	})
	t.Run("terminal_colour_and_progress", func(t *testing.T) {
		tty := checkCommand{terminal: func(io.Writer) bool { return true }, getenv: func(string) string { return "" }}
		out, errOut, _ := runCheck(t, tty, good.URL+"/", good.URL+"/x")
		if !strings.Contains(out, "\x1b[32mok    \x1b[0m") {
			t.Errorf("no colour on a terminal:\n%q", out)
		}
		if !strings.Contains(errOut, "[2/2]") {
			t.Errorf("no progress on a terminal: %q", errOut)
		}
		noColor := tty
		noColor.getenv = func(k string) string {
			if k == "NO_COLOR" {
				return "1"
			}
			return ""
		}
		out, _, _ = runCheck(t, noColor, good.URL+"/")
		if strings.Contains(out, "\x1b[") {
			t.Error("colour despite NO_COLOR")
		}
	})
	t.Run("repeat", func(t *testing.T) {
		out, _, err := runCheck(t, checkCommand{}, "-repeat", "2", "-interval", "1ms", good.URL+"/")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "Watch") || !strings.Contains(out, "watch-2") {
			t.Errorf("no watch rounds:\n%s", out)
		}
	})
}

// TestCheckRedirects checks -follow.
func TestCheckRedirects(t *testing.T) {
	target := httptest.NewServer(checkOrigin(nil))
	defer target.Close()
	srv := httptest.NewServer(http.RedirectHandler(target.URL+"/", http.StatusFound))
	defer srv.Close()
	out, _, err := runCheck(t, checkCommand{}, srv.URL+"/")
	if err != nil || !strings.Contains(out, "status 302") || !strings.Contains(out, "redirect (") {
		t.Errorf("without -follow: %v\n%s", err, out)
	}
	out, _, err = runCheck(t, checkCommand{}, "-follow", srv.URL+"/")
	if err != nil || !strings.Contains(out, "status 200") {
		t.Errorf("with -follow: %v\n%s", err, out)
	}
}

// TestCheckTLS checks -insecure against a self-signed certificate.
func TestCheckTLS(t *testing.T) {
	srv := httptest.NewTLSServer(checkOrigin(nil))
	defer srv.Close()
	out, _, err := runCheck(t, checkCommand{}, srv.URL+"/")
	if err == nil || !strings.Contains(out, "error:") || !strings.Contains(out, "certificate") {
		t.Errorf("verified a self-signed certificate: %v\n%s", err, out)
	}
	out, _, err = runCheck(t, checkCommand{}, "-insecure", srv.URL+"/")
	if err != nil || !strings.Contains(out, "304-no-content") {
		t.Errorf("-insecure: %v\n%s", err, out)
	}
}

// TestCheckFlagErrors checks invocations that cannot run.
func TestCheckFlagErrors(t *testing.T) {
	tests := map[string][]string{
		"no_url":           {},
		"zero_parallel":    {"-c", "0", "http://127.0.0.1:1/"},
		"zero_timeout":     {"-timeout", "0s", "http://127.0.0.1:1/"},
		"unsafe_no_optin":  {"-if-match-method", "DELETE", "http://127.0.0.1:1/"},
		"bad_header":       {"-H", "no colon", "http://127.0.0.1:1/"},
		"probe_header":     {"-H", "If-None-Match: *", "http://127.0.0.1:1/"},
		"missing_file":     {"-f", filepath.Join(t.TempDir(), "none")},
		"negative_repeat":  {"-repeat", "-1", "http://127.0.0.1:1/"},
		"unknown_flag":     {"-nope", "http://127.0.0.1:1/"},
		"header_line_feed": {"-H", "X-A: b\nc", "http://127.0.0.1:1/"},
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			if _, _, err := runCheck(t, checkCommand{}, args...); err == nil {
				t.Error("no error")
			}
		})
	}
	// Through Run, the command is listed and reachable.
	var out bytes.Buffer
	Run(context.Background(), []string{"help"}, io.Discard, &out)
	if !strings.Contains(out.String(), "check") {
		t.Errorf("help does not list check:\n%s", out.String())
	}
}

func TestParseField(t *testing.T) {
	tests := map[string]struct {
		in, name, value string
		ok              bool
	}{
		// RFC 9110 §5.1: a token, a colon, a value.
		"simple": {"Authorization: Bearer x", "Authorization", "Bearer x", true},
		// RFC 9110 §5.5: surrounding whitespace is not part of the value.
		"spaces":      {"X-A:\t v \t", "X-A", "v", true},
		"empty_value": {"X-A:", "X-A", "", true},
		"no_colon":    {"X-A", "", "", false},
		"space_name":  {"X A: v", "", "", false},
		"empty_name":  {": v", "", "", false},
		"nul":         {"X-A: a\x00b", "", "", false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			n, v, err := parseField(tt.in)
			if (err == nil) != tt.ok || n != tt.name || v != tt.value {
				t.Errorf("parseField(%q) = %q, %q, %v", tt.in, n, v, err)
			}
		})
	}
}

// FuzzParseField checks that -H parsing never panics and yields only a
// token name and a value without line breaks.
func FuzzParseField(f *testing.F) {
	for _, s := range []string{"A: b", "A:b", ":", "", "A b: c", "A: b\r\nC: d", "X-Ü: v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, value, err := parseField(s)
		if err != nil {
			return
		}
		if name == "" || strings.ContainsAny(name, " :\t\r\n") || strings.ContainsAny(value, "\r\n\x00") {
			t.Errorf("parseField(%q) = %q, %q", s, name, value)
		}
	})
}

// FuzzReadURLs checks that the URL list reader never panics and returns
// only trimmed, non-comment lines.
func FuzzReadURLs(f *testing.F) {
	for _, s := range []string{"", "http://a/\n# c\n\n  http://b/  ", "\r\n", "#only"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		urls, err := readURLs(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, u := range urls {
			if u == "" || u != strings.TrimSpace(u) || strings.HasPrefix(u, "#") {
				t.Errorf("readURLs(%q) gave %q", s, u)
			}
		}
	})
}
