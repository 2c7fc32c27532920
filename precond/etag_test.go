package precond

import (
	"net/http"
	"testing"
)

func TestParseETag(t *testing.T) {
	tests := map[string]struct {
		in   string
		want ETag
		ok   bool
	}{
		// §8.8.3: opaque-tag = DQUOTE *etagc DQUOTE
		"strong":        {`"xyzzy"`, `"xyzzy"`, true},
		"weak":          {`W/"xyzzy"`, `W/"xyzzy"`, true},
		"empty_opaque":  {`""`, `""`, true},
		"ows":           {" \t\"a\" ", `"a"`, true},
		"backslash":     {`"a\"`, `"a\"`, true}, // no escapes in an entity tag
		"comma_inside":  {`"a,b"`, `"a,b"`, true},
		"obs_text":      {"\"\xff\"", "\"\xff\"", true},
		"unquoted":      {`xyzzy`, "", false},
		"lower_w":       {`w/"x"`, "", false},
		"space_inside":  {`"a b"`, "", false},
		"unterminated":  {`"abc`, "", false},
		"star":          {`*`, "", false},
		"list":          {`"a", "b"`, "", false},
		"trailing_junk": {`"a"b`, "", false},
		"empty":         {``, "", false},
		"weak_no_quote": {`W/`, "", false},
		"control_char":  {"\"a\x01\"", "", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := ParseETag(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("ParseETag(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	// The table of RFC 9110 §8.8.3.2.
	tests := map[string]struct {
		a, b         ETag
		strong, weak bool
	}{
		"weak_weak_same":     {`W/"1"`, `W/"1"`, false, true},
		"weak_weak_differ":   {`W/"1"`, `W/"2"`, false, false},
		"weak_strong_same":   {`W/"1"`, `"1"`, false, true},
		"strong_strong_same": {`"1"`, `"1"`, true, true},
		"absent":             {``, ``, false, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.a.StrongMatch(tc.b); got != tc.strong {
				t.Errorf("StrongMatch = %v, want %v", got, tc.strong)
			}
			if got := tc.b.StrongMatch(tc.a); got != tc.strong {
				t.Errorf("StrongMatch reversed = %v, want %v", got, tc.strong)
			}
			if got := tc.a.WeakMatch(tc.b); got != tc.weak {
				t.Errorf("WeakMatch = %v, want %v", got, tc.weak)
			}
		})
	}
}

func TestETagList(t *testing.T) {
	tests := map[string]struct {
		lines []string
		any   bool
		valid bool
		tags  []ETag
	}{
		"star":           {[]string{"*"}, true, true, nil},
		"star_ows":       {[]string{" * "}, true, true, nil},
		"two_stars":      {[]string{"*, *"}, false, false, nil},
		"star_and_tag":   {[]string{`*, "a"`}, false, false, nil},
		"one":            {[]string{`"a"`}, false, true, []ETag{`"a"`}},
		"list":           {[]string{`"a", W/"b",  "c"`}, false, true, []ETag{`"a"`, `W/"b"`, `"c"`}},
		"lines":          {[]string{`"a"`, `"b"`}, false, true, []ETag{`"a"`, `"b"`}},
		"empty_elements": {[]string{`,"a",,`}, false, true, []ETag{`"a"`}},
		"only_commas":    {[]string{` , `}, false, false, nil},
		"no_comma":       {[]string{`"a" "b"`}, false, false, []ETag{}},
		"bad_then_good":  {[]string{`a, "b"`}, false, false, nil},
		"good_then_bad":  {[]string{`"a", b`}, false, false, []ETag{`"a"`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l := ETagList(tc.lines)
			if got := l.Any(); got != tc.any {
				t.Errorf("Any = %v, want %v", got, tc.any)
			}
			if got := l.Valid(); got != tc.valid {
				t.Errorf("Valid = %v, want %v", got, tc.valid)
			}
			if tc.tags != nil {
				var got []ETag
				for tag := range l.All() {
					got = append(got, tag)
				}
				if len(got) != len(tc.tags) {
					t.Fatalf("All = %q, want %q", got, tc.tags)
				}
				for i := range got {
					if got[i] != tc.tags[i] {
						t.Errorf("All = %q, want %q", got, tc.tags)
					}
				}
			}
		})
	}
}

func TestContentETag(t *testing.T) {
	a := ContentETag([]byte("hello"))
	b := ContentETag([]byte("hello!"))
	if a == b {
		t.Fatalf("different content, same tag %s", a)
	}
	if a != ContentETag([]byte("hello")) {
		t.Fatal("same content, different tags")
	}
	if p, ok := ParseETag(string(a)); !ok || p != a || a.Weak() || len(a.Opaque()) != 16 {
		t.Fatalf("ContentETag = %s: not a strong 16-digit tag", a)
	}
	if w, ok := WeakETag("x"); !ok || w != `W/"x"` || !w.Weak() || w.Opaque() != "x" {
		t.Fatalf("WeakETag = %s", w)
	}
	if _, ok := StrongETag(`a"b`); ok {
		t.Fatal("StrongETag accepted a DQUOTE")
	}
}

// FuzzETagList checks that the list parser and matcher never panic and keep
// their invariants: everything All yields parses back as a single tag, a
// list that is not valid matches nothing, and `*` is never a list of tags.
func FuzzETagList(f *testing.F) {
	for _, s := range []string{`"a"`, `W/"a", "b"`, `*`, `,,`, `"a,b", "c"`, `"\"`, `W/`, "\"\xff\"", `"a" "b"`} {
		f.Add(s, `"a"`)
	}
	f.Fuzz(func(t *testing.T, list, current string) {
		l := ETagList{list}
		for tag := range l.All() {
			if p, ok := ParseETag(string(tag)); !ok || p != tag {
				t.Fatalf("All yielded %q, which does not parse", tag)
			}
		}
		cur, ok := ParseETag(current)
		if !ok {
			cur = ""
		}
		strong, weak := l.Match(cur, true), l.Match(cur, false)
		if (strong || weak) && !l.Valid() {
			t.Fatalf("invalid list %q matched %q", list, cur)
		}
		if strong && !weak {
			t.Fatalf("strong match without weak match: %q vs %q", list, cur)
		}
		if l.Any() && (strong || weak) {
			t.Fatalf("* treated as a tag")
		}
	})
}

// FuzzEvaluate checks the evaluator never panics and keeps the invariants
// of RFC 9110 §13.2.2: a 304 only for GET and HEAD, never a 304 or 412 for
// an unconditional request, IgnoreRange only for GET with Range.
func FuzzEvaluate(f *testing.F) {
	f.Add("GET", `"a"`, "", "", "", `"a"`, "bytes=0-1", `"a"`, "Tue, 21 Nov 2023 08:44:28 GMT")
	f.Add("PUT", "", `*`, "", "", "", "", `"b"`, "")
	f.Add("HEAD", "", "", "Tue, 21 Nov 2050 08:00:00 GMT", "", "", "", "", "Tue, 21 Nov 2023 08:44:28 GMT")
	f.Fuzz(func(t *testing.T, method, inm, im, ims, ius, ifRange, rng, etag, lastMod string) {
		h := http.Header{}
		for k, v := range map[string]string{"If-None-Match": inm, "If-Match": im, "If-Modified-Since": ims,
			"If-Unmodified-Since": ius, "If-Range": ifRange, "Range": rng} {
			if v != "" {
				h.Set(k, v)
			}
		}
		var v Validators
		v.ETag, _ = ParseETag(etag)
		v.LastModified, _ = http.ParseTime(lastMod)
		o := Evaluate(method, h, v)
		c := ConditionsOf(method, h)
		switch o {
		case NotModified:
			if method != "GET" && method != "HEAD" {
				t.Fatalf("304 for %s", method)
			}
			fallthrough
		case PreconditionFailed:
			if !c.Conditional() {
				t.Fatalf("%v for an unconditional request", o)
			}
		case IgnoreRange:
			if method != "GET" || rng == "" {
				t.Fatalf("IgnoreRange for %s without Range", method)
			}
		}
	})
}
