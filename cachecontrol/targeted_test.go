package cachecontrol

import (
	"testing"
)

func TestParseTargeted(t *testing.T) {
	const arg = DefectArgument
	tests := map[string]struct {
		lines   []string
		wantOK  bool
		want    string
		defects Defect
	}{
		// RFC 9213 §2.1: an absent or empty field is ignored.
		"absent":      {lines: nil},
		"empty line":  {lines: []string{""}},
		"blank lines": {lines: []string{"   ", " "}},

		// RFC 9213 §3.1.
		"max-age":        {lines: []string{"max-age=600"}, wantOK: true, want: "max-age=600"},
		"several":        {lines: []string{"max-age=60, must-revalidate, stale-if-error=30"}, wantOK: true, want: "max-age=60 sie=30 must-revalidate"},
		"multiple lines": {lines: []string{"max-age=60", "no-store"}, wantOK: true, want: "max-age=60 no-store"},
		"s-maxage and swr": {
			lines: []string{"s-maxage=10, stale-while-revalidate=5"}, wantOK: true, want: "s-maxage=10 swr=5",
		},
		"leading zeros": {lines: []string{"max-age=003600"}, wantOK: true, want: "max-age=3600"},
		// RFC 9111 §1.2.2 through RFC 9213 §2.1: clamped at 2^31.
		"clamped": {lines: []string{"max-age=99999999999"}, wantOK: true, want: "max-age=2147483648"},

		// RFC 8941 §3.2, RFC 9213 §2.1: a parsing error voids the whole field.
		"upper-case name":     {lines: []string{"MAX-AGE=60"}},
		"trailing comma":      {lines: []string{"max-age=60,"}},
		"space before equals": {lines: []string{"max-age =60"}},
		"space after equals":  {lines: []string{"max-age= 60"}},
		"single-quoted":       {lines: []string{"max-age='60'"}},
		"integer too long":    {lines: []string{"max-age=1234567890123456"}},
		"bad string":          {lines: []string{`no-cache="a`}},
		"garbage":             {lines: []string{"max-age=60, ;;"}},
		"empty line between":  {lines: []string{"max-age=60", "", "no-store"}},

		// RFC 9213 §2.1: values breaking the inferred constraints are not
		// consumed; freshness then reads as zero (RFC 9111 §4.2.1).
		"decimal max-age": {lines: []string{"max-age=1.5"}, wantOK: true, want: "max-age=0", defects: arg},
		"string max-age":  {lines: []string{`max-age="60"`}, wantOK: true, want: "max-age=0", defects: arg},
		"token max-age":   {lines: []string{"max-age=sixty"}, wantOK: true, want: "max-age=0", defects: arg},
		"bare max-age":    {lines: []string{"max-age"}, wantOK: true, want: "max-age=0", defects: arg},
		"negative":        {lines: []string{"max-age=-1"}, wantOK: true, want: "max-age=0", defects: arg},
		"inner list":      {lines: []string{"max-age=(1 2)"}, wantOK: true, want: "max-age=0", defects: arg},
		// RFC 9213 §2.1: parameters are ignored.
		"parameters": {lines: []string{"max-age=60;foo=bar, no-store;x"}, wantOK: true, want: "max-age=60 no-store"},
		// RFC 8941 §3.2: of duplicate names the last wins.
		"duplicate": {lines: []string{"max-age=10, max-age=20"}, wantOK: true, want: "max-age=20"},

		// RFC 9213 §2.1: no-cache and private are true or a String of field names.
		"no-cache":           {lines: []string{"no-cache"}, wantOK: true, want: "no-cache"},
		"no-cache qualified": {lines: []string{`no-cache="Set-Cookie, X-Foo"`}, wantOK: true, want: "no-cache=[Set-Cookie X-Foo]"},
		"private qualified":  {lines: []string{`private="set-cookie"`}, wantOK: true, want: "private=[set-cookie]"},
		"private token":      {lines: []string{"private=set-cookie"}, wantOK: true, want: "private", defects: arg},
		"private bad list":   {lines: []string{`private="a b"`}, wantOK: true, want: "private", defects: arg},
		"private empty list": {lines: []string{`private=""`}, wantOK: true, want: "private", defects: arg},
		"no-cache false":     {lines: []string{"no-cache=?0, max-age=5"}, wantOK: true, want: "max-age=5", defects: arg},
		"no-cache integer":   {lines: []string{"no-cache=1"}, wantOK: true, want: "no-cache", defects: arg},

		// RFC 9213 §2.1: flags are Boolean true; false turns them off.
		"flags": {
			lines:  []string{"no-store, public, must-revalidate, proxy-revalidate, must-understand, no-transform, immutable"},
			wantOK: true,
			want:   "no-store public must-revalidate proxy-revalidate must-understand no-transform immutable",
		},
		"explicit true":      {lines: []string{"no-store=?1"}, wantOK: true, want: "no-store"},
		"no-store false":     {lines: []string{"no-store=?0"}, wantOK: true, want: "", defects: arg},
		"no-store integer":   {lines: []string{"no-store=1"}, wantOK: true, want: "no-store", defects: arg},
		"public token":       {lines: []string{"public=yes"}, wantOK: true, want: "", defects: arg},
		"must-understand ?0": {lines: []string{"must-understand=?0, no-store"}, wantOK: true, want: "no-store", defects: arg},

		// RFC 9213 §2.1, RFC 9111 §5.2.3: extensions of every type.
		"extensions": {
			lines:  []string{`foo, bar=1, baz="x y", qux=tok, b=:aGk=:, f=?0, d=1.5, l=(a "b"), min-fresh=3`},
			wantOK: true,
			want:   `ext:foo= ext:bar=1 ext:baz=x y ext:qux=tok ext:b=:aGk=: ext:f=?0 ext:d=1.5 ext:l=(a "b") ext:min-fresh=3`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, ok := ParseTargeted(tc.lines)
			if ok != tc.wantOK {
				t.Fatalf("ParseTargeted(%q) ok = %v, want %v", tc.lines, ok, tc.wantOK)
			}
			if got := describeResponse(r); got != tc.want {
				t.Errorf("ParseTargeted(%q) = %q, want %q", tc.lines, got, tc.want)
			}
			if got := r.Defects(); got != tc.defects {
				t.Errorf("ParseTargeted(%q).Defects() = %v, want %v", tc.lines, got, tc.defects)
			}
		})
	}
}

func TestTargetedExtensionAndString(t *testing.T) {
	r, ok := ParseTargeted([]string{`max-age=60, no-cache="a, b", tag="x y", flag;p=1, n=5`})
	if !ok {
		t.Fatal("ParseTargeted reported an invalid field")
	}
	// RFC 9111 §5.2.3 via RFC 9213 §2.1: extension lookup, case-insensitive.
	tests := map[string]struct {
		name      string
		wantValue string
		wantOK    bool
	}{
		"string":  {name: "TAG", wantValue: "x y", wantOK: true},
		"boolean": {name: "flag", wantValue: "", wantOK: true},
		"integer": {name: "n", wantValue: "5", wantOK: true},
		"absent":  {name: "nope"},
		"known":   {name: "max-age"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			v, ok := r.Extension(tc.name)
			if v != tc.wantValue || ok != tc.wantOK {
				t.Errorf("Extension(%q) = %q, %v, want %q, %v", tc.name, v, ok, tc.wantValue, tc.wantOK)
			}
		})
	}
	// The rendering is Cache-Control syntax.
	want := `no-cache="a, b", max-age=60, tag="x y", flag, n=5`
	if got := r.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
