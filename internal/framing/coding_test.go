package framing

import "testing"

func TestFinalCoding(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		final string
		ok    bool
	}{
		{"chunked", []string{"chunked"}, "chunked", true},
		// RFC 9112 §7: coding names are case-insensitive.
		{"case", []string{"GZip"}, "gzip", true},
		// RFC 9112 §6.1: codings are listed in the order applied.
		{"gzip-chunked", []string{"gzip, chunked"}, "chunked", true},
		{"chunked-gzip", []string{"chunked, gzip"}, "gzip", true},
		// RFC 9110 §5.3: field lines combine into one list.
		{"over-lines", []string{"gzip", "chunked"}, "chunked", true},
		// RFC 9110 §5.6.1: empty elements are skipped; an empty list is
		// not a Transfer-Encoding (#transfer-coding has no member).
		{"empty-elements", []string{" , gzip ,, "}, "gzip", true},
		{"empty", []string{""}, "", false},
		{"only-commas", []string{",", " , "}, "", false},
		// RFC 9112 §7: transfer-parameters.
		{"parameter", []string{"foo;a=b"}, "foo", true},
		{"parameters-ows", []string{"foo ; a=b ;c = \"d;e,f\""}, "foo", true},
		{"parameter-no-value", []string{"foo;a"}, "", false},
		{"parameter-empty-value", []string{"foo;a="}, "", false},
		{"parameter-no-name", []string{"foo;=b"}, "", false},
		{"parameter-trailing-semicolon", []string{"foo;"}, "", false},
		{"parameter-unterminated-quote", []string{`foo;a="b`}, "", false},
		{"parameter-junk", []string{"foo;a=b c"}, "", false},
		// RFC 9110 §5.6.2: a coding name is a token.
		{"not-token", []string{"gz ip"}, "", false},
		{"quoted-name", []string{`"gzip"`}, "", false},
		// RFC 9112 §7.1 defines no parameter for chunked; §6.1 forbids
		// applying it twice.
		{"chunked-parameter", []string{"chunked;x=1"}, "", false},
		{"chunked-twice", []string{"chunked, chunked"}, "", false},
		{"chunked-twice-over-lines", []string{"chunked", "gzip, CHUNKED"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			final, ok := finalCoding(tt.lines)
			if final != tt.final || ok != tt.ok {
				t.Errorf("finalCoding(%q) = %q, %v; want %q, %v", tt.lines, final, ok, tt.final, tt.ok)
			}
		})
	}
}
