// RFC 9111 §5.2.1: request cache directives, end to end.

package proxy_test

import (
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// directivesOrigin serves a response fresh for 60 s with validators, and
// answers a matching If-None-Match with a 304.
func directivesOrigin(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "max-age=60")
	h.Set("Etag", `"d1"`)
	if r.Header.Get("If-None-Match") == `"d1"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = io.WriteString(w, "directed content")
}

// TestRequestDirectives checks the request Cache-Control directives
// (RFC 9111 §5.2.1) against a response stored fresh for 60 s.
func TestRequestDirectives(t *testing.T) {
	const revalidated = "notmod; fwd=request; fwd-status=304; stored; ttl=60"
	cases := map[string]struct {
		prime      bool
		advance    time.Duration
		fields     []string
		wantCode   int
		wantStatus string
		wantOrigin int64 // requests the origin saw, priming included
		validated  bool  // the origin saw If-None-Match: "d1"
	}{
		// RFC 9111 §5.2.1.4: no-cache: validate before using the stored
		// response.
		"no-cache": {prime: true, fields: []string{"Cache-Control", "no-cache"},
			wantCode: 200, wantStatus: revalidated, wantOrigin: 2, validated: true},
		// RFC 9111 §5.4: Pragma: no-cache without Cache-Control is no-cache.
		"Pragma no-cache": {prime: true, fields: []string{"Pragma", "no-cache"},
			wantCode: 200, wantStatus: revalidated, wantOrigin: 2, validated: true},
		// RFC 9111 §5.4: Cache-Control present, Pragma is ignored.
		"Pragma no-cache with Cache-Control": {prime: true, fields: []string{"Pragma", "no-cache", "Cache-Control", "max-stale=10"},
			wantCode: 200, wantStatus: "notmod; hit; ttl=60", wantOrigin: 1},
		// RFC 9111 §5.2.1.1: max-age=0 refuses a response of age 1.
		"max-age=0": {prime: true, advance: time.Second, fields: []string{"Cache-Control", "max-age=0"},
			wantCode: 200, wantStatus: revalidated, wantOrigin: 2, validated: true},
		// RFC 9111 §5.2.1.1: a response younger than max-age is used.
		"max-age=30 at age 10": {prime: true, advance: 10 * time.Second, fields: []string{"Cache-Control", "max-age=30"},
			wantCode: 200, wantStatus: "notmod; hit; ttl=50", wantOrigin: 1},
		// RFC 9111 §5.2.1.3: fresh for 10 s more, the client wants 20.
		"min-fresh": {prime: true, advance: 50 * time.Second, fields: []string{"Cache-Control", "min-fresh=20"},
			wantCode: 200, wantStatus: revalidated, wantOrigin: 2, validated: true},
		// RFC 9111 §5.2.1.7: nothing stored: 504, the origin is not asked.
		"only-if-cached miss": {fields: []string{"Cache-Control", "only-if-cached"},
			wantCode: 504, wantStatus: "notmod", wantOrigin: 0},
		// RFC 9111 §5.2.1.7: a fresh stored response is used.
		"only-if-cached hit": {prime: true, fields: []string{"Cache-Control", "only-if-cached"},
			wantCode: 200, wantStatus: "notmod; hit; ttl=60", wantOrigin: 1},
		// RFC 9111 §5.2.1.7, §4.2.4: a stale one may not be used without
		// the client's leave: 504.
		"only-if-cached stale": {prime: true, advance: 90 * time.Second, fields: []string{"Cache-Control", "only-if-cached"},
			wantCode: 504, wantStatus: "notmod", wantOrigin: 1},
		// RFC 9111 §5.2.1.7, §5.2.1.2: with max-stale it may.
		"only-if-cached max-stale": {prime: true, advance: 90 * time.Second, fields: []string{"Cache-Control", "only-if-cached, max-stale=60"},
			wantCode: 200, wantStatus: "notmod; hit; ttl=-30", wantOrigin: 1},
		// RFC 9111 §5.2.1.2: stale by 30 s, the client accepts 60.
		"max-stale=60": {prime: true, advance: 90 * time.Second, fields: []string{"Cache-Control", "max-stale=60"},
			wantCode: 200, wantStatus: "notmod; hit; ttl=-30", wantOrigin: 1},
		// RFC 9111 §5.2.1.2: max-stale without a value accepts any
		// staleness.
		"max-stale": {prime: true, advance: 50 * time.Minute, fields: []string{"Cache-Control", "max-stale"},
			wantCode: 200, wantStatus: "notmod; hit; ttl=-2940", wantOrigin: 1},
		// RFC 9111 §5.2.1.2: stale by 30 s, the client accepts 10.
		"max-stale=10": {prime: true, advance: 90 * time.Second, fields: []string{"Cache-Control", "max-stale=10"},
			wantCode: 200, wantStatus: "notmod; fwd=stale; fwd-status=304; stored; ttl=60", wantOrigin: 2, validated: true},
		// RFC 9111 §5.2.1.5: no-store forbids storing, not using a stored
		// response.
		"no-store on a hit": {prime: true, fields: []string{"Cache-Control", "no-store"},
			wantCode: 200, wantStatus: "notmod; hit; ttl=60", wantOrigin: 1},
	}
	for name, tc := range cases {
		for _, m := range bothMethods() {
			t.Run(name+"/"+m, func(t *testing.T) {
				e := newEnv(t, directivesOrigin, envOptions{})
				if tc.prime {
					e.do(t, http.MethodGet, "/d")
				}
				e.clock.Advance(tc.advance)
				r := e.do(t, m, "/d", tc.fields...)
				body := "directed content"
				if tc.wantCode == 504 {
					// The cache's own 504: its ttl is TestCacheStatusTTL's
					// business.
					body = "not in cache (only-if-cached)\n"
					e.check(t, m, r, m, tc.wantCode, "", &body)
					if got := dropTTL(r.status()); got != tc.wantStatus {
						t.Errorf("Cache-Status %q, want %q (ttl aside)", r.status(), tc.wantStatus)
					}
				} else {
					e.check(t, m, r, m, tc.wantCode, tc.wantStatus, &body)
				}
				e.wantCount(t, m, tc.wantOrigin)
				if tc.validated {
					seen := e.lastSeen(t)
					if got := seen.Header.Values("If-None-Match"); !slices.Equal(got, []string{`"d1"`}) || seen.Method != m {
						t.Errorf("origin saw %s with If-None-Match %q, want %s with \"d1\"", seen.Method, got, m)
					}
				}
			})
		}
	}
}

// TestRequestNoStore checks that a response to a request with no-store is
// not stored (RFC 9111 §5.2.1.5).
func TestRequestNoStore(t *testing.T) {
	e := newEnv(t, directivesOrigin, envOptions{})
	r := e.do(t, http.MethodGet, "/d", "Cache-Control", "no-store")
	e.check(t, "no-store", r, http.MethodGet, 200, "notmod; fwd=uri-miss; fwd-status=200; detail=no-store", ptr("directed content"))
	r = e.do(t, http.MethodGet, "/d")
	e.check(t, "next", r, http.MethodGet, 200, "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60", ptr("directed content"))
	r = e.do(t, http.MethodGet, "/d")
	e.check(t, "then", r, http.MethodGet, 200, "notmod; hit; ttl=60", ptr("directed content"))
	e.wantCount(t, "then", 2)
}
