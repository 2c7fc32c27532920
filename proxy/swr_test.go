// RFC 5861 §3: stale-while-revalidate, end to end.

package proxy_test

import (
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestStaleWhileRevalidate checks that within the stale-while-revalidate
// window a stale response is served at once while one background request
// validates it (RFC 5861 §3), and that otherwise the request waits for
// validation.
func TestStaleWhileRevalidate(t *testing.T) {
	const swr = "max-age=60, stale-while-revalidate=60"
	cases := map[string]struct {
		cacheControl string
		advance      time.Duration
		background   bool
		changed      bool   // the origin has new content, sent as a 200
		wantNext     string // content after validation
		wantSync     string // Cache-Status when validation is not in the background
	}{
		// RFC 5861 §3: stale by 30 s, window of 60 s; the origin's 304
		// refreshes the stored response.
		"within the window, 304": {cacheControl: swr, advance: 90 * time.Second, background: true, wantNext: "first content"},
		// RFC 5861 §3, RFC 9111 §4.3.3: the origin's 200 replaces it.
		"within the window, 200": {cacheControl: swr, advance: 90 * time.Second, background: true, changed: true, wantNext: "second content"},
		// RFC 5861 §3: stale by 140 s: validate before serving.
		"past the window": {cacheControl: swr, advance: 200 * time.Second, wantNext: "first content",
			wantSync: "notmod; fwd=stale; fwd-status=304; stored; ttl=600"},
		// RFC 9111 §4.2.4, §5.2.2.2: must-revalidate forbids serving stale.
		"must-revalidate": {cacheControl: swr + ", must-revalidate", advance: 90 * time.Second, wantNext: "first content",
			wantSync: "notmod; fwd=stale; fwd-status=304; stored; ttl=600"},
	}
	for name, tc := range cases {
		for _, m := range bothMethods() {
			t.Run(name+"/"+m, func(t *testing.T) {
				arrived := make(chan struct{}, 1)
				release := make(chan struct{})
				e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
					h := w.Header()
					if r.Header.Get("If-None-Match") != `"w1"` {
						h.Set("Etag", `"w1"`)
						h.Set("Cache-Control", tc.cacheControl)
						_, _ = io.WriteString(w, "first content")
						return
					}
					if tc.background {
						arrived <- struct{}{}
						if !within(release, 5*time.Second) {
							t.Error("origin: not released")
						}
					}
					h.Set("Cache-Control", "max-age=600, stale-while-revalidate=60")
					h.Set("X-Validated", "yes")
					if tc.changed {
						h.Set("Etag", `"w2"`)
						_, _ = io.WriteString(w, "second content")
						return
					}
					h.Set("Etag", `"w1"`)
					w.WriteHeader(http.StatusNotModified)
				}, envOptions{})
				e.do(t, http.MethodGet, "/swr")
				if !within(e.stored, 5*time.Second) {
					t.Fatal("the first response was not stored")
				}
				e.clock.Advance(tc.advance)

				if !tc.background {
					r := e.do(t, m, "/swr")
					e.check(t, "stale", r, m, 200, tc.wantSync, ptr(tc.wantNext))
					e.wantCount(t, "stale", 2)
					return
				}
				// Served stale at once, while the origin holds the
				// background request: no request waits for it, and no
				// second one is sent.
				for i := range 3 {
					r := e.do(t, m, "/swr")
					e.check(t, "stale "+itoa(i), r, m, 200, "notmod; hit; ttl=-30", ptr("first content"))
					if got := r.header.Get("Age"); got != "90" {
						t.Errorf("stale %d: Age %q, want 90", i, got)
					}
					if i == 0 && !within(arrived, 5*time.Second) {
						t.Fatal("no background request reached the origin")
					}
				}
				e.wantCount(t, "while validating", 2)
				close(release)
				if tc.changed {
					if !within(e.stored, 5*time.Second) {
						t.Fatal("the background 200 was not stored")
					}
				} else if !within(e.revalidated, 5*time.Second) {
					t.Fatal("the background 304 did not refresh the stored response")
				}
				seen := e.lastSeen(t)
				if seen.Method != http.MethodGet || !slices.Equal(seen.Header.Values("If-None-Match"), []string{`"w1"`}) {
					t.Errorf("background request: %s with If-None-Match %q, want GET with \"w1\"", seen.Method, seen.Header.Values("If-None-Match"))
				}
				r := e.do(t, m, "/swr")
				e.check(t, "after validation", r, m, 200, "notmod; hit; ttl=600", ptr(tc.wantNext))
				if r.header.Get("X-Validated") != "yes" || r.header.Get("Cache-Control") != "max-age=600, stale-while-revalidate=60" {
					t.Errorf("after validation: X-Validated %q, Cache-Control %q: not the origin's new fields", r.header.Get("X-Validated"), r.header.Get("Cache-Control"))
				}
				e.wantCount(t, "after validation", 2)
			})
		}
	}
}

// TestBackgroundRevalidationHopByHop checks that the request the cache
// makes on its own to revalidate in the background carries none of the
// client's hop-by-hop fields, nor those its Connection names (RFC 9110
// §7.6.1), as a forwarded request does not.
func TestBackgroundRevalidationHopByHop(t *testing.T) {
	got := make(chan http.Header, 1)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Etag", `"h1"`)
		w.Header().Set("Cache-Control", "max-age=60, stale-while-revalidate=60")
		if r.Header.Get("If-None-Match") == `"h1"` {
			got <- r.Header.Clone()
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = io.WriteString(w, "content")
	}, envOptions{})
	e.do(t, http.MethodGet, "/hop")
	if !within(e.stored, 5*time.Second) {
		t.Fatal("not stored")
	}
	e.clock.Advance(90 * time.Second)
	e.do(t, http.MethodGet, "/hop", "Connection", "X-Secret", "X-Secret", "1", "Keep-Alive", "timeout=5",
		"Te", "trailers", "Proxy-Authorization", "Basic eDp5", "X-Kept", "yes")
	select {
	case h := <-got:
		for _, f := range []string{"X-Secret", "Keep-Alive", "Te", "Proxy-Authorization", "Connection"} {
			if v, ok := h[f]; ok {
				t.Errorf("the background revalidation carried %s: %q", f, v)
			}
		}
		if h.Get("X-Kept") != "yes" {
			t.Errorf("the background revalidation lost an end-to-end field: %v", h)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no background revalidation")
	}
}
