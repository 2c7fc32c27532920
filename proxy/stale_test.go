// RFC 9111 §4.2.4, RFC 5861 §4 and RFC 9211 §2.5: serving stale when the
// origin fails, end to end.

package proxy_test

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// staleOrigin answers the first request with content and cacheControl,
// and every later one with status and "origin error".
func staleOrigin(cacheControl string, status int) http.HandlerFunc {
	first := true
	return func(w http.ResponseWriter, r *http.Request) {
		if first {
			first = false
			w.Header().Set("Cache-Control", cacheControl)
			w.Header().Set("Etag", `"s1"`)
			_, _ = io.WriteString(w, "stored content")
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "origin error")
	}
}

// TestStaleIfError checks that a stale response is served in place of a
// 5xx when stale-if-error allows it (RFC 5861 §4), and that the error
// passes through otherwise.
func TestStaleIfError(t *testing.T) {
	cases := map[string]struct {
		cacheControl string
		fields       []string // the client's
		originStatus int
		advance      time.Duration
		wantCode     int
		wantStatus   string
	}{
		// RFC 5861 §4: stale by 30 s, allowed 60 s: the stale response.
		"500 within stale-if-error": {
			cacheControl: "max-age=60, stale-if-error=60", originStatus: 500, advance: 90 * time.Second,
			wantCode: 200, wantStatus: "notmod; fwd=stale; fwd-status=500; ttl=-30; detail=stale-if-error",
		},
		// RFC 5861 §4: any 5xx counts as an error.
		"503 within stale-if-error": {
			cacheControl: "max-age=60, stale-if-error=60", originStatus: 503, advance: 90 * time.Second,
			wantCode: 200, wantStatus: "notmod; fwd=stale; fwd-status=503; ttl=-30; detail=stale-if-error",
		},
		// RFC 5861 §4: the request's stale-if-error counts too.
		"500 within the request's stale-if-error": {
			cacheControl: "max-age=60", fields: []string{"Cache-Control", "stale-if-error=60"}, originStatus: 500, advance: 90 * time.Second,
			wantCode: 200, wantStatus: "notmod; fwd=stale; fwd-status=500; ttl=-30; detail=stale-if-error",
		},
		// RFC 5861 §4: stale by 140 s, allowed 60 s: the error.
		"500 past stale-if-error": {
			cacheControl: "max-age=60, stale-if-error=60", originStatus: 500, advance: 200 * time.Second,
			wantCode: 500, wantStatus: "notmod; fwd=stale; fwd-status=500; detail=not-cacheable",
		},
		// RFC 5861 §4: without the directive the error passes through.
		"500 without stale-if-error": {
			cacheControl: "max-age=60", originStatus: 500, advance: 90 * time.Second,
			wantCode: 500, wantStatus: "notmod; fwd=stale; fwd-status=500; detail=not-cacheable",
		},
		// RFC 9111 §4.2.4: must-revalidate forbids serving stale, whatever
		// stale-if-error says.
		"500 with must-revalidate": {
			cacheControl: "max-age=60, must-revalidate, stale-if-error=60", originStatus: 500, advance: 90 * time.Second,
			wantCode: 500, wantStatus: "notmod; fwd=stale; fwd-status=500; detail=not-cacheable",
		},
		// RFC 5861 §4: only 500, 502, 503 and 504 are errors; a 404 is an
		// answer.
		"404 within stale-if-error": {
			cacheControl: "max-age=60, stale-if-error=60", originStatus: 404, advance: 90 * time.Second,
			wantCode: 404, wantStatus: "notmod; fwd=stale; fwd-status=404; detail=not-cacheable",
		},
	}
	for name, tc := range cases {
		for _, m := range bothMethods() {
			t.Run(name+"/"+m, func(t *testing.T) {
				e := newEnv(t, staleOrigin(tc.cacheControl, tc.originStatus), envOptions{})
				e.do(t, http.MethodGet, "/s")
				e.clock.Advance(tc.advance)
				r := e.do(t, m, "/s", tc.fields...)
				body := "stored content"
				if tc.wantCode != 200 {
					body = "origin error"
				}
				want := tc.wantStatus
				if m == http.MethodHead && tc.wantCode != 200 {
					want = "notmod; fwd=stale; fwd-status=" + itoa(tc.originStatus)
				}
				if tc.wantCode == 200 {
					e.check(t, m, r, m, tc.wantCode, want, &body)
				} else {
					// The ttl of the stored response that was not used is
					// TestCacheStatusTTL's business.
					e.check(t, m, r, m, tc.wantCode, "", &body)
					if got := dropTTL(r.status()); got != want {
						t.Errorf("Cache-Status %q, want %q (ttl aside)", r.status(), want)
					}
				}
				if tc.wantCode == 200 {
					if got, want := r.header.Get("Age"), itoa(int(tc.advance/time.Second)); got != want {
						t.Errorf("Age %q, want %q", got, want)
					}
				}
				e.wantCount(t, m, 2)
			})
		}
	}
}

// TestOriginUnreachable closes the origin: a stale response is served
// where RFC 9111 §4.2.4 allows it; where a directive forbids it the client
// gets 504 (RFC 9111 §5.2.2.2: the generated status code SHOULD be 504);
// with nothing stored, 502.
func TestOriginUnreachable(t *testing.T) {
	cases := map[string]struct {
		cacheControl string
		prime        bool
		advance      time.Duration
		wantCode     int
		wantStatus   string
	}{
		// RFC 9111 §4.2.4: disconnected from the origin, a cache may serve
		// a stale response that no directive forbids.
		"stale allowed": {
			cacheControl: "max-age=60", prime: true, advance: 90 * time.Second,
			wantCode: 200, wantStatus: "notmod; fwd=stale; ttl=-30; detail=origin-unreachable",
		},
		// RFC 9111 §5.2.2.2: must-revalidate: an error, SHOULD be 504,
		// never the stale response.
		"must-revalidate": {
			cacheControl: "max-age=60, must-revalidate", prime: true, advance: 90 * time.Second,
			wantCode: 504, wantStatus: "notmod; fwd=stale",
		},
		// RFC 9111 §5.2.2.10: s-maxage implies proxy-revalidate in a
		// shared cache.
		"s-maxage": {
			cacheControl: "s-maxage=60", prime: true, advance: 90 * time.Second,
			wantCode: 504, wantStatus: "notmod; fwd=stale",
		},
		// RFC 9111 §4.2.4, §5.2.2.4: no-cache forbids use without
		// validation.
		"no-cache": {
			cacheControl: "no-cache, max-age=60", prime: true,
			wantCode: 504, wantStatus: "notmod; fwd=stale",
		},
		// RFC 9111 §4.2: a fresh response needs no origin.
		"fresh": {
			cacheControl: "max-age=60", prime: true, advance: 30 * time.Second,
			wantCode: 200, wantStatus: "notmod; hit; ttl=30",
		},
		// RFC 9110 §15.6.3: nothing stored, no answer: 502.
		"nothing stored": {wantCode: 502, wantStatus: "notmod; fwd=uri-miss"},
	}
	for name, tc := range cases {
		for _, m := range bothMethods() {
			t.Run(name+"/"+m, func(t *testing.T) {
				e := newEnv(t, staleOrigin(tc.cacheControl, 200), envOptions{})
				if tc.prime {
					e.do(t, http.MethodGet, "/s")
				}
				e.origin.Close()
				e.clock.Advance(tc.advance)
				r := e.do(t, m, "/s")
				body := "stored content"
				if tc.wantCode == 200 {
					e.check(t, m, r, m, tc.wantCode, tc.wantStatus, &body)
					return
				}
				body = http.StatusText(tc.wantCode) + "\n"
				e.check(t, m, r, m, tc.wantCode, "", &body)
				if got := dropTTL(r.status()); got != tc.wantStatus {
					t.Errorf("Cache-Status %q, want %q (ttl aside)", r.status(), tc.wantStatus)
				}
			})
		}
	}
}

// TestOriginHang makes the origin accept requests and never answer: the
// client gets a 504 once proxy.Options.ResponseTimeout has passed, or a
// stale response where one may be served (RFC 9111 §4.2.4).
func TestOriginHang(t *testing.T) {
	const timeout = 200 * time.Millisecond
	cases := map[string]struct {
		prime      bool
		wantCode   int
		wantStatus string
	}{
		// RFC 9110 §15.6.5: the gateway did not get a timely response.
		"nothing stored": {wantCode: 504, wantStatus: "notmod; fwd=uri-miss"},
		// RFC 9111 §4.2.4: a stale response while the origin cannot be
		// reached.
		"stale stored": {prime: true, wantCode: 200, wantStatus: "notmod; fwd=stale; ttl=-30; detail=origin-unreachable"},
	}
	for name, tc := range cases {
		for _, m := range bothMethods() {
			t.Run(name+"/"+m, func(t *testing.T) {
				release := make(chan struct{})
				first := true
				e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
					if tc.prime && first {
						first = false
						w.Header().Set("Cache-Control", "max-age=60")
						_, _ = io.WriteString(w, "stored content")
						return
					}
					select {
					case <-r.Context().Done():
					case <-release:
					}
				}, envOptions{proxy: proxyOptions(timeout)})
				t.Cleanup(func() { close(release) })
				if tc.prime {
					e.do(t, http.MethodGet, "/hang")
					e.clock.Advance(90 * time.Second)
				}
				start := time.Now()
				r := e.do(t, m, "/hang")
				took := time.Since(start)
				body := "stored content"
				if tc.wantCode != 200 {
					body = http.StatusText(tc.wantCode) + "\n"
				}
				e.check(t, m, r, m, tc.wantCode, tc.wantStatus, &body)
				if took < timeout || took > timeout+2*time.Second {
					t.Errorf("answered after %v, want about %v", took, timeout)
				}
			})
		}
	}
}

// TestCacheStatusTTL checks that the ttl of Cache-Status describes the
// response it is sent with (RFC 9211 §2.5: "the response's remaining
// freshness lifetime"): a response from the origin that is not stored, or
// an error the cache generates, has no freshness lifetime of its own, and
// must not carry the ttl of a stored response that was not used.
func TestCacheStatusTTL(t *testing.T) {
	cases := map[string]struct {
		cacheControl string
		status       int
		closeOrigin  bool
		fields       []string // the client's
		wantCode     int
	}{
		// RFC 9211 §2.5, RFC 5861 §4: a 500 passed through.
		"500 passed through": {cacheControl: "max-age=60", status: 500, wantCode: 500},
		// RFC 9211 §2.5: a 404 replacing the stale response.
		"404 passed through": {cacheControl: "max-age=60", status: 404, wantCode: 404},
		// RFC 9211 §2.5, RFC 9111 §5.2.2.2: the cache's own 504.
		"504 for must-revalidate": {cacheControl: "max-age=60, must-revalidate", status: 200, closeOrigin: true, wantCode: 504},
		// RFC 9211 §2.5, RFC 9111 §5.2.1.7: the cache's own 504.
		"504 for only-if-cached": {cacheControl: "max-age=60", status: 200, fields: []string{"Cache-Control", "only-if-cached"}, wantCode: 504},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, staleOrigin(tc.cacheControl, tc.status), envOptions{})
			e.do(t, http.MethodGet, "/s")
			e.clock.Advance(90 * time.Second)
			if tc.closeOrigin {
				e.origin.Close()
			}
			r := e.do(t, http.MethodGet, "/s", tc.fields...)
			e.check(t, "stale GET", r, http.MethodGet, tc.wantCode, "", nil)
			if got := r.status(); got != dropTTL(got) {
				t.Errorf("Cache-Status %q: a ttl for a response that is not the stored one", got)
			}
		})
	}
}
