package audit

import (
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// TestParseAge checks the Age parser (RFC 9111 §5.1, §1.2.2).
func TestParseAge(t *testing.T) {
	tests := map[string]struct {
		lines  []string
		want   int64
		status AgeStatus
	}{
		// §5.1: absent.
		"absent": {nil, 0, AgeAbsent},
		// §5.1: one delta-seconds.
		"valid": {[]string{"60"}, 60, AgeValid},
		"zero":  {[]string{"0"}, 0, AgeValid},
		// §1.2.2: leading zeros are digits too.
		"leading_zeros": {[]string{"007"}, 7, AgeValid},
		// §1.2.2: values beyond 2^31 are 2^31.
		"overflow": {[]string{"99999999999999999999999"}, 1 << 31, AgeValid},
		// §5.1: a list: the first member is used.
		"list":        {[]string{"5, 6"}, 5, AgeList},
		"two_lines":   {[]string{"5", "6"}, 5, AgeList},
		"list_spaces": {[]string{" 5 ,"}, 5, AgeValid},
		// §5.1: anything but a non-negative integer is ignored.
		"negative": {[]string{"-1"}, 0, AgeInvalid},
		"fraction": {[]string{"1.5"}, 0, AgeInvalid},
		"empty":    {[]string{""}, 0, AgeInvalid},
		"word":     {[]string{"old"}, 0, AgeInvalid},
		"bad_list": {[]string{"x, 5"}, 0, AgeInvalid},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, st := ParseAge(tt.lines)
			if got != tt.want || st != tt.status {
				t.Errorf("ParseAge(%q) = %d, %s; want %d, %s", tt.lines, got, st, tt.want, tt.status)
			}
		})
	}
}

// TestParseCacheStatus checks the Cache-Status parser (RFC 9211 §2).
func TestParseCacheStatus(t *testing.T) {
	tests := map[string]struct {
		lines   []string
		want    []CacheStatus
		wantErr bool
	}{
		// §2: no field, no members.
		"absent": {lines: nil},
		// §3: a minimal hit.
		"hit": {lines: []string{"ExampleCache; hit"}, want: []CacheStatus{{Cache: "ExampleCache", Hit: true}}},
		// §2.2 to §2.5, §2.8: every parameter; a String identifier.
		"all": {
			lines: []string{`"Example CDN"; fwd=stale; fwd-status=304; stored; collapsed; ttl=-3; key="/a"; detail=MEMORY; x-ext=1`},
			want: []CacheStatus{{Cache: "Example CDN", Fwd: "stale", FwdStatus: 304, Stored: true, Collapsed: true,
				TTL: -3, HasTTL: true, Key: "/a", Detail: "MEMORY", Extensions: []string{"x-ext"}}},
		},
		// §2: one member per cache, over one or several lines, in order.
		"chain": {
			lines: []string{"origin-cache; hit", "cdn; fwd=uri-miss"},
			want:  []CacheStatus{{Cache: "origin-cache", Hit: true}, {Cache: "cdn", Fwd: "uri-miss"}},
		},
		// §2.1: hit=?0 is false.
		"hit_false": {lines: []string{"c; hit=?0"}, want: []CacheStatus{{Cache: "c"}}},
		// RFC 8941: not a List.
		"unparsable": {lines: []string{`c; hit, "x`}, wantErr: true},
		// §2: an inner list is not a cache.
		"inner_list": {lines: []string{"(a b); hit"}, wantErr: true},
		// §2: the identifier is a String or Token.
		"integer_identifier": {lines: []string{"7; hit"}, wantErr: true},
		// §2.1, §2.2, §2.4: wrong parameter types.
		"hit_token":  {lines: []string{"c; hit=yes"}, wantErr: true},
		"fwd_string": {lines: []string{`c; fwd="stale"`}, wantErr: true},
		"ttl_string": {lines: []string{`c; ttl="5"`}, wantErr: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ParseCacheStatus(tt.lines)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, tt.want) && (len(got) != 0 || len(tt.want) != 0) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := ParseCacheStatus([]string{"c; hit=yes"}); !errors.Is(err, errParamType) {
		t.Errorf("wrong type error %v does not wrap errParamType", err)
	}
}

// TestExplain checks the words for a Cache-Status member.
func TestExplain(t *testing.T) {
	tests := map[string]struct {
		cs   CacheStatus
		want string
	}{
		"hit":   {CacheStatus{Cache: "c", Hit: true, TTL: 5, HasTTL: true}, "c answered from its store (hit), 5 s of freshness left"},
		"stale": {CacheStatus{Cache: "c", Fwd: "stale", FwdStatus: 304, Stored: true, TTL: -2, HasTTL: true}, "c went to the origin because the stored response was stale (fwd=stale), the next hop answered 304, stored the response, stale by 2 s"},
		"other": {CacheStatus{Cache: "c", Fwd: "x-special"}, "c went to the origin because reason x-special (fwd=x-special)"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tt.cs.Explain(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestParseDate checks the three forms of HTTP-date (RFC 9110 §5.6.7).
func TestParseDate(t *testing.T) {
	want := time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)
	tests := map[string]struct {
		s    string
		form dateForm
	}{
		"imf_fixdate": {"Sun, 06 Nov 1994 08:49:37 GMT", dateIMF},
		"rfc850":      {"Sunday, 06-Nov-94 08:49:37 GMT", dateObsolete},
		"asctime":     {"Sun Nov  6 08:49:37 1994", dateObsolete},
		// §5.6.7: the day name is part of the format.
		"wrong_day_name": {"Mon, 06 Nov 1994 08:49:37 GMT", dateObsolete},
		"invalid":        {"yesterday", dateInvalid},
		"empty":          {"", dateInvalid},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, form := parseDate(tt.s)
			if form != tt.form {
				t.Errorf("form %d, want %d", form, tt.form)
			}
			if form != dateInvalid && !got.Equal(want) {
				t.Errorf("time %v, want %v", got, want)
			}
		})
	}
	if _, form := parseDate(testDate.Format(http.TimeFormat)); form != dateIMF {
		t.Error("http.TimeFormat is not IMF-fixdate")
	}
}
