package cachecontrol

import (
	"strings"
	"testing"
	"time"

	"github.com/notmod/notmod/internal/httplex"
)

// fuzzLines turns a fuzz input into field lines: each "\n" starts a new
// line, as separate Cache-Control field lines would.
func fuzzLines(s string) []string {
	return strings.Split(s, "\n")
}

// fuzzSeeds are inputs the fuzzers start from, besides testdata/fuzz.
func fuzzSeeds() []string {
	return []string{
		"",
		"public, max-age=3600",
		`max-age="3600"`,
		"max-age=3600\nmax-age=1800",
		`extension="max-age=3600", max-age=1`,
		"max-age=-1, s-maxage=99999999999999999999999",
		`no-cache="Set-Cookie, X-Foo", private=Authorization`,
		`private="a\"b", no-cache="a\-b"`,
		`max-stale, min-fresh=5, only-if-cached, no-store=1`,
		`max-age =1, foo= bar, "x", =, ,,`,
		`foo="unterminated, no-store`,
		"no-store=?0, max-age=1.5, b=:aGk=:, l=(a b);p",
		"stale-while-revalidate=30, stale-if-error=60, immutable",
	}
}

// checkDuration fails t when d is outside [0, MaxDelta].
func checkDuration(t *testing.T, name string, d time.Duration, ok bool) {
	t.Helper()
	if d < 0 || d > MaxDelta {
		t.Errorf("%s = %v, outside [0, MaxDelta]", name, d)
	}
	if !ok && d != 0 {
		t.Errorf("%s = %v while absent", name, d)
	}
}

// checkResponse asserts the invariants every Response keeps.
func checkResponse(t *testing.T, r Response) {
	t.Helper()
	d, ok := r.MaxAge()
	checkDuration(t, "MaxAge", d, ok)
	d, ok = r.SMaxAge()
	checkDuration(t, "SMaxAge", d, ok)
	d, ok = r.StaleWhileRevalidate()
	checkDuration(t, "StaleWhileRevalidate", d, ok)
	d, ok = r.StaleIfError()
	checkDuration(t, "StaleIfError", d, ok)
	for _, q := range []struct {
		name      string
		qualified bool
		fields    func(func(string) bool)
	}{
		{"NoCacheFields", r.NoCacheQualified(), r.NoCacheFields()},
		{"PrivateFields", r.PrivateQualified(), r.PrivateFields()},
	} {
		n := 0
		for f := range q.fields {
			n++
			if !httplex.IsToken(f) {
				t.Errorf("%s yielded %q, not a field name", q.name, f)
			}
		}
		if q.qualified != (n > 0) {
			t.Errorf("%s yielded %d names while qualified = %v", q.name, n, q.qualified)
		}
	}
	for name, value := range r.Extensions() {
		if !httplex.IsToken(name) || isResponse(lookup(name)) {
			t.Errorf("Extensions yielded name %q", name)
		}
		if _, ok := r.Extension(name); !ok {
			t.Errorf("Extension(%q) not found though Extensions yielded it with %q", name, value)
		}
	}
	// String renders well-formed Cache-Control that parses back to the same
	// directives.
	s := r.String()
	back := ParseResponse([]string{s})
	if back.Defects() != 0 {
		t.Errorf("String() = %q has defects %v", s, back.Defects())
	}
	if got, want := describeResponse(back), describeEffective(r); got != want {
		t.Errorf("String() = %q parses back as %q, want %q", s, got, want)
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkResponse(t, ParseResponse(fuzzLines(s)))
	})
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := ParseRequest(fuzzLines(s))
		d, ok := r.MaxAge()
		checkDuration(t, "MaxAge", d, ok)
		d, ok = r.MaxStale()
		checkDuration(t, "MaxStale", d, ok)
		if r.MaxStaleAny() && (!ok || d != MaxDelta) {
			t.Errorf("MaxStaleAny with MaxStale() = %v, %v", d, ok)
		}
		d, ok = r.MinFresh()
		checkDuration(t, "MinFresh", d, ok)
		d, ok = r.StaleIfError()
		checkDuration(t, "StaleIfError", d, ok)
		for name := range r.Extensions() {
			if !httplex.IsToken(name) || isRequest(lookup(name)) {
				t.Errorf("Extensions yielded name %q", name)
			}
		}
		str := r.String()
		back := ParseRequest([]string{str})
		if back.Defects() != 0 {
			t.Errorf("String() = %q has defects %v", str, back.Defects())
		}
		if got, want := describeRequest(back), describeRequest(r); got != want {
			t.Errorf("String() = %q parses back as %q, want %q", str, got, want)
		}
	})
}

func FuzzParseTargeted(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := ParseTargeted(fuzzLines(s))
		if !ok {
			if got := describeResponse(r); got != "" {
				t.Errorf("invalid field yielded directives %q", got)
			}
			return
		}
		checkResponse(t, r)
	})
}
