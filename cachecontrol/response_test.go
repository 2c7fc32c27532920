package cachecontrol

import (
	"strings"
	"testing"
)

func TestParseResponse(t *testing.T) {
	const (
		syn  = DefectSyntax
		arg  = DefectArgument
		conf = DefectConflict
	)
	tests := map[string]struct {
		lines   []string
		want    string
		defects Defect
	}{
		// RFC 9111 §5.2: no field, no directives.
		"absent": {lines: nil, want: ""},
		// RFC 9110 §5.6.1: empty lines and empty elements are ignored.
		"empty elements": {lines: []string{"", " , ,max-age=5,, ", ""}, want: "max-age=5"},
		// RFC 9111 §5.2.2.1, §5.2.2.9.
		"typical": {lines: []string{"public, max-age=3600"}, want: "max-age=3600 public"},
		// RFC 9111 §5.2: names compare case-insensitively (cc-resp-no-store-case-insensitive,
		// freshness-max-age-case-insenstive).
		"case-insensitive": {lines: []string{"MaX-aGe=3600, No-StOrE, No-CaChE"}, want: "max-age=3600 no-cache no-store"},
		// RFC 9110 §5.3: field lines combine into one list.
		"multiple lines": {lines: []string{"max-age=60", "must-revalidate", "s-maxage=30"}, want: "max-age=60 s-maxage=30 must-revalidate"},

		// RFC 9111 §5.2: recipients accept the quoted-string form (freshness-max-age-quoted).
		"quoted max-age": {lines: []string{`max-age="3600"`}, want: "max-age=3600"},
		// RFC 9110 §5.6.4: a quoted-pair inside the quoted form.
		"quoted max-age with quoted-pair": {lines: []string{`max-age="36\00"`}, want: "max-age=3600"},
		// RFC 9111 §1.2.2: ' is no digit; invalid means stale (freshness-max-age-single-quoted).
		"single-quoted max-age": {lines: []string{`max-age='3600'`}, want: "max-age=0", defects: arg},
		// RFC 9110 §5.6.4: a comma or directive inside a quoted string is not one
		// (freshness-max-age-ignore-quoted*).
		"max-age inside quoted extension before": {lines: []string{`extension="max-age=3600", max-age=1`}, want: "max-age=1 ext:extension=max-age=3600"},
		"max-age inside quoted extension after":  {lines: []string{`max-age=1, extension="max-age=3600"`}, want: "max-age=1 ext:extension=max-age=3600"},
		"quoted max-age after quoted extension":  {lines: []string{`extension="max-age=3600", max-age="1"`}, want: "max-age=1 ext:extension=max-age=3600"},
		"quoted max-age before quoted extension": {lines: []string{`max-age="1", extension="max-age=3600"`}, want: "max-age=1 ext:extension=max-age=3600"},

		// RFC 9111 §1.2.2: 1*DIGIT allows leading zeros (freshness-max-age-leading-zero).
		"leading zeros": {lines: []string{"max-age=003600"}, want: "max-age=3600"},
		// RFC 9111 §4.2.1: non-integer content is invalid, so stale
		// (freshness-max-age-decimal-zero, -decimal-five).
		"decimal zero": {lines: []string{"max-age=3600.0"}, want: "max-age=0", defects: arg},
		"decimal five": {lines: []string{"max-age=3600.5"}, want: "max-age=0", defects: arg},
		// RFC 9111 §1.2.2: no sign (freshness-max-age-negative).
		"negative":  {lines: []string{"max-age=-3600"}, want: "max-age=0", defects: arg},
		"plus sign": {lines: []string{"max-age=+3600"}, want: "max-age=0", defects: arg},
		// RFC 9111 §1.2.2 (freshness-max-age-a100, -100a).
		"leading alpha":  {lines: []string{"max-age=a3600"}, want: "max-age=0", defects: arg},
		"trailing alpha": {lines: []string{"max-age=3600a"}, want: "max-age=0", defects: arg},
		// RFC 9111 §5.2.2.1: the argument is required.
		"max-age without argument": {lines: []string{"max-age"}, want: "max-age=0", defects: arg},
		"max-age empty argument":   {lines: []string{"max-age="}, want: "max-age=0", defects: syn | arg},
		"max-age empty quoted":     {lines: []string{`max-age=""`}, want: "max-age=0", defects: arg},
		// RFC 9111 §5.2: no whitespace around "=" in the grammar
		// (freshness-max-age-space-before-equals, -after-equals).
		"space before equals": {lines: []string{"max-age =3600"}, want: "max-age=0", defects: syn | arg},
		"space after equals":  {lines: []string{"max-age= 3600"}, want: "max-age=0", defects: syn | arg},
		"garbage after value": {lines: []string{"max-age=3600 junk"}, want: "max-age=0", defects: syn | arg},
		"unterminated quote":  {lines: []string{`max-age="3600`}, want: "max-age=0", defects: syn | arg},
		// Surrogate-Control style targeting is not Cache-Control syntax.
		"semicolon target": {lines: []string{"max-age=3600;CAPABILITY_TARGET"}, want: "max-age=0", defects: syn | arg},

		// RFC 9111 §1.2.2: values beyond 2^31 become 2^31
		// (freshness-max-age-max-minus-1, -max, -max-plus-1, -max-plus).
		"max minus one": {lines: []string{"max-age=2147483647"}, want: "max-age=2147483647"},
		"max":           {lines: []string{"max-age=2147483648"}, want: "max-age=2147483648"},
		"max plus one":  {lines: []string{"max-age=2147483649"}, want: "max-age=2147483648"},
		"eleven nines":  {lines: []string{"max-age=99999999999"}, want: "max-age=2147483648"},
		"uint64 overflow": {
			lines: []string{"s-maxage=" + strings.Repeat("9", 400)},
			want:  "s-maxage=2147483648",
		},
		"zero": {lines: []string{"max-age=0"}, want: "max-age=0"},

		// RFC 9111 §4.2.1: the first occurrence is used
		// (freshness-max-age-multiple-line, -multiple-directive, -two-*).
		"duplicate lines":            {lines: []string{"max-age=3600", "max-age=1800"}, want: "max-age=3600", defects: conf},
		"duplicate directive":        {lines: []string{"max-age=3600, max-age=1800"}, want: "max-age=3600", defects: conf},
		"duplicate stale then fresh": {lines: []string{"max-age=1, max-age=1800"}, want: "max-age=1", defects: conf},
		"duplicate zero first":       {lines: []string{"max-age=0, max-age=3600"}, want: "max-age=0", defects: conf},
		"duplicate zero second":      {lines: []string{"max-age=3600", "max-age=0"}, want: "max-age=3600", defects: conf},
		"duplicate equal":            {lines: []string{"max-age=60, max-age=060"}, want: "max-age=60"},
		"duplicate invalid first":    {lines: []string{"max-age=x, max-age=60"}, want: "max-age=0", defects: arg | conf},
		"duplicate flags":            {lines: []string{"no-store, no-store, immutable", "immutable"}, want: "no-store immutable"},

		// RFC 9111 §5.2.2.10, §4.2.1 (freshness-max-age-s-maxage-*).
		"s-maxage and max-age":           {lines: []string{"s-maxage=1, max-age=3600"}, want: "max-age=3600 s-maxage=1"},
		"s-maxage and max-age two lines": {lines: []string{"max-age=3600", "s-maxage=1"}, want: "max-age=3600 s-maxage=1"},
		"invalid s-maxage":               {lines: []string{"s-maxage=1e3"}, want: "s-maxage=0", defects: arg},

		// RFC 5861 §3, §4.
		"stale extensions":       {lines: []string{"max-age=2, stale-while-revalidate=30, stale-if-error=60"}, want: "max-age=2 swr=30 sie=60"},
		"invalid stale-if-error": {lines: []string{"stale-if-error"}, want: "sie=0", defects: arg},

		// RFC 9111 §5.2.2.4: unqualified and qualified no-cache.
		"no-cache":                 {lines: []string{"max-age=10000, no-cache"}, want: "max-age=10000 no-cache"},
		"no-cache qualified":       {lines: []string{`no-cache="Set-Cookie, X-Foo"`}, want: "no-cache=[Set-Cookie X-Foo]"},
		"no-cache qualified token": {lines: []string{`no-cache=Set-Cookie`}, want: "no-cache=[Set-Cookie]"},
		// headers-omit-headers-listed-in-Cache-Control-no-cache(-single).
		"no-cache qualified with max-age line": {lines: []string{`no-cache="a"`, "max-age=3600"}, want: "max-age=3600 no-cache=[a]"},
		"no-cache qualified two fields":        {lines: []string{`no-cache="a, b"`, "max-age=3600"}, want: "max-age=3600 no-cache=[a b]"},
		"no-cache qualified occurrences add":   {lines: []string{`no-cache="a", no-cache="b,c"`}, want: "no-cache=[a b c]"},
		"no-cache both forms":                  {lines: []string{`no-cache="a", no-cache`}, want: "no-cache no-cache=[a]"},
		"no-cache qualified empty elements":    {lines: []string{`no-cache=" , a ,, b "`}, want: "no-cache=[a b]"},
		"no-cache qualified quoted-pair":       {lines: []string{`no-cache="a\-b"`}, want: "no-cache=[a-b]"},
		// §5.2.2.4 asks for one or more field names; anything else is read
		// as the unqualified, more restrictive form.
		"no-cache empty list":       {lines: []string{`no-cache=""`}, want: "no-cache", defects: arg},
		"no-cache commas only":      {lines: []string{`no-cache=", ,"`}, want: "no-cache", defects: arg},
		"no-cache not field names":  {lines: []string{`no-cache="a b"`}, want: "no-cache", defects: arg},
		"no-cache spaced":           {lines: []string{`no-cache = "a"`}, want: "no-cache", defects: syn | arg},
		"no-cache bad token list":   {lines: []string{`no-cache=a;b`}, want: "no-cache", defects: syn | arg},
		"no-cache with empty value": {lines: []string{`no-cache=`}, want: "no-cache", defects: syn | arg},

		// RFC 9111 §5.2.2.7: unqualified and qualified private (cc-resp-private-shared).
		"private":             {lines: []string{"private, max-age=3600"}, want: "max-age=3600 private"},
		"private qualified":   {lines: []string{`private="Set-Cookie"`}, want: "private=[Set-Cookie]"},
		"private case":        {lines: []string{`PRIVATE="set-cookie, Authorization-Info"`}, want: "private=[set-cookie Authorization-Info]"},
		"private invalid arg": {lines: []string{`private="x y"`}, want: "private", defects: arg},

		// RFC 9111 §5.2.2.2, §5.2.2.3, §5.2.2.5, §5.2.2.6, §5.2.2.8; RFC 8246 §2.
		"all flags": {
			lines: []string{"no-store, public, must-revalidate, proxy-revalidate, must-understand, no-transform, immutable"},
			want:  "no-store public must-revalidate proxy-revalidate must-understand no-transform immutable",
		},
		// RFC 9111 §5.2: no argument is allowed on these; restrictive ones keep
		// their effect, and RFC 8246 §2 says immutable's are ignored.
		"restrictive flags with argument": {
			lines:   []string{`no-store=1, must-revalidate="x", proxy-revalidate=0, no-transform=y, immutable=no`},
			want:    "no-store must-revalidate proxy-revalidate no-transform immutable",
			defects: arg,
		},
		// RFC 9111 §5.2.2.3, §5.2.2.9: widening flags with an argument are ignored.
		"public with argument":          {lines: []string{"public=yes, max-age=5"}, want: "max-age=5", defects: arg},
		"must-understand with argument": {lines: []string{`must-understand="x", no-store`}, want: "no-store", defects: arg},

		// RFC 9111 §5.2.3: unknown directives are kept as extensions
		// (freshness-max-age-extension).
		"extension flag":      {lines: []string{"foobar, max-age=3600"}, want: "max-age=3600 ext:foobar="},
		"extension argument":  {lines: []string{`private, community="UCI"`}, want: "private ext:community=UCI"},
		"extension token arg": {lines: []string{`Foo=Bar`}, want: "ext:Foo=Bar"},
		"extension duplicate": {lines: []string{`a=1, a=2`}, want: "ext:a=1 ext:a=2"},
		"extension unquoted":  {lines: []string{`x="a\"b"`}, want: `ext:x=a"b`},
		// RFC 9111 §5.2.1: request-only directives mean nothing in a response.
		"request directives are extensions": {lines: []string{"min-fresh=5, only-if-cached, max-stale"}, want: "ext:min-fresh=5 ext:only-if-cached= ext:max-stale="},
		"malformed extension skipped":       {lines: []string{"foo= bar, max-age=1"}, want: "max-age=1", defects: syn},

		// RFC 9111 §5.2: elements that are not cache-directives are ignored.
		"name not a token":    {lines: []string{"max age=1, no-store"}, want: "no-store", defects: syn},
		"quoted element":      {lines: []string{`"no-store", max-age=1`}, want: "max-age=1", defects: syn},
		"missing name":        {lines: []string{"=60, max-age=1"}, want: "max-age=1", defects: syn},
		"control character":   {lines: []string{"no-\x00store, max-age=1"}, want: "max-age=1", defects: syn},
		"non-ASCII":           {lines: []string{"max-âge=1, no-store"}, want: "no-store", defects: syn},
		"quote swallows rest": {lines: []string{`max-age=5, foo="bar, no-store`}, want: "max-age=5", defects: syn},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := ParseResponse(tc.lines)
			if got := describeResponse(r); got != tc.want {
				t.Errorf("ParseResponse(%q) = %q, want %q", tc.lines, got, tc.want)
			}
			if got := r.Defects(); got != tc.defects {
				t.Errorf("ParseResponse(%q).Defects() = %v, want %v", tc.lines, got, tc.defects)
			}
		})
	}
}

func TestResponseExtension(t *testing.T) {
	r := ParseResponse([]string{`max-age=1, Community="UCI"`, `community=other, flag, bad= x`})
	tests := map[string]struct {
		name      string
		wantValue string
		wantOK    bool
	}{
		// RFC 9111 §5.2: names compare case-insensitively; the first occurrence wins.
		"first occurrence":  {name: "community", wantValue: "UCI", wantOK: true},
		"flag":              {name: "FLAG", wantValue: "", wantOK: true},
		"absent":            {name: "nope", wantOK: false},
		"known directive":   {name: "max-age", wantOK: false},
		"malformed skipped": {name: "bad", wantOK: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v, ok := r.Extension(tc.name)
			if v != tc.wantValue || ok != tc.wantOK {
				t.Errorf("Extension(%q) = %q, %v, want %q, %v", tc.name, v, ok, tc.wantValue, tc.wantOK)
			}
		})
	}
	if v, ok := ParseResponse([]string{"max-age=1"}).Extension("max-age"); ok {
		t.Errorf("Extension on a field without extensions = %q, true", v)
	}
}

func TestResponseString(t *testing.T) {
	tests := map[string]struct {
		lines []string
		want  string
	}{
		// RFC 9111 §5.2: a canonical, well-formed rendering.
		"typical":         {lines: []string{"max-age=3600, public"}, want: "public, max-age=3600"},
		"invalid as zero": {lines: []string{"max-age=x"}, want: "max-age=0"},
		"duplicates once": {lines: []string{"max-age=1, max-age=2, no-store, no-store"}, want: "no-store, max-age=1"},
		// RFC 9111 §5.2.2.4, §5.2.2.7: qualified lists are merged and quoted.
		"qualified":            {lines: []string{`private=a, no-cache="b", no-cache="c, d"`}, want: `private="a", no-cache="b, c, d"`},
		"unqualified subsumes": {lines: []string{`no-cache="b", no-cache`}, want: "no-cache"},
		// RFC 9111 §5.2.3: extensions keep their names and are quoted as needed.
		"extensions": {lines: []string{`foo, Bar=1, baz="a b", q="x\"y"`}, want: `foo, Bar=1, baz="a b", q="x\"y"`},
		"everything": {
			lines: []string{"immutable, no-transform, must-understand, proxy-revalidate, must-revalidate, s-maxage=2, max-age=1, no-store, no-cache, private, public, stale-if-error=4, stale-while-revalidate=3"},
			want:  "public, private, no-cache, no-store, max-age=1, s-maxage=2, must-revalidate, proxy-revalidate, must-understand, no-transform, immutable, stale-while-revalidate=3, stale-if-error=4",
		},
		"empty": {lines: nil, want: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := ParseResponse(tc.lines).String(); got != tc.want {
				t.Errorf("ParseResponse(%q).String() = %q, want %q", tc.lines, got, tc.want)
			}
		})
	}
}

func TestFieldsStopEarly(t *testing.T) {
	// iter.Seq contract: no yield after the consumer stops.
	r := ParseResponse([]string{`no-cache="a, b", private="c, d", x=1, y=2`})
	for _, seq := range []func(func(string) bool){r.NoCacheFields(), r.PrivateFields()} {
		n := 0
		for range seq {
			n++
			break
		}
		if n != 1 {
			t.Errorf("yielded %d before stopping, want 1", n)
		}
	}
	n := 0
	for range r.Extensions() {
		n++
		break
	}
	if n != 1 {
		t.Errorf("Extensions yielded %d before stopping, want 1", n)
	}
}

func TestDefectString(t *testing.T) {
	tests := map[string]struct {
		d    Defect
		want string
	}{
		"none": {d: 0, want: "none"},
		"one":  {d: DefectArgument, want: "argument"},
		"all":  {d: DefectSyntax | DefectArgument | DefectConflict, want: "syntax|argument|conflict"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.d.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}
