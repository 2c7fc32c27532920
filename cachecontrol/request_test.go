package cachecontrol

import (
	"testing"
)

func TestParseRequest(t *testing.T) {
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
		// RFC 9111 §5.2.1.1 (ccreq-ma0, ccreq-ma1).
		"max-age zero": {lines: []string{"max-age=0"}, want: "max-age=0"},
		"max-age one":  {lines: []string{"max-age=1"}, want: "max-age=1"},
		// RFC 9111 §5.2: quoted form accepted, names case-insensitive.
		"quoted and cased": {lines: []string{`Max-Age="600"`}, want: "max-age=600"},
		// RFC 9111 §1.2.2: invalid means zero, i.e. revalidate.
		"max-age invalid":  {lines: []string{"max-age=-1"}, want: "max-age=0", defects: arg},
		"max-age overflow": {lines: []string{"max-age=4294967296"}, want: "max-age=2147483648"},
		"max-age spaced":   {lines: []string{"max-age = 5"}, want: "max-age=0", defects: syn | arg},
		// RFC 9111 §5.2.1.2 (ccreq-max-stale): with and without a value.
		"max-stale value":          {lines: []string{"max-stale=1000"}, want: "max-stale=1000"},
		"max-stale any":            {lines: []string{"max-stale"}, want: "max-stale=2147483648 max-stale-any"},
		"max-stale invalid":        {lines: []string{"max-stale=soon"}, want: "max-stale=0", defects: arg},
		"max-stale empty":          {lines: []string{"max-stale="}, want: "max-stale=0", defects: syn | arg},
		"max-stale any then value": {lines: []string{"max-stale, max-stale=5"}, want: "max-stale=2147483648 max-stale-any", defects: conf},
		"max-stale value then any": {lines: []string{"max-stale=5", "max-stale"}, want: "max-stale=5", defects: conf},
		// RFC 9111 §5.2.1.3 (ccreq-min-fresh).
		"min-fresh":         {lines: []string{"min-fresh=2000"}, want: "min-fresh=2000"},
		"min-fresh invalid": {lines: []string{"min-fresh=1.5"}, want: "min-fresh=0", defects: arg},
		// RFC 5861 §4: stale-if-error in a request.
		"stale-if-error": {lines: []string{"stale-if-error=30"}, want: "sie=30"},
		// RFC 9111 §5.2.1.4-§5.2.1.7 (ccreq-no-cache, ccreq-no-store, ccreq-oic).
		"flags":       {lines: []string{"no-cache, NO-STORE", "no-transform, only-if-cached"}, want: "no-cache no-store no-transform only-if-cached"},
		"no-cache":    {lines: []string{"no-cache"}, want: "no-cache"},
		"no-store":    {lines: []string{"no-store"}, want: "no-store"},
		"oic":         {lines: []string{"only-if-cached"}, want: "only-if-cached"},
		"flag w/ arg": {lines: []string{`no-cache="Set-Cookie", only-if-cached=1`}, want: "no-cache only-if-cached", defects: arg},
		// RFC 9111 §4.2.1 applied to requests: the first occurrence is used.
		"duplicate max-age": {lines: []string{"max-age=10", "max-age=20"}, want: "max-age=10", defects: conf},
		// RFC 9111 §5.2.2: response directives mean nothing in a request.
		"response directives are extensions": {lines: []string{"public, s-maxage=5, max-age=1"}, want: "max-age=1 ext:public= ext:s-maxage=5"},
		// RFC 9111 §5.2.3: unknown directives kept.
		"extension": {lines: []string{`foo="a,b", max-age=0`}, want: "max-age=0 ext:foo=a,b"},
		// RFC 9110 §5.6.1: empty elements ignored; garbage skipped.
		"garbage": {lines: []string{",,\t, max-age=5 ,\"x\", =, no-cache"}, want: "max-age=5 no-cache", defects: syn},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := ParseRequest(tc.lines)
			if got := describeRequest(r); got != tc.want {
				t.Errorf("ParseRequest(%q) = %q, want %q", tc.lines, got, tc.want)
			}
			if got := r.Defects(); got != tc.defects {
				t.Errorf("ParseRequest(%q).Defects() = %v, want %v", tc.lines, got, tc.defects)
			}
		})
	}
}

func TestRequestExtensionAndString(t *testing.T) {
	r := ParseRequest([]string{`max-stale, X-Trace="a b", no-cache, max-age=5, min-fresh=1, stale-if-error=2, no-store, no-transform, only-if-cached`})
	// RFC 9111 §5.2.3: extension lookup is case-insensitive.
	if v, ok := r.Extension("x-trace"); v != "a b" || !ok {
		t.Errorf(`Extension("x-trace") = %q, %v, want "a b", true`, v, ok)
	}
	if _, ok := r.Extension("max-age"); ok {
		t.Error(`Extension("max-age") found a known directive`)
	}
	if _, ok := ParseRequest(nil).Extension("x"); ok {
		t.Error(`Extension on an empty Request reported true`)
	}
	// RFC 9111 §5.2: canonical rendering.
	want := `no-cache, no-store, max-age=5, max-stale, min-fresh=1, no-transform, only-if-cached, stale-if-error=2, X-Trace="a b"`
	if got := r.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := ParseRequest([]string{"max-stale=7"}).String(); got != "max-stale=7" {
		t.Errorf("String() = %q, want max-stale=7", got)
	}
}
