package precond

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// do sends a request with the given header fields and returns the response
// and its content.
func do(t testing.TB, method, url string, fields ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		req.Header.Add(fields[i], fields[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// seedHandler renders a page the way a dynamic origin would, with the
// fields the seed scenario's CDN sent, and no validator of its own.
type seedHandler struct {
	body    atomic.Value // string
	renders atomic.Int64
}

func (h *seedHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.renders.Add(1)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Expires", "Tue, 21 Nov 2023 09:38:23 GMT")
	w.Header().Set("Vary", "Accept-Encoding")
	w.Header().Set("Content-Location", "/en-US/index.html")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", "en-US")
	io.WriteString(w, h.body.Load().(string))
}

// 304Fields are the fields a 304 must carry when the 200 had them
// (RFC 9110 §15.4.5).
var fields304 = []string{"Cache-Control", "Content-Location", "Etag", "Expires", "Vary"}

// TestSeedScenario is the scenario of the page notmod started from, against
// a dynamic handler wrapped by the middleware.
func TestSeedScenario(t *testing.T) {
	h := &seedHandler{}
	h.body.Store(strings.Repeat("<p>304 Not Modified</p>", 40))
	srv := httptest.NewServer(Middleware(h))
	defer srv.Close()
	url := srv.URL + "/en-US/"

	for _, method := range []string{http.MethodGet, http.MethodHead} {
		t.Run(method, func(t *testing.T) {
			full, body := do(t, method, url)
			if full.StatusCode != 200 {
				t.Fatalf("status %d", full.StatusCode)
			}
			etag := full.Header.Get("Etag")
			if _, ok := ParseETag(etag); !ok {
				t.Fatalf("no valid ETag generated: %q", etag)
			}
			if method == http.MethodGet && string(body) != h.body.Load().(string) {
				t.Fatalf("body altered")
			}
			if method == http.MethodHead && full.ContentLength != int64(len(h.body.Load().(string))) {
				t.Fatalf("HEAD Content-Length %d, want the GET's %d", full.ContentLength, len(h.body.Load().(string)))
			}

			// §13.1.2, §15.4.5: If-None-Match with the ETag gives a 304
			// with the 200's fields and no content.
			nm, body := do(t, method, url, "If-None-Match", etag)
			if nm.StatusCode != http.StatusNotModified {
				t.Fatalf("If-None-Match: status %d, want 304", nm.StatusCode)
			}
			if len(body) != 0 {
				t.Fatalf("304 with content %q", body)
			}
			for _, k := range fields304 {
				if got, want := nm.Header.Values(k), full.Header.Values(k); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("304 %s = %q, want the 200's %q", k, got, want)
				}
			}
			if nm.Header.Get("Date") == "" {
				t.Error("304 without Date")
			}
			for _, k := range []string{"Content-Type", "Content-Length", "Content-Language"} {
				if v, ok := nm.Header[k]; ok {
					t.Errorf("304 carries %s: %q", k, v)
				}
			}
		})
	}

	// A changed resource gives a 200 with the new content and a new tag.
	first, _ := do(t, "GET", url)
	h.body.Store("changed")
	changed, body := do(t, "GET", url, "If-None-Match", first.Header.Get("Etag"))
	if changed.StatusCode != 200 || string(body) != "changed" {
		t.Fatalf("after a change: %d %q, want 200 \"changed\"", changed.StatusCode, body)
	}
	if changed.Header.Get("Etag") == first.Header.Get("Etag") {
		t.Fatal("ETag did not change with the content")
	}
}

// TestSeedIfModifiedSince is the seed's first request: a date in 2050
// against a resource with Last-Modified gives a 304 (RFC 9110 §13.1.3).
func TestSeedIfModifiedSince(t *testing.T) {
	lm := time.Date(2023, 11, 21, 8, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Last-Modified", lm.Format(http.TimeFormat))
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "hello")
	})))
	defer srv.Close()
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		resp, body := do(t, method, srv.URL, "If-Modified-Since", "Tue, 21 Nov 2050 08:00:00 GMT")
		if resp.StatusCode != 304 || len(body) != 0 {
			t.Fatalf("%s: %d %q, want an empty 304", method, resp.StatusCode, body)
		}
		if resp.Header.Get("Last-Modified") == "" || resp.Header.Get("Cache-Control") != "max-age=60" {
			t.Errorf("%s: 304 header %v", method, resp.Header)
		}
		resp, _ = do(t, method, srv.URL, "If-Modified-Since", lm.Add(-time.Hour).Format(http.TimeFormat))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: modified since: %d, want 200", method, resp.StatusCode)
		}
	}
}

func TestMiddleware(t *testing.T) {
	content := "0123456789abcdefghij"
	tag := `"v1"`
	handlers := map[string]http.HandlerFunc{
		// The handler sets its own validators.
		"tagged": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Etag", tag)
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, content)
		},
		// The handler sets none: the middleware makes one from the content.
		"untagged": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, content)
		},
		"weak": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Etag", `W/"v1"`)
			io.WriteString(w, content)
		},
		"notfound": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Etag", tag)
			http.Error(w, "gone", http.StatusNotFound)
		},
	}
	mux := http.NewServeMux()
	for name, h := range handlers {
		mux.Handle("/"+name, h)
	}
	srv := httptest.NewServer(Middleware(mux))
	defer srv.Close()
	untaggedETag := string(ContentETag([]byte(content)))

	tests := map[string]struct {
		path      string
		fields    []string
		status    int
		body      string // checked for GET
		headerKey string
		headerVal string
	}{
		// §13.1.1: a failed If-Match on GET is 412, not 304.
		"if_match_fails":           {"/tagged", []string{"If-Match", `"v0"`}, 412, "", "", ""},
		"if_match_fails_untagged":  {"/untagged", []string{"If-Match", `"v0"`}, 412, "", "", ""},
		"if_match_ok":              {"/tagged", []string{"If-Match", tag}, 200, content, "Etag", tag},
		"if_match_weak_fails":      {"/weak", []string{"If-Match", `W/"v1"`}, 412, "", "", ""},
		"inm_list":                 {"/tagged", []string{"If-None-Match", `"x", "v1"`}, 304, "", "Etag", tag},
		"inm_list_untagged":        {"/untagged", []string{"If-None-Match", `"x", ` + untaggedETag}, 304, "", "Etag", untaggedETag},
		"inm_star":                 {"/untagged", []string{"If-None-Match", `*`}, 304, "", "", ""},
		"inm_weak":                 {"/weak", []string{"If-None-Match", `"v1"`}, 304, "", "", ""},
		"inm_other":                {"/tagged", []string{"If-None-Match", `"v2"`}, 200, content, "", ""},
		"ius_ignored_no_lastmod":   {"/tagged", []string{"If-Unmodified-Since", "Mon, 01 Jan 1990 00:00:00 GMT"}, 200, content, "", ""},
		"not_found_passes_through": {"/notfound", []string{"If-None-Match", tag}, 404, "gone\n", "", ""},
		// §14.2, §15.3.7.1: a single range.
		"range":         {"/untagged", []string{"Range", "bytes=0-4"}, 206, "01234", "Content-Range", "bytes 0-4/20"},
		"range_tagged":  {"/tagged", []string{"Range", "bytes=-3"}, 206, "hij", "Content-Range", "bytes 17-19/20"},
		"range_invalid": {"/untagged", []string{"Range", "bytes=5-1"}, 200, content, "", ""},
		// §15.5.17: 416 with the representation's length.
		"range_unsatisfiable": {"/untagged", []string{"Range", "bytes=50-60"}, 416, "", "Content-Range", "bytes */20"},
		// §13.1.5: If-Range.
		"if_range_match":    {"/tagged", []string{"Range", "bytes=0-1", "If-Range", tag}, 206, "01", "", ""},
		"if_range_other":    {"/tagged", []string{"Range", "bytes=0-1", "If-Range", `"v0"`}, 200, content, "", ""},
		"if_range_weak":     {"/weak", []string{"Range", "bytes=0-1", "If-Range", `W/"v1"`}, 200, content, "", ""},
		"if_range_no_range": {"/tagged", []string{"If-Range", `"v0"`}, 200, content, "", ""},
	}
	for name, tc := range tests {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			t.Run(name+"/"+method, func(t *testing.T) {
				resp, body := do(t, method, srv.URL+tc.path, tc.fields...)
				want := tc.status
				if method == http.MethodHead && (want == 206 || want == 416) {
					want = 200 // §14.2: Range is only defined for GET
				}
				if resp.StatusCode != want {
					t.Fatalf("status %d, want %d", resp.StatusCode, want)
				}
				if method == http.MethodGet && string(body) != tc.body {
					t.Errorf("body %q, want %q", body, tc.body)
				}
				if method == http.MethodHead && len(body) != 0 {
					t.Errorf("HEAD with content %q", body)
				}
				if tc.headerKey != "" && want == tc.status {
					if got := resp.Header.Get(tc.headerKey); got != tc.headerVal {
						t.Errorf("%s = %q, want %q", tc.headerKey, got, tc.headerVal)
					}
				}
				if want == 304 && (resp.Header.Get("Content-Type") != "" || resp.Header.Get("Content-Length") != "") {
					t.Errorf("304 with representation metadata: %v", resp.Header)
				}
			})
		}
	}
}

// TestMultipartRanges checks a multi-range request gets a
// multipart/byteranges body whose parts are the requested bytes
// (RFC 9110 §14.6, §15.3.7.2).
func TestMultipartRanges(t *testing.T) {
	content := strings.Repeat("abcdefghij", 10)
	srv := httptest.NewServer(Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, content)
	})))
	defer srv.Close()
	resp, body := do(t, "GET", srv.URL, "Range", "bytes=0-2, 10-12, -5")
	if resp.StatusCode != 206 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	if resp.ContentLength != int64(len(body)) {
		t.Fatalf("Content-Length %d, body %d bytes", resp.ContentLength, len(body))
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	want := []struct{ cr, data string }{{"bytes 0-2/100", "abc"}, {"bytes 10-12/100", "abc"}, {"bytes 95-99/100", "fghij"}}
	for i, w := range want {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		data, _ := io.ReadAll(p)
		if p.Header.Get("Content-Range") != w.cr || string(data) != w.data || p.Header.Get("Content-Type") != "text/plain" {
			t.Errorf("part %d: %q %q %q", i, p.Header.Get("Content-Range"), p.Header.Get("Content-Type"), data)
		}
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("extra part: %v", err)
	}
}

// TestEarlyCheck shows a handler answering a conditional request from a
// version number without rendering (RFC 9110 §13.2.1).
func TestEarlyCheck(t *testing.T) {
	var renders atomic.Int64
	version := atomic.Int64{}
	version.Store(7)
	updated := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tag, _ := StrongETag(fmt.Sprintf("v%d", version.Load()))
		if Check(w, r, Validators{ETag: tag, LastModified: updated}) {
			return
		}
		renders.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "version %d", version.Load())
	})
	for name, handler := range map[string]http.Handler{"bare": h, "wrapped": Middleware(h)} {
		t.Run(name, func(t *testing.T) {
			renders.Store(0)
			srv := httptest.NewServer(handler)
			defer srv.Close()
			resp, body := do(t, "GET", srv.URL)
			if resp.StatusCode != 200 || string(body) != "version 7" || resp.Header.Get("Etag") != `"v7"` {
				t.Fatalf("first GET: %d %q %v", resp.StatusCode, body, resp.Header)
			}
			resp, _ = do(t, "GET", srv.URL, "If-None-Match", `"v7"`)
			if resp.StatusCode != 304 || renders.Load() != 1 {
				t.Fatalf("conditional GET: %d after %d renders, want 304 after 1", resp.StatusCode, renders.Load())
			}
			resp, _ = do(t, "GET", srv.URL, "If-Modified-Since", "Tue, 21 Nov 2050 08:00:00 GMT")
			if resp.StatusCode != 304 || renders.Load() != 1 {
				t.Fatalf("If-Modified-Since: %d after %d renders", resp.StatusCode, renders.Load())
			}
			resp, _ = do(t, "GET", srv.URL, "If-Match", `"v6"`)
			if resp.StatusCode != 412 || renders.Load() != 1 {
				t.Fatalf("If-Match: %d after %d renders, want 412", resp.StatusCode, renders.Load())
			}
		})
	}
}

// TestUnsafeMethods checks lost-update prevention: a failed If-Match or
// If-Unmodified-Since answers 412 before the handler changes anything
// (RFC 9110 §13.1.1, §13.1.4), and If-None-Match: * refuses to overwrite
// (§13.1.2).
func TestUnsafeMethods(t *testing.T) {
	docs := map[string]string{"/a": "one"}
	var changes atomic.Int64
	current := func(r *http.Request) (Validators, error) {
		d, ok := docs[r.URL.Path]
		if !ok {
			return Validators{Missing: true}, nil
		}
		return Validators{ETag: ContentETag([]byte(d)), LastModified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}, nil
	}
	mw, err := NewMiddleware(Options{Current: current})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		changes.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})))
	defer srv.Close()
	tagA := string(ContentETag([]byte("one")))
	tests := map[string]struct {
		method, path string
		fields       []string
		status       int
		changed      bool
	}{
		"put_if_match_current": {"PUT", "/a", []string{"If-Match", tagA}, 204, true},
		"put_if_match_stale":   {"PUT", "/a", []string{"If-Match", `"stale"`}, 412, false},
		"patch_if_match_weak":  {"PATCH", "/a", []string{"If-Match", "W/" + tagA}, 412, false},
		"delete_ius_old":       {"DELETE", "/a", []string{"If-Unmodified-Since", "Sun, 31 Dec 2023 00:00:00 GMT"}, 412, false},
		"delete_ius_ok":        {"DELETE", "/a", []string{"If-Unmodified-Since", "Mon, 01 Jan 2024 00:00:00 GMT"}, 204, true},
		"put_inm_star_exists":  {"PUT", "/a", []string{"If-None-Match", "*"}, 412, false},
		"put_inm_star_new":     {"PUT", "/b", []string{"If-None-Match", "*"}, 204, true},
		"put_if_match_new":     {"PUT", "/b", []string{"If-Match", "*"}, 412, false},
		"post_unconditional":   {"POST", "/a", nil, 204, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			before := changes.Load()
			resp, _ := do(t, tc.method, srv.URL+tc.path, tc.fields...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := changes.Load() != before; got != tc.changed {
				t.Fatalf("handler ran: %v, want %v", got, tc.changed)
			}
		})
	}
}

// TestPassThrough checks what the middleware leaves alone: a response
// larger than MaxBuffer and a streaming one that flushes.
func TestPassThrough(t *testing.T) {
	mw, err := NewMiddleware(Options{MaxBuffer: 64})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 1000)
	mux := http.NewServeMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 10; i++ {
			io.WriteString(w, big[:100])
		}
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: 1\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through Unwrap: %v", err)
		}
		io.WriteString(w, "data: 2\n\n")
	})
	mux.HandleFunc("/deadline", func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through Unwrap: %v", err)
		}
		io.WriteString(w, "ok")
	})
	srv := httptest.NewServer(mw(mux))
	defer srv.Close()

	resp, body := do(t, "GET", srv.URL+"/big", "Range", "bytes=0-1")
	if resp.StatusCode != 200 || string(body) != big || resp.Header.Get("Etag") != "" {
		t.Fatalf("big: %d, %d bytes, ETag %q", resp.StatusCode, len(body), resp.Header.Get("Etag"))
	}
	resp, body = do(t, "GET", srv.URL+"/stream")
	if resp.StatusCode != 200 || string(body) != "data: 1\n\ndata: 2\n\n" || resp.Header.Get("Etag") != "" {
		t.Fatalf("stream: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = do(t, "GET", srv.URL+"/deadline")
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("deadline: %d %q", resp.StatusCode, body)
	}
	if _, err := NewMiddleware(Options{MaxBuffer: -1}); err == nil {
		t.Fatal("negative MaxBuffer accepted")
	}
}

// TestContentEncodingTags checks that two content codings of the same data
// get different strong tags (RFC 9110 §8.8.3.3).
func TestContentEncodingTags(t *testing.T) {
	srv := httptest.NewServer(Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept-Encoding")
		if r.Header.Get("Accept-Encoding") == "x-upper" {
			w.Header().Set("Content-Encoding", "x-upper")
			io.WriteString(w, "HELLO")
			return
		}
		io.WriteString(w, "hello")
	})))
	defer srv.Close()
	plain, _ := do(t, "GET", srv.URL, "Accept-Encoding", "identity")
	upper, _ := do(t, "GET", srv.URL, "Accept-Encoding", "x-upper")
	if plain.Header.Get("Etag") == upper.Header.Get("Etag") {
		t.Fatal("two codings share one strong tag")
	}
}
