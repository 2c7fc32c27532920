package httpcache

import (
	"net/http"
	"strings"
	"testing"

	"github.com/notmod/notmod/internal/httplex"
)

// FuzzVary checks the Vary parser and the request-value normaliser never
// panic, yield canonical token names without duplicates, and normalise
// equivalent Accept-Encoding values to the same string (RFC 9111 §4.1).
func FuzzVary(f *testing.F) {
	for _, s := range []string{"Accept-Encoding", "accept-encoding, Accept-Language", "*", `"x", a b`, ",,", "Accept-Encoding, accept-encoding"} {
		f.Add(s, "gzip, br")
	}
	f.Fuzz(func(t *testing.T, vary, value string) {
		names, star := varyNames(http.Header{"Vary": {vary}})
		if star && names != nil {
			t.Fatalf("names with *: %q", names)
		}
		seen := map[string]bool{}
		for _, n := range names {
			if !httplex.IsToken(n) || n != http.CanonicalHeaderKey(n) || seen[n] {
				t.Fatalf("bad name %q from %q", n, vary)
			}
			seen[n] = true
		}
		h := http.Header{}
		for _, n := range names {
			h[n] = []string{value}
		}
		_ = varyValues(names, h)
		var parts []string
		for e := range httplex.Elements(value) {
			parts = append([]string{upperASCII(e)}, parts...)
		}
		a := varyValues([]string{"Accept-Encoding"}, http.Header{"Accept-Encoding": {value}})
		b := varyValues([]string{"Accept-Encoding"}, http.Header{"Accept-Encoding": {strings.Join(parts, " , ")}})
		if a != b && !strings.ContainsAny(value, "\"") {
			t.Fatalf("Accept-Encoding %q and %q normalise differently: %q %q", value, strings.Join(parts, " , "), a, b)
		}
	})
}

// FuzzSurrogateDirectives checks the Surrogate-Control filter never panics
// and keeps no directive targeted at another device.
func FuzzSurrogateDirectives(f *testing.F) {
	for _, s := range []string{"max-age=60", "max-age=60;notmod, no-store;other", `foo="a;b", bar`, ";", ",;,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := surrogateDirectives([]string{s}, "notmod")
		for e := range httplex.Elements(out) {
			if _, target, ok := httplex.Cut(e, ';'); ok && !httplex.EqualFold(httplex.TrimOWS(target), "notmod") {
				t.Fatalf("directive %q for another target kept from %q", e, s)
			}
		}
	})
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}
