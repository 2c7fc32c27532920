// RFC 9111 §4.4: invalidation by unsafe methods, end to end.

package proxy_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
)

// TestInvalidation sends an unsafe request through the proxy and checks
// which stored responses it invalidated (RFC 9111 §4.4).
func TestInvalidation(t *testing.T) {
	type answer struct {
		status   int
		location string // "@" stands for the proxy's own authority
		contLoc  string
	}
	cases := map[string]struct {
		method  string
		answer  answer
		invalid []string // stored paths that must be misses afterwards
	}{
		// RFC 9111 §4.4: a non-error response to POST invalidates the
		// target URI.
		"POST 200": {method: http.MethodPost, answer: answer{status: 200}, invalid: []string{"/a"}},
		// RFC 9111 §4.4: and the same-origin Location and Content-Location.
		"POST 201 with Location and Content-Location": {
			method: http.MethodPost, answer: answer{status: 201, location: "/b", contLoc: "/c"},
			invalid: []string{"/a", "/b", "/c"},
		},
		// RFC 9111 §4.4: a Location with the same scheme and authority.
		"POST 201 with absolute same-origin Location": {
			method: http.MethodPost, answer: answer{status: 201, location: "http://@/b"},
			invalid: []string{"/a", "/b"},
		},
		// RFC 9111 §4.4: a cache MUST NOT invalidate URIs of another
		// origin (a denial-of-service vector).
		"POST 201 with Location on another origin": {
			method: http.MethodPost, answer: answer{status: 201, location: "http://other.example/b"},
			invalid: []string{"/a"},
		},
		// RFC 9111 §4.4: a relative reference resolves against the target.
		"POST 201 with relative Content-Location": {
			method: http.MethodPost, answer: answer{status: 201, contLoc: "c"},
			invalid: []string{"/a", "/c"},
		},
		// RFC 9111 §4.4: a 3xx is a non-error status.
		"POST 303": {method: http.MethodPost, answer: answer{status: 303, location: "/b"}, invalid: []string{"/a", "/b"}},
		// RFC 9111 §4.4: every unsafe method.
		"PUT 204":    {method: http.MethodPut, answer: answer{status: 204}, invalid: []string{"/a"}},
		"DELETE 200": {method: http.MethodDelete, answer: answer{status: 200}, invalid: []string{"/a"}},
		"PATCH 200":  {method: http.MethodPatch, answer: answer{status: 200}, invalid: []string{"/a"}},
		// RFC 9111 §4.4: only a non-error status invalidates.
		"POST 404": {method: http.MethodPost, answer: answer{status: 404, location: "/b"}},
		"POST 500": {method: http.MethodPost, answer: answer{status: 500, contLoc: "/c"}},
		"POST 409": {method: http.MethodPost, answer: answer{status: 409}},
	}
	stored := []string{"/a", "/b", "/c"}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				h := w.Header()
				if r.Method == http.MethodGet {
					h.Set("Cache-Control", "max-age=600")
					_, _ = io.WriteString(w, "content of "+r.URL.Path)
					return
				}
				if tc.answer.location != "" {
					h.Set("Location", replaceAt(tc.answer.location, r.Header.Get("X-Forwarded-Host")))
				}
				if tc.answer.contLoc != "" {
					h.Set("Content-Location", replaceAt(tc.answer.contLoc, r.Header.Get("X-Forwarded-Host")))
				}
				w.WriteHeader(tc.answer.status)
			}, envOptions{})
			for _, p := range stored {
				e.do(t, http.MethodGet, p)
				r := e.do(t, http.MethodGet, p)
				e.check(t, "stored "+p, r, http.MethodGet, 200, "notmod; hit; ttl=600", ptr("content of "+p))
			}
			e.wantCount(t, "stored", 3)

			r := e.do(t, tc.method, "/a")
			e.check(t, tc.method, r, tc.method, tc.answer.status, "notmod; fwd=method; fwd-status="+itoa(tc.answer.status), nil)
			e.wantCount(t, tc.method, 4)

			count := int64(4)
			for _, p := range stored {
				r := e.do(t, http.MethodGet, p)
				want := "notmod; hit; ttl=600"
				if slices.Contains(tc.invalid, p) {
					want = "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=600"
					count++
				}
				e.check(t, "GET "+p, r, http.MethodGet, 200, want, ptr("content of "+p))
			}
			e.wantCount(t, "afterwards", count)
		})
	}
}

// replaceAt replaces a leading "http://@" with the given authority.
func replaceAt(s, authority string) string {
	if len(s) >= 8 && s[:8] == "http://@" {
		return "http://" + authority + s[8:]
	}
	return s
}

// TestInvalidationOfVariants checks that invalidating a URL makes every
// stored variant of it unusable (RFC 9111 §4.4: "the cache MUST
// invalidate the target URI", i.e. all its stored responses, whatever
// their secondary keys), also after another variant is stored again.
func TestInvalidationOfVariants(t *testing.T) {
	var version atomic.Int64
	version.Store(1)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			version.Add(1)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		lang := r.Header.Get("Accept-Language")
		w.Header().Set("Vary", "Accept-Language")
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = fmt.Fprintf(w, "%s v%d", lang, version.Load())
	}, envOptions{})
	langs := []string{"en", "fr", "de"}
	for _, lang := range langs {
		e.do(t, http.MethodGet, "/greeting", "Accept-Language", lang)
		r := e.do(t, http.MethodGet, "/greeting", "Accept-Language", lang)
		e.check(t, "stored "+lang, r, http.MethodGet, 200, "notmod; hit; ttl=60", ptr(lang+" v1"))
	}
	r := e.do(t, http.MethodPost, "/greeting")
	e.check(t, "POST", r, http.MethodPost, 204, "notmod; fwd=method; fwd-status=204", nil)
	for i, lang := range langs {
		r := e.do(t, http.MethodGet, "/greeting", "Accept-Language", lang)
		fwd := "vary-miss"
		if i == 0 {
			fwd = "uri-miss"
		}
		e.check(t, lang+" after POST", r, http.MethodGet, 200, "notmod; fwd="+fwd+"; fwd-status=200; stored; ttl=60", ptr(lang+" v2"))
	}
	e.wantCount(t, "after POST", 7)
}
