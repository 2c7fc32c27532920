// RFC 9111 §4.2, §4.3.2, §4.3.5, RFC 9213 and Edge Architecture 1.0:
// freshness, age and validation details, end to end.

package proxy_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFreshnessLifetime checks the freshness lifetime and age the proxy
// computes from the origin's fields, as ttl and Age on a hit (RFC 9111
// §4.2.1, §4.2.3).
func TestFreshnessLifetime(t *testing.T) {
	cases := map[string]struct {
		fields  []string // the origin's, besides Date
		date    time.Duration
		wantTTL string
		wantAge string
	}{
		// RFC 9111 §4.2.1: max-age.
		"max-age": {fields: []string{"Cache-Control", "max-age=300"}, wantTTL: "300", wantAge: "0"},
		// RFC 9111 §4.2.1, §5.2.2.10: s-maxage overrides max-age in a
		// shared cache.
		"s-maxage": {fields: []string{"Cache-Control", "max-age=300, s-maxage=100"}, wantTTL: "100", wantAge: "0"},
		// RFC 9213 §2.2: CDN-Cache-Control, which a CDN obeys in place of
		// Cache-Control.
		"CDN-Cache-Control": {fields: []string{"Cache-Control", "max-age=10", "Cdn-Cache-Control", "max-age=200"}, wantTTL: "200", wantAge: "0"},
		// RFC 9111 §4.2.1: max-age overrides Expires.
		"max-age and Expires": {fields: []string{"Cache-Control", "max-age=300", "Expires", httpDate(epoch().Add(time.Hour))}, wantTTL: "300", wantAge: "0"},
		// RFC 9111 §4.2.1: Expires minus Date.
		"Expires": {fields: []string{"Expires", httpDate(epoch().Add(2 * time.Minute))}, wantTTL: "120", wantAge: "0"},
		// RFC 9111 §4.2.3: the Age the origin (or a cache before it) sent.
		"Age": {fields: []string{"Cache-Control", "max-age=300", "Age", "100"}, wantTTL: "200", wantAge: "100"},
		// RFC 9111 §4.2.3: apparent age, from a Date in the past.
		"Date in the past": {fields: []string{"Cache-Control", "max-age=300"}, date: -20 * time.Second, wantTTL: "280", wantAge: "20"},
		// RFC 9111 §4.2.3: the larger of the two.
		"Age and older Date": {fields: []string{"Cache-Control", "max-age=300", "Age", "5"}, date: -20 * time.Second, wantTTL: "280", wantAge: "20"},
	}
	for name, tc := range cases {
		for _, m := range bothMethods() {
			t.Run(name+"/"+m, func(t *testing.T) {
				e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
					for i := 0; i+1 < len(tc.fields); i += 2 {
						w.Header().Set(tc.fields[i], tc.fields[i+1])
					}
					w.Header().Set("Date", httpDate(epoch().Add(tc.date)))
					_, _ = io.WriteString(w, "fresh")
				}, envOptions{})
				r := e.do(t, http.MethodGet, "/f")
				e.check(t, "miss", r, http.MethodGet, 200, "notmod; fwd=uri-miss; fwd-status=200; stored; ttl="+tc.wantTTL, ptr("fresh"))
				r = e.do(t, m, "/f")
				e.check(t, "hit", r, m, 200, "notmod; hit; ttl="+tc.wantTTL, ptr("fresh"))
				if got := r.header.Get("Age"); got != tc.wantAge {
					t.Errorf("hit: Age %q, want %q", got, tc.wantAge)
				}
				e.wantCount(t, "hit", 1)
			})
		}
	}
}

// TestConditionalMiss sends a conditional GET for a URL with nothing
// stored: the cache asks the origin for the full response, stores it, and
// answers the client's condition itself (RFC 9111 §4.3.2).
func TestConditionalMiss(t *testing.T) {
	cases := map[string]struct {
		fields   []string
		wantCode int
	}{
		// RFC 9110 §13.1.2: the client's tag matches the new response.
		"If-None-Match matching": {[]string{"If-None-Match", `"c1"`}, 304},
		// RFC 9110 §13.1.2: it does not.
		"If-None-Match not matching": {[]string{"If-None-Match", `"c0"`}, 200},
		// RFC 9110 §13.1.3: not modified since.
		"If-Modified-Since later": {[]string{"If-Modified-Since", "Tue, 21 Nov 2050 08:00:00 GMT"}, 304},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				if v := r.Header.Get("If-None-Match") + r.Header.Get("If-Modified-Since"); v != "" {
					t.Errorf("origin saw the client's condition %q", v)
				}
				w.Header().Set("Cache-Control", "max-age=60")
				w.Header().Set("Etag", `"c1"`)
				w.Header().Set("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, "conditional content")
			}, envOptions{})
			r := e.do(t, http.MethodGet, "/c", tc.fields...)
			e.check(t, "conditional", r, http.MethodGet, tc.wantCode, "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60", ptr("conditional content"))
			if tc.wantCode == 304 {
				for _, f := range []string{"Content-Type", "Content-Length", "Last-Modified"} {
					if v, ok := r.header[f]; ok {
						t.Errorf("304 carries %s: %q", f, v)
					}
				}
				if r.header.Get("Etag") != `"c1"` || r.header.Get("Cache-Control") != "max-age=60" {
					t.Errorf("304: ETag %q, Cache-Control %q", r.header.Get("Etag"), r.header.Get("Cache-Control"))
				}
			}
			for _, m := range bothMethods() {
				r = e.do(t, m, "/c")
				e.check(t, "plain "+m, r, m, 200, "notmod; hit; ttl=60", ptr("conditional content"))
			}
			e.wantCount(t, "plain", 1)
		})
	}
}

// TestHeadFreshensStoredGet sends a HEAD for a stale stored GET response:
// a 200 with the same validators freshens it; one with another entity tag
// makes it unusable (RFC 9111 §4.3.5).
func TestHeadFreshensStoredGet(t *testing.T) {
	cases := map[string]struct {
		etag     string // of the origin's 200 to HEAD
		wantNext string // Cache-Status of the GET after the HEAD
		count    int64
	}{
		// RFC 9111 §4.3.5: same entity tag: the stored response is updated.
		"same tag": {etag: `"h1"`, wantNext: "notmod; hit; ttl=600", count: 2},
		// RFC 9111 §4.3.5: another tag: the stored response is stale and
		// must not be used.
		"other tag": {etag: `"h2"`, wantNext: "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60", count: 3},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodHead {
					w.Header().Set("Etag", tc.etag)
					w.Header().Set("Cache-Control", "max-age=600")
					w.Header().Set("Content-Length", "9")
					return
				}
				w.Header().Set("Etag", `"h1"`)
				w.Header().Set("Cache-Control", "max-age=60")
				_, _ = io.WriteString(w, "head test")
			}, envOptions{})
			e.do(t, http.MethodGet, "/h")
			e.clock.Advance(2 * time.Minute)
			r := e.do(t, http.MethodHead, "/h")
			if r.code != 200 {
				t.Fatalf("HEAD: status %d", r.code)
			}
			r = e.do(t, http.MethodGet, "/h")
			e.check(t, "GET", r, http.MethodGet, 200, tc.wantNext, ptr("head test"))
			e.wantCount(t, "GET", tc.count)
		})
	}
}

// TestTruncatedOriginResponse makes the origin close the connection
// halfway through the declared content: the incomplete response must
// never be stored as complete (RFC 9111 §3.3).
func TestTruncatedOriginResponse(t *testing.T) {
	full := strings.Repeat("x", 100)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Whole") != "" {
			w.Header().Set("Cache-Control", "max-age=60")
			_, _ = io.WriteString(w, full)
			return
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		_, _ = io.WriteString(buf, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: 100\r\nDate: "+httpDate(epoch())+"\r\n\r\n"+full[:50])
		_ = buf.Flush()
	}, envOptions{})
	if r, err := e.fetch(http.MethodGet, "/t"); err == nil && r.body == full {
		t.Errorf("the truncated content reached the client whole: %d bytes", len(r.body))
	}
	r := e.do(t, http.MethodGet, "/t", "X-Whole", "1")
	e.check(t, "after", r, http.MethodGet, 200, "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60", &full)
	r = e.do(t, http.MethodGet, "/t")
	e.check(t, "then", r, http.MethodGet, 200, "notmod; hit; ttl=60", &full)
	e.wantCount(t, "then", 2)
}

// TestSurrogateControl checks that the proxy announces itself with
// Surrogate-Capability, obeys the Surrogate-Control directives addressed
// to it or to every surrogate in place of Cache-Control, and does not pass
// Surrogate-Control on (W3C Edge Architecture 1.0 §2.2).
func TestSurrogateControl(t *testing.T) {
	cases := map[string]struct {
		surrogate string
		wantTTL   string
	}{
		// Edge Architecture §2.2: addressed to every surrogate.
		"untargeted": {surrogate: "max-age=300", wantTTL: "300"},
		// Edge Architecture §2.2: addressed to this cache by name.
		"targeted": {surrogate: "max-age=300;notmod, max-age=5;other", wantTTL: "300"},
		// Edge Architecture §2.2: addressed to another surrogate only.
		"other surrogate": {surrogate: "max-age=5;other", wantTTL: "10"},
	}
	for name, tc := range cases {
		for _, m := range bothMethods() {
			t.Run(name+"/"+m, func(t *testing.T) {
				e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Cache-Control", "max-age=10")
					w.Header().Set("Surrogate-Control", tc.surrogate)
					_, _ = io.WriteString(w, "surrogate")
				}, envOptions{})
				r := e.do(t, http.MethodGet, "/sc")
				e.check(t, "miss", r, http.MethodGet, 200, "notmod; fwd=uri-miss; fwd-status=200; stored; ttl="+tc.wantTTL, ptr("surrogate"))
				if got := e.lastSeen(t).Header.Get("Surrogate-Capability"); got != `notmod="Surrogate/1.0"` {
					t.Errorf("origin saw Surrogate-Capability %q", got)
				}
				hit := e.do(t, m, "/sc")
				e.check(t, "hit", hit, m, 200, "notmod; hit; ttl="+tc.wantTTL, ptr("surrogate"))
				for _, x := range []reply{r, hit} {
					if v, ok := x.header["Surrogate-Control"]; ok {
						t.Errorf("client got Surrogate-Control %q", v)
					}
				}
			})
		}
	}
}
