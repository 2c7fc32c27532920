// RFC 9111 §3 and §3.5: what a shared cache stores, end to end.

package proxy_test

import (
	"io"
	"net/http"
	"testing"
)

// TestStorability checks which responses the shared cache stores (RFC
// 9111 §3, §3.5) and that Cache-Status says why one was not.
func TestStorability(t *testing.T) {
	cases := map[string]struct {
		cacheControl string
		setCookie    bool
		auth         bool // the requests carry Authorization
		lastModified bool
		detail       string // "" when stored
	}{
		// RFC 9111 §5.2.2.7: a shared cache does not store private.
		"private": {cacheControl: "private, max-age=60", detail: "private"},
		// RFC 9111 §5.2.2.5: no-store.
		"no-store": {cacheControl: "public, no-store, max-age=60", detail: "no-store"},
		// RFC 9111 §3 (and §7.3): a shared cache does not hand one user's
		// cookie to another.
		"Set-Cookie": {cacheControl: "public, max-age=60", setCookie: true, detail: "set-cookie"},
		// RFC 9111 §3.5: Authorization without public, s-maxage or
		// must-revalidate.
		"Authorization": {cacheControl: "max-age=60", auth: true, detail: "authorization"},
		// RFC 9111 §3.5: public allows it.
		"Authorization with public": {cacheControl: "public, max-age=60", auth: true},
		// RFC 9111 §3.5: s-maxage allows it.
		"Authorization with s-maxage": {cacheControl: "s-maxage=60", auth: true},
		// RFC 9111 §3.5: must-revalidate allows it.
		"Authorization with must-revalidate": {cacheControl: "max-age=60, must-revalidate", auth: true},
		// RFC 9111 §3, §4.2.2: no freshness, no validator: nothing to
		// reuse.
		"no freshness information": {detail: "not-cacheable"},
		// RFC 9111 §4.2.2: Last-Modified gives a heuristic lifetime
		// (a tenth of a year here, capped at a day).
		"heuristic": {lastModified: true},
		// RFC 9111 §3: a plain fresh response.
		"max-age": {cacheControl: "max-age=60"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				h := w.Header()
				if tc.cacheControl != "" {
					h.Set("Cache-Control", tc.cacheControl)
				}
				if tc.setCookie {
					h.Set("Set-Cookie", "session=for-"+r.Header.Get("Authorization"))
				}
				if tc.lastModified {
					h.Set("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
				}
				_, _ = io.WriteString(w, "response for "+r.Header.Get("X-User"))
			}, envOptions{})
			fields := func(user string) []string {
				f := []string{"X-User", user}
				if tc.auth {
					f = append(f, "Authorization", "Bearer "+user)
				}
				return f
			}
			ttl := "60"
			if tc.lastModified {
				ttl = "86400"
			}
			first, second := "notmod; fwd=uri-miss; fwd-status=200; stored; ttl="+ttl, "notmod; hit; ttl="+ttl
			body2, count := "response for alice", int64(1)
			if tc.detail != "" {
				first = "notmod; fwd=uri-miss; fwd-status=200; detail=" + tc.detail
				second, body2, count = first, "response for bob", 2
			}
			r := e.do(t, http.MethodGet, "/u", fields("alice")...)
			e.check(t, "alice", r, http.MethodGet, 200, first, ptr("response for alice"))
			r = e.do(t, http.MethodGet, "/u", fields("bob")...)
			e.check(t, "bob", r, http.MethodGet, 200, second, &body2)
			if tc.setCookie && r.header.Get("Set-Cookie") != "session=for-" {
				t.Errorf("bob: Set-Cookie %q", r.header.Get("Set-Cookie"))
			}
			e.wantCount(t, "bob", count)
		})
	}
}

// TestQualifiedPrivate checks that the fields named by private="..." are
// left out of the stored response, which is stored (RFC 9111 §5.2.2.7).
func TestQualifiedPrivate(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", `private="X-Secret", max-age=60`)
		w.Header().Set("X-Secret", "for "+r.Header.Get("X-User"))
		w.Header().Set("X-Public", "everyone")
		_, _ = io.WriteString(w, "shared")
	}, envOptions{})
	r := e.do(t, http.MethodGet, "/q", "X-User", "alice")
	e.check(t, "alice", r, http.MethodGet, 200, "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60", ptr("shared"))
	if r.header.Get("X-Secret") != "for alice" {
		t.Errorf("alice: X-Secret %q, want her own", r.header.Get("X-Secret"))
	}
	for _, m := range bothMethods() {
		r = e.do(t, m, "/q", "X-User", "bob")
		e.check(t, "bob "+m, r, m, 200, "notmod; hit; ttl=60", ptr("shared"))
		if v, ok := r.header["X-Secret"]; ok {
			t.Errorf("bob %s: got alice's X-Secret %q", m, v)
		}
		if r.header.Get("X-Public") != "everyone" {
			t.Errorf("bob %s: X-Public %q", m, r.header.Get("X-Public"))
		}
	}
	e.wantCount(t, "bob", 1)
}
