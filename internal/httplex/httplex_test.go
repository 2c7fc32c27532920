package httplex

import (
	"slices"
	"strings"
	"testing"
)

func TestElements(t *testing.T) {
	tests := map[string]struct {
		in   string
		want []string
	}{
		// RFC 9110 §5.6.1: list elements with OWS, empty elements skipped.
		"simple":        {"a, b,c", []string{"a", "b", "c"}},
		"empty":         {"", nil},
		"only_commas":   {" , ,, ", nil},
		"empty_between": {"a,,b, ,c,", []string{"a", "b", "c"}},
		"tabs":          {"\ta\t,\tb ", []string{"a", "b"}},
		// §5.6.4: a comma inside a quoted string does not split.
		"quoted_comma":    {`no-cache="a, b", max-age=5`, []string{`no-cache="a, b"`, "max-age=5"}},
		"escaped_quote":   {`x="a\",b", y`, []string{`x="a\",b"`, "y"}},
		"unterminated":    {`x="a, b`, []string{`x="a, b`}},
		"inner_ows_kept":  {"a b , c", []string{"a b", "c"}},
		"trailing_escape": {`x="a\`, []string{`x="a\`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := slices.Collect(Elements(tc.in))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Elements(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	got := slices.Collect(ElementsOf([]string{"a, b", "", "c"}))
	if !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("ElementsOf = %q", got)
	}
}

func TestQuoted(t *testing.T) {
	tests := map[string]struct {
		in   string
		want string
		ok   bool
	}{
		// RFC 9110 §5.6.4
		"plain":        {`"abc"`, "abc", true},
		"empty":        {`""`, "", true},
		"quoted_pair":  {`"a\"b\\c"`, `a"b\c`, true},
		"unterminated": {`"abc`, "", false},
		"no_quotes":    {`abc`, "", false},
		"trailing":     {`"a"b`, "", false},
		"control":      {"\"a\x00\"", "", false},
		"bad_pair":     {"\"a\\\x00\"", "", false},
		"obs_text":     {"\"\xe9\"", "\xe9", true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := Unquote(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Unquote(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
			if ok {
				if back, ok := Unquote(Quote(got)); !ok || back != got {
					t.Errorf("Quote round trip of %q: %q", got, back)
				}
			}
		})
	}
}

func TestTokens(t *testing.T) {
	for s, want := range map[string]bool{"max-age": true, "a!#$%&'*+-.^_`|~9": true, "": false, "a b": false, "a,b": false, `"a"`: false, "é": false} {
		if got := IsToken(s); got != want {
			t.Errorf("IsToken(%q) = %v, want %v", s, got, want)
		}
	}
	for _, c := range []struct {
		a, b string
		want bool
	}{{"Max-Age", "max-age", true}, {"a", "b", false}, {"ab", "a", false}, {"", "", true}, {"[", "{", false}} {
		if got := EqualFold(c.a, c.b); got != c.want {
			t.Errorf("EqualFold(%q, %q) = %v", c.a, c.b, got)
		}
	}
	if b, a, ok := Cut(`x="a=b"=c`, '='); b != "x" || a != `"a=b"=c` || !ok {
		t.Errorf("Cut = %q %q %v", b, a, ok)
	}
	if b, _, ok := Cut(`"a=b"`, '='); ok || b != `"a=b"` {
		t.Errorf("Cut inside quotes = %q %v", b, ok)
	}
}

// FuzzElements checks the list scanner never panics, never yields an empty
// or OWS-padded element, and loses no non-separator byte outside quotes.
func FuzzElements(f *testing.F) {
	for _, s := range []string{"a, b", `x="a,b", c`, `"\`, ",,,", "\t a \t", `a="\"", b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var joined strings.Builder
		for e := range Elements(s) {
			if e == "" || IsOWS(e[0]) || IsOWS(e[len(e)-1]) {
				t.Fatalf("bad element %q from %q", e, s)
			}
			joined.WriteString(e)
		}
		strip := func(x string) string {
			b := []byte(x)
			return string(slices.DeleteFunc(b, func(c byte) bool { return c == ' ' || c == '\t' || c == ',' }))
		}
		if strip(joined.String()) != strip(s) {
			t.Fatalf("elements of %q lose bytes: %q", s, joined.String())
		}
		if u, ok := Unquote(s); ok {
			if back, ok := Unquote(Quote(u)); !ok || back != u {
				t.Fatalf("round trip of %q", s)
			}
		}
	})
}
