package byterange

import (
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	many := func(n int) string {
		var b strings.Builder
		b.WriteString("bytes=")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(strings.Repeat("0", i%3) + "1-1")
		}
		return b.String()
	}
	tests := map[string]struct {
		header string
		size   int64
		want   []Range
		err    error
	}{
		// §14.1.2: the first 500 bytes.
		"single": {header: "bytes=0-499", size: 10000, want: []Range{{0, 500}}},
		// §14.1.2: the second 500 bytes.
		"single second": {header: "bytes=500-999", size: 10000, want: []Range{{500, 500}}},
		// §14.1.2: one byte.
		"single byte": {header: "bytes=0-0", size: 1, want: []Range{{0, 1}}},
		// §14.1.2: last-pos absent means the remainder.
		"open": {header: "bytes=9500-", size: 10000, want: []Range{{9500, 500}}},
		// §14.1.2: an open range from zero is the whole representation.
		"open from zero": {header: "bytes=0-", size: 10000, want: []Range{{0, 10000}}},
		// §14.1.2: the final 500 bytes.
		"suffix": {header: "bytes=-500", size: 10000, want: []Range{{9500, 500}}},
		// §14.1.2: a suffix longer than the representation selects all of it.
		"suffix larger than size": {header: "bytes=-20000", size: 10000, want: []Range{{0, 10000}}},
		// §14.1.2: a suffix equal to the length selects all of it.
		"suffix equal to size": {header: "bytes=-10000", size: 10000, want: []Range{{0, 10000}}},
		// §14.1.2: last-pos at or beyond the length is clamped to the end.
		"last-pos beyond size": {header: "bytes=9000-20000", size: 10000, want: []Range{{9000, 1000}}},
		// §14.1.2: last-pos equal to the length is clamped too.
		"last-pos equal to size": {header: "bytes=9990-10000", size: 10000, want: []Range{{9990, 10}}},
		// §14.1.2: the first and last bytes only.
		"multiple first and last": {header: "bytes=0-0,-1", size: 10000, want: []Range{{0, 1}, {9999, 1}}},
		// §14.1.2: the first, middle and last 1000 bytes, with OWS.
		"multiple with OWS": {header: "bytes= 0-999, 4500-5499, -1000", size: 10000, want: []Range{{0, 1000}, {4500, 1000}, {9000, 1000}}},
		// §15.3.7.2: parts follow the requested order.
		"multiple descending": {header: "bytes=500-599,0-99", size: 10000, want: []Range{{500, 100}, {0, 100}}},
		// §14.1.2, §15.3.7.2: adjacent ranges (a non-canonical second 500 bytes) coalesce.
		"adjacent": {header: "bytes=500-600,601-999", size: 10000, want: []Range{{500, 500}}},
		// §14.1.2, §15.3.7.2: overlapping ranges coalesce.
		"overlapping": {header: "bytes=500-700,601-999", size: 10000, want: []Range{{500, 500}}},
		// §14.2, §15.3.7.2: many overlapping ranges coalesce into one.
		"overlapping many": {header: "bytes=0-10,5-15,10-20,0-20,3-4", size: 100, want: []Range{{0, 21}}},
		// §15.3.7.2: a merged range takes the place of its earliest range-spec.
		"coalesced order": {header: "bytes=50-59,10-19,55-69,0-9", size: 100, want: []Range{{50, 20}, {0, 20}}},
		// §15.3.7.2: duplicates coalesce.
		"duplicate": {header: "bytes=1-2,1-2", size: 10, want: []Range{{1, 2}}},
		// §15.3.7.2: a range contained in another coalesces into it.
		"contained": {header: "bytes=2-3,0-9", size: 10, want: []Range{{0, 10}}},
		// §15.3.7.2: a gap of one byte keeps two parts.
		"gap of one": {header: "bytes=0-1,3-4", size: 10, want: []Range{{0, 2}, {3, 2}}},
		// §14.1.1: an unsatisfiable range-spec is dropped when another is satisfiable.
		"out-of-range dropped": {header: "bytes=0-1,20000-", size: 10000, want: []Range{{0, 2}}},
		// §14.1.2: first-pos equal to the length is not satisfiable.
		"unsatisfiable at size": {header: "bytes=10000-", size: 10000, err: ErrUnsatisfiable},
		// §14.1.2: first-pos beyond the length is not satisfiable.
		"unsatisfiable beyond size": {header: "bytes=20000-20999", size: 10000, err: ErrUnsatisfiable},
		// §14.1.2: a zero suffix-length is valid but not satisfiable.
		"suffix zero": {header: "bytes=-0", size: 10000, err: ErrUnsatisfiable},
		// §14.1.1: satisfiable if any range-spec is; none here.
		"unsatisfiable all": {header: "bytes=-0,10000-,20000-30000", size: 10000, err: ErrUnsatisfiable},
		// §14.1.1: last-pos less than first-pos is invalid.
		"invalid reversed": {header: "bytes=5-1", size: 10000, err: ErrInvalid},
		// §14.1.1: one invalid range-spec invalidates the whole field.
		"invalid one of many": {header: "bytes=0-1,5-1", size: 10000, err: ErrInvalid},
		// §14.1.1: range-set = 1#range-spec.
		"invalid empty set": {header: "bytes=", size: 10000, err: ErrInvalid},
		// §14.1.1, §5.6.1: only empty elements is still an empty set.
		"invalid only commas": {header: "bytes= , ,", size: 10000, err: ErrInvalid},
		// §14.1.1: first-pos = 1*DIGIT.
		"invalid letters": {header: "bytes=a-b", size: 10000, err: ErrInvalid},
		// §14.1.1: a lone "-" has neither first-pos nor suffix-length.
		"invalid dash": {header: "bytes=-", size: 10000, err: ErrInvalid},
		// §14.1.1: a range-spec needs a "-".
		"invalid no dash": {header: "bytes=5", size: 10000, err: ErrInvalid},
		// §14.1.1: no sign before digits.
		"invalid plus": {header: "bytes=+1-2", size: 10000, err: ErrInvalid},
		// §14.1.1: a negative suffix is not a suffix-length.
		"invalid double dash": {header: "bytes=--5", size: 10000, err: ErrInvalid},
		// §14.1.1: two dashes.
		"invalid three parts": {header: "bytes=0-1-2", size: 10000, err: ErrInvalid},
		// §14.1.1: no whitespace inside a range-spec.
		"invalid inner space": {header: "bytes=0 -1", size: 10000, err: ErrInvalid},
		// §14.1.1: ranges-specifier = range-unit "=" range-set, no OWS around "=".
		"invalid space before equals": {header: "bytes =0-1", size: 10000, err: ErrInvalid},
		// §14.1.1: a missing "=".
		"invalid no equals": {header: "bytes 0-1", size: 10000, err: ErrInvalid},
		// §14.1.1: missing unit.
		"invalid no unit": {header: "=0-1", size: 10000, err: ErrInvalid},
		// §14.1.2: byte ranges do not use other-range.
		"invalid other-range": {header: "bytes=first", size: 10000, err: ErrInvalid},
		// §14.2: an origin server MUST ignore an unknown range unit.
		"unknown unit": {header: "items=0-1", size: 10000, err: ErrInvalid},
		// §14.1: range units are case-insensitive.
		"unit case-insensitive": {header: "BYTES=0-1", size: 10000, want: []Range{{0, 2}}},
		// §14.1: range units are case-insensitive.
		"unit mixed case": {header: "ByTeS=0-1", size: 10000, want: []Range{{0, 2}}},
		// §14.2: an absent or empty field is not a ranges-specifier.
		"invalid empty": {header: "", size: 10000, err: ErrInvalid},
		// §5.6.3: OWS around the field value is not part of it.
		"outer OWS": {header: " \tbytes=0-1\t ", size: 10000, want: []Range{{0, 2}}},
		// §5.6.1: empty list elements are skipped.
		"empty elements": {header: "bytes=,0-1,, ,\t,5-6,", size: 10000, want: []Range{{0, 2}, {5, 2}}},
		// §5.6.1: leading empty elements with OWS.
		"leading empty elements": {header: "bytes=, , 5-", size: 10, want: []Range{{5, 5}}},
		// §14.1.1: leading zeros are DIGITs.
		"leading zeros": {header: "bytes=007-0010", size: 100, want: []Range{{7, 4}}},
		// §14.1.2: a last-pos overflowing int64 reaches the end.
		"huge last-pos": {header: "bytes=5-99999999999999999999999999", size: 10, want: []Range{{5, 5}}},
		// §14.1.2: MaxInt64 as last-pos.
		"max last-pos": {header: "bytes=5-9223372036854775807", size: 10, want: []Range{{5, 5}}},
		// §14.1.2: a first-pos overflowing int64 is not satisfiable.
		"huge first-pos": {header: "bytes=99999999999999999999999999-", size: 10, err: ErrUnsatisfiable},
		// §14.1.2: a suffix-length overflowing int64 selects all.
		"huge suffix": {header: "bytes=-99999999999999999999999999", size: 10, want: []Range{{0, 10}}},
		// §14.1.1: both overflowing, last-pos less than first-pos, is invalid.
		"huge reversed": {header: "bytes=99999999999999999999999999-99999999999999999999999998", size: 10, err: ErrInvalid},
		// §14.1.1: both overflowing and equal is valid but not satisfiable.
		"huge equal": {header: "bytes=99999999999999999999999999-0099999999999999999999999999", size: 10, err: ErrUnsatisfiable},
		// §14.1.2: ranges near the int64 limit do not overflow.
		"size near max": {header: "bytes=-1,9223372036854775806-", size: math.MaxInt64, want: []Range{{math.MaxInt64 - 1, 1}}},
		// §14.1.2: on a zero-length representation an int-range is not satisfiable.
		"zero size int-range": {header: "bytes=0-", size: 0, err: ErrUnsatisfiable},
		// §14.1.2: on a zero-length representation "-0" is not satisfiable.
		"zero size suffix zero": {header: "bytes=-0", size: 0, err: ErrUnsatisfiable},
		// §14.1.2, §14.2: a non-zero suffix is satisfiable but selects nothing: ignored.
		"zero size suffix": {header: "bytes=-5", size: 0, err: ErrNoContent},
		// §14.1.2, §14.2: mixed forms on zero length: the suffix makes it satisfiable.
		"zero size mixed": {header: "bytes=0-0,-5", size: 0, err: ErrNoContent},
		// §14.1.1: syntax is checked even on zero length.
		"zero size invalid": {header: "bytes=x", size: 0, err: ErrInvalid},
		// §14.2: a negative size means the length is unknown: ignored.
		"negative size": {header: "bytes=0-1", size: -1, err: ErrInvalid},
		// §14.2: MaxRanges range-specs are accepted (and coalesce).
		"max ranges": {header: many(MaxRanges), size: 10, want: []Range{{1, 1}}},
		// §14.2: more than MaxRanges range-specs are ignored.
		"too many": {header: many(MaxRanges + 1), size: 10, err: ErrTooMany},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := Parse(tt.header, tt.size)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("Parse(%q, %d) error = %v, want %v", tt.header, tt.size, err, tt.err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Parse(%q, %d) = %v, want %v", tt.header, tt.size, got, tt.want)
			}
		})
	}
}

func TestContentRange(t *testing.T) {
	tests := map[string]struct {
		r    Range
		size int64
		want string
	}{
		// §14.4: the first 500 bytes.
		"first": {Range{0, 500}, 1234, "bytes 0-499/1234"},
		// §14.4: the second 500 bytes.
		"second": {Range{500, 500}, 1234, "bytes 500-999/1234"},
		// §14.4: all except the first 500 bytes.
		"rest": {Range{500, 734}, 1234, "bytes 500-1233/1234"},
		// §14.4: the last 500 bytes.
		"last": {Range{734, 500}, 1234, "bytes 734-1233/1234"},
		// §14.4: one byte.
		"one byte": {Range{0, 1}, 1, "bytes 0-0/1"},
		// §14.4: an empty range has the unsatisfied-range form.
		"empty": {Range{}, 47022, "bytes */47022"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tt.r.ContentRange(tt.size); got != tt.want {
				t.Errorf("ContentRange = %q, want %q", got, tt.want)
			}
			if got, want := tt.r.contentRangeLen(tt.size), int64(len(tt.want)); tt.r.Length > 0 && got != want {
				t.Errorf("contentRangeLen = %d, want %d", got, want)
			}
		})
	}
}

func TestUnsatisfiable(t *testing.T) {
	tests := map[string]struct {
		size int64
		want string
	}{
		// §15.5.17: the example 416.
		"example": {47022, "bytes */47022"},
		// §14.4: a zero-length representation.
		"zero": {0, "bytes */0"},
		// §14.4: no complete-length for an unknown length.
		"negative": {-1, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			h := http.Header{"Content-Length": {"47022"}}
			Unsatisfiable(h, tt.size)
			if got := h["Content-Range"]; len(tt.want) == 0 && got != nil || len(tt.want) > 0 && (len(got) != 1 || got[0] != tt.want) {
				t.Errorf("Content-Range = %q, want %q", got, tt.want)
			}
			if _, ok := h["Content-Length"]; ok {
				t.Error("Content-Length kept")
			}
		})
	}
}
