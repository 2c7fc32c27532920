package httpcache

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestVaryNames(t *testing.T) {
	tests := map[string]struct {
		lines []string
		want  []string
		star  bool
	}{
		// RFC 9110 §12.5.5: no Vary, nothing to match.
		"absent": {nil, nil, false},
		"empty":  {[]string{""}, nil, false},
		// RFC 9110 §12.5.5: field names, case-insensitive, canonical form.
		"one":           {[]string{"accept-encoding"}, []string{"Accept-Encoding"}, false},
		"list":          {[]string{"Accept-Encoding, accept-language"}, []string{"Accept-Encoding", "Accept-Language"}, false},
		"several lines": {[]string{"Accept", "Origin"}, []string{"Accept", "Origin"}, false},
		// RFC 9110 §12.5.5: a name listed twice counts once.
		"duplicates":     {[]string{"Accept-Encoding, ACCEPT-ENCODING", "accept-encoding"}, []string{"Accept-Encoding"}, false},
		"empty elements": {[]string{" , Accept ,, "}, []string{"Accept"}, false},
		"order kept":     {[]string{"Origin, Accept"}, []string{"Origin", "Accept"}, false},
		// RFC 9110 §12.5.5, RFC 9111 §4.1: "*" never matches.
		"star":           {[]string{"*"}, nil, true},
		"star in a list": {[]string{"Accept, *"}, nil, true},
		"star on a line": {[]string{"Accept", "*"}, nil, true},
		// RFC 9110 §5.6.2: an element that is not a token is no field name.
		"not a token":    {[]string{"Accept Encoding, Accept"}, []string{"Accept"}, false},
		"quoted":         {[]string{`"Accept", Origin`}, []string{"Origin"}, false},
		"with parameter": {[]string{"Accept;q=1, Origin"}, []string{"Origin"}, false},
		"star prefix":    {[]string{"*x, Accept"}, []string{"*x", "Accept"}, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, star := varyNames(http.Header{"Vary": tt.lines})
			if !slices.Equal(got, tt.want) || star != tt.star {
				t.Errorf("varyNames(%q) = %q, %v; want %q, %v", tt.lines, got, star, tt.want, tt.star)
			}
		})
	}
}

func TestVaryValues(t *testing.T) {
	// Each case lists request headers that must select the same variant
	// (same) and ones that must not (differ), for the Vary names given.
	type tc struct {
		names  []string
		base   http.Header
		same   []http.Header
		differ []http.Header
	}
	ae := func(v ...string) http.Header { return http.Header{"Accept-Encoding": v} }
	tests := map[string]tc{
		// §4.1: members of Accept-Encoding in any order, case or spacing
		// mean the same.
		"Accept-Encoding order, case and whitespace": {
			names: []string{"Accept-Encoding"},
			base:  ae("gzip, br"),
			same: []http.Header{
				ae("br, gzip"), ae("br,gzip"), ae("GZIP, BR"), ae(" gzip ,\tbr "),
				ae("gzip", "br"), ae("br", "gzip"), ae("gzip,, br"),
			},
			differ: []http.Header{ae("gzip"), ae("gzip, br, zstd"), ae("gzip, deflate"), ae(""), {}},
		},
		// §4.1: weights are kept, without the whitespace around them.
		"Accept-Encoding weights": {
			names:  []string{"Accept-Encoding"},
			base:   ae("gzip;q=1.0, br;q=0.5"),
			same:   []http.Header{ae("br; q=0.5, gzip ; q=1.0"), ae("BR;Q=0.5,GZIP;Q=1.0")},
			differ: []http.Header{ae("gzip;q=0.5, br;q=1.0"), ae("gzip, br")},
		},
		// §4.1: Accept-Language is normalised the same way.
		"Accept-Language": {
			names:  []string{"Accept-Language"},
			base:   http.Header{"Accept-Language": {"en-US, fr;q=0.8"}},
			same:   []http.Header{{"Accept-Language": {"fr; q=0.8, en-us"}}},
			differ: []http.Header{{"Accept-Language": {"en-US"}}, {"Accept-Language": {"de, fr;q=0.8"}}},
		},
		// §4.1: other fields keep order and case; list elements are
		// trimmed and lines combined as one list (RFC 9110 §5.3).
		"Accept keeps order and case": {
			names:  []string{"Accept"},
			base:   http.Header{"Accept": {"text/html, application/json"}},
			same:   []http.Header{{"Accept": {"text/html,application/json"}}, {"Accept": {"text/html", "application/json"}}},
			differ: []http.Header{{"Accept": {"application/json, text/html"}}, {"Accept": {"TEXT/HTML, application/json"}}},
		},
		// §4.1: an absent field matches only an absent field.
		"absent versus empty": {
			names:  []string{"X-Mode"},
			base:   http.Header{},
			same:   []http.Header{{"Other": {"x"}}},
			differ: []http.Header{{"X-Mode": {""}}, {"X-Mode": {"a"}}},
		},
		"empty versus absent": {
			names:  []string{"X-Mode"},
			base:   http.Header{"X-Mode": {""}},
			same:   []http.Header{{"X-Mode": {" "}}, {"X-Mode": {","}}},
			differ: []http.Header{{}, {"X-Mode": {"a"}}},
		},
		// §4.1: every named field counts; others do not.
		"two fields": {
			names: []string{"Accept-Encoding", "Origin"},
			base:  http.Header{"Accept-Encoding": {"gzip"}, "Origin": {"https://a.example"}},
			same:  []http.Header{{"Accept-Encoding": {"GZIP"}, "Origin": {"https://a.example"}, "Cookie": {"x"}}},
			differ: []http.Header{
				{"Accept-Encoding": {"gzip"}, "Origin": {"https://b.example"}},
				{"Accept-Encoding": {"gzip"}},
				{"Origin": {"https://a.example"}},
			},
		},
		// Values that look like the separators cannot shift one field
		// into another.
		"no ambiguity between fields": {
			names:  []string{"A", "B"},
			base:   http.Header{"A": {"x"}, "B": {"y"}},
			differ: []http.Header{{"A": {"x\nB=y"}}, {"A": {"x,y"}}, {"B": {"x"}, "A": {"y"}}},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			want := varyValues(tt.names, tt.base)
			if want == "" {
				t.Fatalf("varyValues(%q, %v) is empty", tt.names, tt.base)
			}
			for _, h := range tt.same {
				if got := varyValues(tt.names, h); got != want {
					t.Errorf("varyValues(%v) = %q, want %q as for %v", h, got, want, tt.base)
				}
			}
			for _, h := range tt.differ {
				if got := varyValues(tt.names, h); got == want {
					t.Errorf("varyValues(%v) = %q, the same as for %v", h, got, tt.base)
				}
			}
		})
	}
	if v := varyValues(nil, http.Header{"Accept": {"x"}}); v != "" {
		t.Errorf("varyValues without names = %q, want empty", v)
	}
}

func TestVariantKey(t *testing.T) {
	p := string(appendPrimaryKey(nil, "http", "example.com", "/a?b=c"))
	if want := "1 http://example.com/a?b=c"; p != want {
		t.Errorf("primary key = %q, want %q", p, want)
	}
	a := variantKey(p, "Accept-Encoding=gzip\n")
	b := variantKey(p, "Accept-Encoding=br\n")
	if a == b || !strings.HasPrefix(a, p+"\x00") || a != variantKey(p, "Accept-Encoding=gzip\n") {
		t.Errorf("variant keys %q and %q: want distinct, stable and under %q", a, b, p)
	}
	// §2: the key is the target URI: host and request-target both count.
	if string(appendPrimaryKey(nil, "http", "a.example", "/x")) == string(appendPrimaryKey(nil, "http", "b.example", "/x")) {
		t.Error("primary keys of two hosts are equal")
	}
}

func TestVariantRecordPut(t *testing.T) {
	keys := func(r *variantRecord) []string {
		var k []string
		for _, v := range r.variants {
			k = append(k, v.key+"="+v.etag)
		}
		return k
	}
	tests := map[string]struct {
		puts []variant
		want []string
	}{
		"add": {
			puts: []variant{{"a", `"1"`}, {"b", `"2"`}},
			want: []string{`a="1"`, `b="2"`},
		},
		// §4.3.1: a new response for the same variant replaces the old
		// one and becomes the newest.
		"replace same key": {
			puts: []variant{{"a", `"1"`}, {"b", `"2"`}, {"a", `"3"`}},
			want: []string{`b="2"`, `a="3"`},
		},
		"replace only": {
			puts: []variant{{"a", `"1"`}, {"a", ""}},
			want: []string{`a=`},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := &variantRecord{names: []string{"Accept"}}
			for _, v := range tt.puts {
				r.put(v)
			}
			if got := keys(r); !slices.Equal(got, tt.want) {
				t.Errorf("variants = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		r := &variantRecord{names: []string{"Accept"}}
		for i := range maxVariants + 5 {
			r.put(variant{key: fmt.Sprint("k", i)})
		}
		if len(r.variants) != maxVariants {
			t.Fatalf("%d variants kept, want %d", len(r.variants), maxVariants)
		}
		// The oldest are forgotten first.
		if first, last := r.variants[0].key, r.variants[maxVariants-1].key; first != "k5" || last != fmt.Sprint("k", maxVariants+4) {
			t.Errorf("kept %s..%s, want k5..k%d", first, last, maxVariants+4)
		}
		// Putting an old key again keeps the bound.
		r.put(variant{key: "k10"})
		if len(r.variants) != maxVariants || r.variants[maxVariants-1].key != "k10" {
			t.Errorf("after re-put: %d variants, newest %s", len(r.variants), r.variants[len(r.variants)-1].key)
		}
	})
}

func TestVariantRecordRoundTrip(t *testing.T) {
	tests := map[string]*variantRecord{
		"no variants": {names: []string{"Accept-Encoding"}},
		"two names": {
			names:    []string{"Accept-Encoding", "Origin"},
			variants: []variant{{key: "1 example.com/\x00abc", etag: `"x"`}, {key: "1 example.com/\x00def", etag: ""}},
		},
		"binary keys": {
			names:    []string{"A"},
			variants: []variant{{key: "\x00\xff\n", etag: `W/"w"`}},
		},
	}
	full := &variantRecord{names: []string{"Accept"}}
	for i := range maxVariants {
		full.put(variant{key: fmt.Sprint("key", i), etag: fmt.Sprintf(`"%d"`, i)})
	}
	tests["full"] = full
	for name, r := range tests {
		t.Run(name, func(t *testing.T) {
			b := r.encode()
			got, err := decodeVariants(b)
			if err != nil {
				t.Fatalf("decodeVariants: %v", err)
			}
			if !slices.Equal(got.names, r.names) || !slices.Equal(got.variants, r.variants) {
				t.Errorf("round trip = %+v, want %+v", got, r)
			}
			for n := range len(b) {
				if _, err := decodeVariants(b[:n]); !errors.Is(err, errCorrupt) {
					t.Errorf("decodeVariants of the first %d of %d bytes = %v, want errCorrupt", n, len(b), err)
				}
			}
			if _, err := decodeVariants(append(b, 0)); !errors.Is(err, errCorrupt) {
				t.Errorf("decodeVariants with a trailing byte = %v, want errCorrupt", err)
			}
		})
	}
}

func TestDecodeVariantsCorrupt(t *testing.T) {
	e := sampleEntry()
	tests := map[string][]byte{
		"nil":            nil,
		"kind only":      {kindVariant},
		"wrong version":  {kindVariant, version + 1, 0, 0, 0, 0, 0, 0},
		"entry":          e.encode(nil),
		"no count":       {kindVariant, version, 0, 0, 0, 0},
		"names too long": {kindVariant, version, 0, 0, 0, 9, 'a', 0, 0},
		"huge names":     {kindVariant, version, 0xff, 0xff, 0xff, 0xff, 0, 0},
		"count too big":  {kindVariant, version, 0, 0, 0, 0, 0xff, 0xff},
		"missing etag":   {kindVariant, version, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 'k'},
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if r, err := decodeVariants(b); !errors.Is(err, errCorrupt) {
				t.Errorf("decodeVariants = %+v, %v; want errCorrupt", r, err)
			}
		})
	}
}

// RFC 9110 §4.2.3: the host is case-insensitive, so one entry serves every
// spelling of it.
func TestPrimaryKeyHostCase(t *testing.T) {
	if string(appendPrimaryKey(nil, "http", "Example.COM", "/A")) != string(appendPrimaryKey(nil, "http", "example.com", "/A")) {
		t.Fatal("host case splits the cache")
	}
	if string(appendPrimaryKey(nil, "http", "example.com", "/A")) == string(appendPrimaryKey(nil, "http", "example.com", "/a")) {
		t.Fatal("path case merged")
	}
	// The default port is the same authority as none.
	if string(appendPrimaryKey(nil, "http", "example.com:80", "/")) != string(appendPrimaryKey(nil, "http", "example.com", "/")) ||
		string(appendPrimaryKey(nil, "https", "example.com:443", "/")) != string(appendPrimaryKey(nil, "https", "example.com", "/")) {
		t.Fatal("default port splits the cache")
	}
	if string(appendPrimaryKey(nil, "http", "example.com:8080", "/")) == string(appendPrimaryKey(nil, "http", "example.com", "/")) {
		t.Fatal("another port merged")
	}
}

// RFC 9111 §2: the scheme is part of the key; a response to http is never
// served for https.
func TestPrimaryKeyScheme(t *testing.T) {
	if string(appendPrimaryKey(nil, "http", "example.com", "/")) == string(appendPrimaryKey(nil, "https", "example.com", "/")) {
		t.Fatal("http and https share a key")
	}
	tls := newRequest(http.MethodGet, "https://example.com/x")
	if schemeOf(tls) != "https" || schemeOf(newRequest(http.MethodGet, "/x")) != "http" {
		t.Fatal("schemeOf")
	}
}
