package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/notmod/notmod/bench/internal/fixture"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(newHandler())
	defer srv.Close()
	obj := fixture.Objects()[0]
	cases := map[string]struct {
		path, inm  string
		wantStatus int
	}{
		// RFC 9110 §15.3.1: a plain GET gets the whole representation.
		"plain": {obj.Path, "", http.StatusOK},
		// RFC 9110 §13.1.2: the current strong tag matches.
		"inm match": {obj.Path, string(obj.ETag), http.StatusNotModified},
		// RFC 9110 §13.1.2: If-None-Match compares weakly.
		"inm weak match": {obj.Path, "W/" + string(obj.ETag), http.StatusNotModified},
		// RFC 9110 §13.1.2: a match anywhere in the list counts.
		"inm list": {obj.Path, `"other", ` + string(obj.ETag), http.StatusNotModified},
		// RFC 9110 §13.1.2: "*" matches any current representation.
		"inm star": {obj.Path, "*", http.StatusNotModified},
		// RFC 9110 §13.1.2: no tag matches, the condition is true.
		"inm other": {obj.Path, `"other"`, http.StatusOK},
		// RFC 9110 §15.5.5: unknown paths are not found.
		"unknown": {"/nope", "", http.StatusNotFound},
	}
	for name, c := range cases {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			t.Run(name+"/"+method, func(t *testing.T) {
				req, _ := http.NewRequest(method, srv.URL+c.path, nil)
				if c.inm != "" {
					req.Header.Set("If-None-Match", c.inm)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != c.wantStatus {
					t.Fatalf("status %d, want %d", resp.StatusCode, c.wantStatus)
				}
				h := resp.Header
				switch c.wantStatus {
				case http.StatusOK:
					if method == http.MethodGet && !bytes.Equal(body, obj.Body) {
						t.Errorf("body differs from the fixture (%d bytes)", len(body))
					}
					for k, v := range map[string]string{
						"ETag": string(obj.ETag), "Cache-Control": fixture.CacheControl,
						"Last-Modified": fixture.LastModified(), "Content-Type": fixture.ContentType,
						"Content-Length": "1024",
					} {
						if h.Get(k) != v {
							t.Errorf("%s: %q, want %q", k, h.Get(k), v)
						}
					}
				case http.StatusNotModified:
					// RFC 9110 §15.4.5: the 200's ETag and Cache-Control,
					// nothing describing a body.
					if h.Get("ETag") != string(obj.ETag) || h.Get("Cache-Control") != fixture.CacheControl {
						t.Errorf("304 fields: %v", h)
					}
					for _, k := range []string{"Content-Type", "Content-Length", "Last-Modified"} {
						if h.Get(k) != "" {
							t.Errorf("304 carries %s: %q", k, h.Get(k))
						}
					}
				}
			})
		}
	}
}
