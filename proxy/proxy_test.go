// RFC 9110 §13.1.2, §13.1.3, §15.4.5 and RFC 9111 §4.3: the seed
// scenario and revalidation, end to end.

package proxy_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// The seed page: a 200 with every field a 304 must repeat (RFC 9110
// §15.4.5) and a Last-Modified it must not.
const (
	seedETag         = `"e27d81b845c3716cdb5d4220d78e2799"`
	seedLastModified = "Wed, 21 Oct 2015 07:28:00 GMT"
	seedBody         = "<!doctype html><title>304 Not Modified</title><p>seed page</p>\n"
)

func seedOrigin(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Etag", seedETag)
	h.Set("Last-Modified", seedLastModified)
	h.Set("Expires", httpDate(epoch().Add(time.Hour)))
	h.Set("Vary", "Accept-Encoding")
	h.Set("Content-Location", "/seed.html")
	h.Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, seedBody)
}

// fields304 are the fields a 304 carries exactly as the 200 would have
// (RFC 9110 §15.4.5); Last-Modified is left out since there is an ETag.
func fields304() []string {
	return []string{"Cache-Control", "Content-Location", "Date", "Etag", "Expires", "Vary"}
}

// TestSeed runs the scenario notmod started from through the proxy: the
// seed page is fetched once, then every request, conditional or not, is
// answered from the cache, with a 304 exactly when the client's conditions
// say so.
func TestSeed(t *testing.T) {
	e := newEnv(t, seedOrigin, envOptions{})

	miss := e.do(t, http.MethodGet, "/seed")
	e.check(t, "first GET", miss, http.MethodGet, http.StatusOK, "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=3600", ptr(seedBody))
	hit := e.do(t, http.MethodGet, "/seed")
	e.check(t, "second GET", hit, http.MethodGet, http.StatusOK, "notmod; hit; ttl=3600", ptr(seedBody))
	if got := hit.header.Get("Age"); got != "0" {
		t.Errorf("second GET: Age %q, want \"0\"", got)
	}
	for _, f := range append(fields304(), "Last-Modified", "Content-Type") {
		if got, want := hit.header.Values(f), miss.header.Values(f); !slices.Equal(got, want) {
			t.Errorf("hit: %s %q, the origin's 200 had %q", f, got, want)
		}
	}
	e.wantCount(t, "after the hit", 1)
	e.clock.Advance(10 * time.Second)

	cases := map[string]struct {
		fields []string
		want   int
	}{
		// RFC 9110 §13.1.2: the stored ETag matches: 304.
		"If-None-Match stored tag": {[]string{"If-None-Match", seedETag}, http.StatusNotModified},
		// RFC 9110 §13.1.2, §8.8.3.2: If-None-Match compares weakly.
		"If-None-Match weak form of stored tag": {[]string{"If-None-Match", "W/" + seedETag}, http.StatusNotModified},
		// RFC 9110 §13.1.2: a list with the stored tag among others.
		"If-None-Match list": {[]string{"If-None-Match", `"x", ` + seedETag + `, "y"`}, http.StatusNotModified},
		// RFC 9110 §13.1.2: "*" matches any current representation.
		"If-None-Match star": {[]string{"If-None-Match", "*"}, http.StatusNotModified},
		// RFC 9110 §13.1.2: no tag matches: the full response.
		"If-None-Match other tag": {[]string{"If-None-Match", `"other"`}, http.StatusOK},
		// RFC 9110 §13.1.3: not modified since a date in 2050 (the seed's curl example).
		"If-Modified-Since 2050": {[]string{"If-Modified-Since", "Tue, 21 Nov 2050 08:00:00 GMT"}, http.StatusNotModified},
		// RFC 9110 §13.1.3: Last-Modified exactly: not modified.
		"If-Modified-Since Last-Modified": {[]string{"If-Modified-Since", seedLastModified}, http.StatusNotModified},
		// RFC 9110 §13.1.3: modified since a date before Last-Modified.
		"If-Modified-Since earlier": {[]string{"If-Modified-Since", "Tue, 20 Oct 2015 07:28:00 GMT"}, http.StatusOK},
		// RFC 9110 §13.1.3: an invalid date is ignored.
		"If-Modified-Since invalid": {[]string{"If-Modified-Since", "not a date"}, http.StatusOK},
		// RFC 9110 §13.2.2 step 4: If-Modified-Since is ignored when
		// If-None-Match is present, and the tag does not match.
		"If-None-Match other with If-Modified-Since 2050": {[]string{"If-None-Match", `"other"`, "If-Modified-Since", "Tue, 21 Nov 2050 08:00:00 GMT"}, http.StatusOK},
		// RFC 9110 §15.4.5: a request without conditionals never gets a 304.
		"no conditionals": {nil, http.StatusOK},
	}
	for name, tc := range cases {
		for _, m := range bothMethods() {
			t.Run(name+"/"+m, func(t *testing.T) {
				r := e.do(t, m, "/seed", tc.fields...)
				e.check(t, m, r, m, tc.want, "notmod; hit; ttl=3590", ptr(seedBody))
				if got := r.header.Get("Age"); got != "10" {
					t.Errorf("Age %q, want \"10\"", got)
				}
				if tc.want == http.StatusOK {
					if r.length != int64(len(seedBody)) {
						t.Errorf("Content-Length %d, want %d", r.length, len(seedBody))
					}
					return
				}
				// RFC 9110 §15.4.5: the fields of the 200, and no
				// representation metadata for content the 304 lacks.
				for _, f := range fields304() {
					if got, want := r.header.Values(f), hit.header.Values(f); !slices.Equal(got, want) {
						t.Errorf("304: %s %q, the 200 had %q", f, got, want)
					}
				}
				for _, f := range []string{"Content-Type", "Content-Length", "Last-Modified"} {
					if v, ok := r.header[f]; ok {
						t.Errorf("304 carries %s: %q", f, v)
					}
				}
				allowed := append(fields304(), "Age", "Cache-Status")
				for f := range r.header {
					if !slices.Contains(allowed, f) {
						t.Errorf("304 carries unexpected field %s: %q", f, r.header[f])
					}
				}
			})
		}
	}
	e.wantCount(t, "after every request", 1)
}

// TestRevalidation makes the proxy validate a stale response: it sends the
// stored validators, and a 304 from the origin refreshes the stored
// response, whose content the client gets with the updated fields.
func TestRevalidation(t *testing.T) {
	const (
		lastModified = "Sat, 01 Feb 2025 10:00:00 GMT"
		body1        = "version one\n"
		body2        = "version two, longer\n"
	)
	cases := map[string]struct {
		methods   []string
		fields    []string // the client's
		changed   bool     // the origin has a new representation
		wantCode  int
		wantBody  string
		wantFirst string // Cache-Status of the validating request
		wantNext  string // Cache-Status of the request after it
	}{
		// RFC 9111 §4.3.1, §4.3.4: a 304 refreshes the stored response; the
		// client, who asked nothing conditional, gets it whole.
		"unconditional client, origin 304": {
			methods: bothMethods(), wantCode: http.StatusOK, wantBody: body1,
			wantFirst: "notmod; fwd=stale; fwd-status=304; stored; ttl=600",
			wantNext:  "notmod; hit; ttl=600",
		},
		// RFC 9111 §4.3.2, §4.3.4: the client's own If-None-Match is
		// evaluated against the refreshed response: 304.
		"If-None-Match client, origin 304": {
			methods: bothMethods(), fields: []string{"If-None-Match", `"v1"`},
			wantCode: http.StatusNotModified, wantBody: body1,
			wantFirst: "notmod; fwd=stale; fwd-status=304; stored; ttl=600",
			wantNext:  "notmod; hit; ttl=600",
		},
		// RFC 9111 §4.3.2, §4.3.4, with If-Modified-Since.
		"If-Modified-Since client, origin 304": {
			methods: bothMethods(), fields: []string{"If-Modified-Since", lastModified},
			wantCode: http.StatusNotModified, wantBody: body1,
			wantFirst: "notmod; fwd=stale; fwd-status=304; stored; ttl=600",
			wantNext:  "notmod; hit; ttl=600",
		},
		// RFC 9111 §4.3.3: a full response replaces the stored one.
		"origin 200 with new content": {
			methods: []string{http.MethodGet}, changed: true, wantCode: http.StatusOK, wantBody: body2,
			wantFirst: "notmod; fwd=stale; fwd-status=200; stored; ttl=600",
			wantNext:  "notmod; hit; ttl=600",
		},
	}
	for name, tc := range cases {
		for _, m := range tc.methods {
			t.Run(name+"/"+m, func(t *testing.T) {
				e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
					h := w.Header()
					h.Set("X-Served", "at "+h.Get("Date"))
					switch {
					case r.Header.Get("X-Prime") != "":
						h.Set("Cache-Control", "max-age=60")
						h.Set("Etag", `"v1"`)
						h.Set("Last-Modified", lastModified)
						h.Set("X-Custom", "old")
						_, _ = io.WriteString(w, body1)
					case tc.changed:
						h.Set("Cache-Control", "max-age=600")
						h.Set("Etag", `"v2"`)
						h.Set("X-Custom", "new")
						_, _ = io.WriteString(w, body2)
					case r.Header.Get("If-None-Match") == `"v1"`:
						h.Set("Cache-Control", "max-age=600")
						h.Set("Etag", `"v1"`)
						h.Set("X-Custom", "new")
						w.WriteHeader(http.StatusNotModified)
					default:
						t.Errorf("origin: unexpected %s %s %v", r.Method, r.RequestURI, r.Header)
						w.WriteHeader(http.StatusInternalServerError)
					}
				}, envOptions{})
				prime := e.do(t, http.MethodGet, "/doc", "X-Prime", "1")
				e.check(t, "prime", prime, http.MethodGet, http.StatusOK, "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60", ptr(body1))
				e.clock.Advance(2 * time.Minute)

				r := e.do(t, m, "/doc", tc.fields...)
				e.check(t, "validating request", r, m, tc.wantCode, tc.wantFirst, ptr(tc.wantBody))
				e.wantCount(t, "validating request", 2)
				seen := e.lastSeen(t)
				if seen.Method != m {
					t.Errorf("origin saw %s, want %s", seen.Method, m)
				}
				// RFC 9111 §4.3.1: the stored validators, not the client's.
				if got := seen.Header.Values("If-None-Match"); !slices.Equal(got, []string{`"v1"`}) {
					t.Errorf("origin saw If-None-Match %q, want [\"v1\"]", got)
				}
				if got := seen.Header.Values("If-Modified-Since"); !slices.Equal(got, []string{lastModified}) {
					t.Errorf("origin saw If-Modified-Since %q, want [%s]", got, lastModified)
				}
				// RFC 9111 §3.2: the new fields replace the stored ones.
				if got := r.header.Get("Cache-Control"); got != "max-age=600" {
					t.Errorf("Cache-Control %q, want max-age=600", got)
				}
				if tc.wantCode == http.StatusOK {
					if got := r.header.Get("X-Custom"); got != "new" {
						t.Errorf("X-Custom %q, want new", got)
					}
					if got := r.header.Get("Age"); !tc.changed && got != "0" {
						t.Errorf("Age %q, want 0", got)
					}
				}

				next := e.do(t, m, "/doc")
				e.check(t, "next request", next, m, http.StatusOK, tc.wantNext, ptr(tc.wantBody))
				if got := next.header.Get("X-Custom"); got != "new" {
					t.Errorf("next request: X-Custom %q, want new", got)
				}
				if got := next.header.Get("Cache-Control"); got != "max-age=600" {
					t.Errorf("next request: Cache-Control %q, want max-age=600", got)
				}
				if want := "at " + httpDate(e.clock.Now()); !tc.changed && next.header.Get("X-Served") != want {
					t.Errorf("next request: X-Served %q, want %q (from the 304)", next.header.Get("X-Served"), want)
				}
				if got, want := next.header.Get("Date"), httpDate(e.clock.Now()); got != want {
					t.Errorf("next request: Date %q, want the 304's %q", got, want)
				}
				if !tc.changed {
					if !strings.Contains(next.header.Get("Etag"), "v1") {
						t.Errorf("next request: ETag %q, want \"v1\"", next.header.Get("Etag"))
					}
				}
				e.wantCount(t, "next request", 2)
			})
		}
	}
}
