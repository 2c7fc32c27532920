package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/notmod/notmod/bench/internal/fixture"
)

func TestOrigin(t *testing.T) {
	srv := httptest.NewServer(newOrigin())
	defer srv.Close()
	obj := fixture.Objects()[1]
	cases := map[string]struct {
		path, inm  string
		wantStatus int
	}{
		// RFC 9110 §15.3.1: a plain GET gets the whole representation.
		"plain": {obj.Path, "", http.StatusOK},
		// RFC 9110 §13.1.2: the current tag matches: 304.
		"inm match": {obj.Path, string(obj.ETag), http.StatusNotModified},
		// RFC 9110 §13.1.2: no tag matches: 200.
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
				if c.wantStatus == http.StatusNotFound {
					return
				}
				if resp.Header.Get("ETag") != string(obj.ETag) || resp.Header.Get("Cache-Control") != fixture.CacheControl {
					t.Errorf("fields: %v", resp.Header)
				}
				if c.wantStatus == http.StatusOK {
					if method == http.MethodGet && !bytes.Equal(body, obj.Body) {
						t.Errorf("body differs from the fixture (%d bytes)", len(body))
					}
					if resp.Header.Get("Last-Modified") != fixture.LastModified() {
						t.Errorf("Last-Modified: %q", resp.Header.Get("Last-Modified"))
					}
				}
			})
		}
	}

	// Every request above but /_stats is counted: 8 cases on the object,
	// 2 on an unknown path.
	resp, err := http.Get(srv.URL + "/_stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	want := stats{Total: 8, Other: 2}
	if s.Total != want.Total || s.Other != want.Other {
		t.Errorf("stats total %d other %d, want %d and %d", s.Total, s.Other, want.Total, want.Other)
	}
	if p := s.Paths[obj.Path]; p.OK != 4 || p.NotModified != 2 {
		t.Errorf("stats for %s: %+v, want 4 200s and 2 304s", obj.Path, p)
	}
}
