// RFC 9111 §4.1 and §4.3.1: variants selected by Vary, end to end.

package proxy_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/notmod/notmod/internal/httplex"
)

// langOrigin serves one representation per language, selected by
// Accept-Language, with Vary: Accept-Language and an entity tag per
// representation; "en-gb" gets the "en" representation. It answers a
// matching If-None-Match with a 304 that names the tag.
func langOrigin(w http.ResponseWriter, r *http.Request) {
	lang := strings.ToLower(r.Header.Get("Accept-Language"))
	if lang == "en-gb" {
		lang = "en"
	}
	tag := `"lang-` + lang + `"`
	h := w.Header()
	h.Set("Vary", "Accept-Language")
	h.Set("Cache-Control", "max-age=60")
	h.Set("Etag", tag)
	for el := range httplex.ElementsOf(r.Header["If-None-Match"]) {
		if el == tag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.Set("Content-Language", lang)
	_, _ = io.WriteString(w, "hello in "+lang)
}

// TestVaryVariants stores one response per Accept-Language and serves
// each to the requests it matches (RFC 9111 §4.1).
func TestVaryVariants(t *testing.T) {
	for _, m := range bothMethods() {
		t.Run(m, func(t *testing.T) {
			e := newEnv(t, langOrigin, envOptions{})
			steps := []struct {
				name   string
				lang   string
				method string
				status string
				body   string
				count  int64
			}{
				// RFC 9111 §4.1: nothing stored for the URL yet.
				{"en stored", "en", http.MethodGet, "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60", "hello in en", 1},
				// RFC 9111 §4.1: a response for the URL, none for fr.
				{"fr stored", "fr", http.MethodGet, "notmod; fwd=vary-miss; fwd-status=200; stored; ttl=60", "hello in fr", 2},
				// RFC 9111 §4.1: each request gets its own variant.
				{"en hit", "en", m, "notmod; hit; ttl=60", "hello in en", 2},
				{"fr hit", "fr", m, "notmod; hit; ttl=60", "hello in fr", 2},
				// RFC 9111 §4.1: the field values are compared after
				// normalisation; language tags are case-insensitive.
				{"FR hit", "FR", m, "notmod; hit; ttl=60", "hello in fr", 2},
				// RFC 9111 §4.1: a third language matches no variant.
				{"de vary-miss", "de", http.MethodGet, "notmod; fwd=vary-miss; fwd-status=200; stored; ttl=60", "hello in de", 3},
				{"de hit", "de", m, "notmod; hit; ttl=60", "hello in de", 3},
				{"en still hit", "en", m, "notmod; hit; ttl=60", "hello in en", 3},
			}
			for _, s := range steps {
				r := e.do(t, s.method, "/greeting", "Accept-Language", s.lang)
				e.check(t, s.name, r, s.method, http.StatusOK, s.status, ptr(s.body))
				e.wantCount(t, s.name, s.count)
				if s.method == http.MethodGet && !strings.HasSuffix(s.body, r.header.Get("Content-Language")) {
					t.Errorf("%s: Content-Language %q for content %q", s.name, r.header.Get("Content-Language"), r.body)
				}
			}
		})
	}
}

// TestVaryMissValidatesStoredVariants checks that a request matching no
// stored variant is sent with the entity tags of the URL's stored
// variants (RFC 9111 §4.3.1: a cache may validate responses it cannot
// choose with the request's fields), and that a 304 naming one of them
// makes the cache serve and store that variant for the new request
// (§4.3.4) instead of fetching it again.
func TestVaryMissValidatesStoredVariants(t *testing.T) {
	for _, m := range bothMethods() {
		t.Run(m, func(t *testing.T) {
			e := newEnv(t, langOrigin, envOptions{})
			for _, lang := range []string{"en", "fr"} {
				r := e.do(t, http.MethodGet, "/greeting", "Accept-Language", lang)
				if r.code != http.StatusOK || !strings.Contains(r.status(), "stored") {
					t.Fatalf("storing %s: %d %q", lang, r.code, r.status())
				}
			}
			r := e.do(t, http.MethodGet, "/greeting", "Accept-Language", "en-gb")
			e.check(t, "en-gb", r, http.MethodGet, http.StatusOK, "notmod; fwd=vary-miss; fwd-status=304; stored; ttl=60", ptr("hello in en"))
			seen := e.lastSeen(t)
			if got, want := listMembers(seen.Header["If-None-Match"]), []string{`"lang-en"`, `"lang-fr"`}; !slices.Equal(got, want) {
				t.Errorf("en-gb: origin saw If-None-Match %q, want the members %q", seen.Header["If-None-Match"], want)
			}
			r = e.do(t, m, "/greeting", "Accept-Language", "en-gb")
			e.check(t, "en-gb again", r, m, http.StatusOK, "notmod; hit; ttl=60", ptr("hello in en"))
			e.wantCount(t, "en-gb again", 3)
		})
	}
}

// TestVaryStaleVariantRevalidation checks that validating one stale
// variant sends the entity tags of every stored variant of the URL
// (RFC 9111 §4.3.1), and that the 304 refreshes the variant it names.
func TestVaryStaleVariantRevalidation(t *testing.T) {
	for _, m := range bothMethods() {
		t.Run(m, func(t *testing.T) {
			e := newEnv(t, langOrigin, envOptions{})
			for _, lang := range []string{"en", "fr", "de"} {
				r := e.do(t, http.MethodGet, "/greeting", "Accept-Language", lang)
				if r.code != http.StatusOK || !strings.Contains(r.status(), "stored") {
					t.Fatalf("storing %s: %d %q", lang, r.code, r.status())
				}
			}
			e.clock.Advance(2 * time.Minute)
			r := e.do(t, m, "/greeting", "Accept-Language", "fr")
			e.check(t, "stale fr", r, m, http.StatusOK, "notmod; fwd=stale; fwd-status=304; stored; ttl=60", ptr("hello in fr"))
			e.wantCount(t, "stale fr", 4)
			seen := e.lastSeen(t)
			if got, want := listMembers(seen.Header["If-None-Match"]), []string{`"lang-de"`, `"lang-en"`, `"lang-fr"`}; !slices.Equal(got, want) {
				t.Errorf("origin saw If-None-Match %q, want the members %q", seen.Header["If-None-Match"], want)
			}
			r = e.do(t, m, "/greeting", "Accept-Language", "fr")
			e.check(t, "fr after", r, m, http.StatusOK, "notmod; hit; ttl=60", ptr("hello in fr"))
			// The other variants are still stale.
			r = e.do(t, http.MethodGet, "/greeting", "Accept-Language", "de")
			e.check(t, "stale de", r, http.MethodGet, http.StatusOK, "notmod; fwd=stale; fwd-status=304; stored; ttl=60", ptr("hello in de"))
			e.wantCount(t, "stale de", 5)
		})
	}
}

// TestVaryNormalisation checks which Accept-Encoding values share a
// stored variant (RFC 9111 §4.1: values may be normalised where the
// field's semantics make them equivalent).
func TestVaryNormalisation(t *testing.T) {
	cases := map[string]struct {
		first, second string
		shared        bool
	}{
		// RFC 9111 §4.1, RFC 9110 §12.5.3: the order of codings does not
		// matter, nor whitespace.
		"reordered": {"gzip, br", "br,gzip", true},
		// RFC 9110 §12.5.3: codings are case-insensitive; OWS around ";".
		"case and weight whitespace": {"gzip;q=0.5, br", "BR , GZIP; q=0.5", true},
		// RFC 9111 §4.1: another coding is another variant.
		"different coding": {"gzip", "br", false},
		// RFC 9111 §4.1: a different weight is a different value.
		"different weight": {"gzip;q=0.5", "gzip;q=0.8", false},
	}
	for name, tc := range cases {
		for _, m := range bothMethods() {
			t.Run(name+"/"+m, func(t *testing.T) {
				e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Vary", "Accept-Encoding")
					w.Header().Set("Cache-Control", "max-age=60")
					_, _ = io.WriteString(w, "identity content")
				}, envOptions{})
				r := e.do(t, http.MethodGet, "/ae", "Accept-Encoding", tc.first)
				e.check(t, "first", r, http.MethodGet, http.StatusOK, "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60", ptr("identity content"))
				r = e.do(t, m, "/ae", "Accept-Encoding", tc.second)
				want, count := "notmod; hit; ttl=60", int64(1)
				if !tc.shared {
					want, count = "notmod; fwd=vary-miss; fwd-status=200", 2
					if m == http.MethodGet {
						want += "; stored; ttl=60"
					}
				}
				e.check(t, "second", r, m, http.StatusOK, want, ptr("identity content"))
				e.wantCount(t, "second", count)
			})
		}
	}
}

// TestVaryStar checks that a response with Vary: * is never served from
// the cache (RFC 9111 §4.1: it always fails to match).
func TestVaryStar(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "*")
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("Etag", `"star"`)
		_, _ = io.WriteString(w, "varies on everything")
	}, envOptions{})
	for i := int64(1); i <= 3; i++ {
		r := e.do(t, http.MethodGet, "/star")
		e.check(t, "GET", r, http.MethodGet, http.StatusOK, "notmod; fwd=uri-miss; fwd-status=200; detail=vary-star", ptr("varies on everything"))
		e.wantCount(t, "GET", i)
	}
	// RFC 9110 §13.1.2: the client's own condition is still answered,
	// from the origin's fresh 200.
	r := e.do(t, http.MethodGet, "/star", "If-None-Match", `"star"`)
	e.check(t, "conditional GET", r, http.MethodGet, http.StatusNotModified, "notmod; fwd=uri-miss; fwd-status=200; detail=vary-star", nil)
	e.wantCount(t, "conditional GET", 4)
}
