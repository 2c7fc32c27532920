// RFC 9110 §14.1.1, §14.1.2, §14.2: the Range field and byte ranges.

package byterange

import (
	"cmp"
	"math"
	"slices"

	"github.com/notmod/notmod/internal/httplex"
)

// MaxRanges is the largest number of range-specs [Parse] accepts in one
// Range field; a field with more is ignored ([ErrTooMany], RFC 9110 §14.2).
// Together with coalescing it bounds a multipart response to the
// representation length plus the framing of at most MaxRanges parts.
const MaxRanges = 100

// Parse resolves the Range field value header against a representation of
// size bytes (RFC 9110 §14.2). The range unit is "bytes", compared without
// regard to case (§14.1); the range-set is a comma-separated list whose
// empty elements and optional whitespace are skipped (§5.6.1).
//
// It returns the satisfiable ranges, at least one, in the order they were
// requested; ranges that are not satisfiable are dropped, last-pos values
// beyond the end are clamped to it and suffix-lengths larger than the
// representation select all of it (§14.1.2). When more than one range is
// satisfiable, ranges that overlap or touch are coalesced (§15.3.7.2): the
// returned ranges never overlap, never touch and sum to at most size.
//
// The error is [ErrInvalid] for a field that is not a valid bytes
// ranges-specifier, including one with last-pos less than first-pos, and for
// a negative size (length unknown); [ErrTooMany] for more than [MaxRanges]
// range-specs; [ErrUnsatisfiable] when no range-spec is satisfiable; and
// [ErrNoContent] when size is zero and a range-spec is satisfiable anyway
// (§14.1.2). The caller owns the returned slice.
func Parse(header string, size int64) ([]Range, error) {
	var buf [4]Range
	rs, err := appendRanges(buf[:0], header, size)
	if err != nil {
		return nil, err
	}
	return slices.Clone(rs), nil
}

// appendRanges does the work of [Parse], appending the ranges to dst.
func appendRanges(dst []Range, header string, size int64) ([]Range, error) {
	if size < 0 {
		return nil, ErrInvalid
	}
	unit, set, ok := httplex.Cut(httplex.TrimOWS(header), '=')
	if !ok || !httplex.EqualFold(unit, "bytes") {
		// Unknown units are ignored like invalid ones (§14.2).
		return nil, ErrInvalid
	}
	specs, satisfiable := 0, false
	for set != "" {
		var spec string
		spec, set = httplex.Next(set)
		if spec == "" {
			continue
		}
		if specs++; specs > MaxRanges {
			return nil, ErrTooMany
		}
		r, sat, ok := parseSpec(spec, size)
		if !ok {
			return nil, ErrInvalid
		}
		if sat {
			satisfiable = true
			if r.Length > 0 {
				dst = append(dst, r)
			}
		}
	}
	switch {
	case specs == 0: // range-set = 1#range-spec (§14.1.1)
		return nil, ErrInvalid
	case !satisfiable:
		return nil, ErrUnsatisfiable
	case len(dst) == 0: // satisfiable suffix-range of an empty representation
		return nil, ErrNoContent
	}
	return coalesce(dst), nil
}

// parseSpec parses one bytes range-spec and resolves it against size
// (§14.1.2). ok reports whether spec is a valid int-range or suffix-range;
// satisfiable whether it is satisfiable, in which case r holds the selected
// bytes, none only when size is zero.
func parseSpec(spec string, size int64) (r Range, satisfiable, ok bool) {
	first, last, found := httplex.Cut(spec, '-')
	if !found {
		return Range{}, false, false
	}
	if first == "" {
		// suffix-range = "-" suffix-length
		n, ok := parseDigits(last)
		if !ok {
			return Range{}, false, false
		}
		if n == 0 {
			return Range{}, false, true
		}
		n = min(n, size)
		return Range{Start: size - n, Length: n}, true, true
	}
	// int-range = first-pos "-" [ last-pos ]
	start, ok := parseDigits(first)
	if !ok {
		return Range{}, false, false
	}
	end := int64(math.MaxInt64)
	if last != "" {
		if end, ok = parseDigits(last); !ok {
			return Range{}, false, false
		}
		if end < start || (end == math.MaxInt64 && lessDecimal(last, first)) {
			// last-pos less than first-pos makes the int-range invalid (§14.1.1).
			return Range{}, false, false
		}
	}
	if start >= size {
		return Range{}, false, true
	}
	end = min(end, size-1)
	return Range{Start: start, Length: end - start + 1}, true, true
}

// parseDigits parses 1*DIGIT, saturating at math.MaxInt64 rather than
// overflowing (§14.1.2).
func parseDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			n = math.MaxInt64
		} else {
			n = n*10 + d
		}
	}
	return n, true
}

// lessDecimal reports whether the decimal numeral a is less than b; both
// are 1*DIGIT of any length.
func lessDecimal(a, b string) bool {
	a, b = trimZeros(a), trimZeros(b)
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// trimZeros removes leading zeros from a numeral.
func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

// indexed is a range with the position of the earliest range-spec it came
// from.
type indexed struct {
	Range
	first int
}

// coalesce merges the ranges of rs that overlap or touch, in place
// (§15.3.7.2), and orders the result by the earliest range-spec each merged
// range came from, so that the parts follow the request's order (§15.3.7.2).
func coalesce(rs []Range) []Range {
	if len(rs) < 2 {
		return rs
	}
	var buf [8]indexed
	s := buf[:0]
	if len(rs) > len(buf) {
		s = make([]indexed, 0, len(rs))
	}
	s = s[:len(rs)]
	for i, r := range rs {
		s[i] = indexed{r, i}
	}
	slices.SortFunc(s, func(a, b indexed) int { return cmp.Compare(a.Start, b.Start) })
	out := s[:1]
	for _, x := range s[1:] {
		cur := &out[len(out)-1]
		end := cur.Start + cur.Length
		if x.Start > end {
			out = append(out, x)
			continue
		}
		if xe := x.Start + x.Length; xe > end {
			cur.Length = xe - cur.Start
		}
		cur.first = min(cur.first, x.first)
	}
	slices.SortFunc(out, func(a, b indexed) int { return cmp.Compare(a.first, b.first) })
	for i, x := range out {
		rs[i] = x.Range
	}
	return rs[:len(out)]
}
