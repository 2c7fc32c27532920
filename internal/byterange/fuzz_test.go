package byterange

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, returns one of its documented
// outcomes, and that every returned range is non-empty, within the
// representation, and apart from the others (RFC 9110 §14.1.2, §15.3.7.2).
// For small representations it also writes and reads back the 206.
func FuzzParse(f *testing.F) {
	seeds := []struct {
		header string
		size   int64
	}{
		{"bytes=0-499", 10000},
		{"bytes=9500-", 10000},
		{"bytes=-500", 10000},
		{"bytes=-20000", 10000},
		{"bytes=0-0,-1", 10000},
		{"bytes= 0-999, 4500-5499, -1000", 10000},
		{"bytes=500-700,601-999", 10000},
		{"bytes=50-59,10-19,55-69,0-9", 100},
		{"bytes=5-1", 10},
		{"bytes=", 10},
		{"bytes=a-b", 10},
		{"items=0-1", 10},
		{"bytes=-0", 10},
		{"bytes=-5", 0},
		{"BYTES=,0-1,, ,\t,5-6,", 10},
		{"bytes=99999999999999999999999999-99999999999999999999999998", 10},
		{"bytes=5-99999999999999999999999999", 10},
		{"bytes=-1,9223372036854775806-", 1<<63 - 1},
		{`bytes="0-1,2-3"`, 10},
		{"bytes=0-1", -1},
	}
	for _, s := range seeds {
		f.Add(s.header, s.size)
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		rs, err := Parse(header, size)
		if err != nil {
			if rs != nil {
				t.Errorf("Parse(%q, %d) = %v with error %v", header, size, rs, err)
			}
			for _, known := range []error{ErrInvalid, ErrTooMany, ErrUnsatisfiable, ErrNoContent} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("Parse(%q, %d): undocumented error %v", header, size, err)
		}
		if len(rs) == 0 || len(rs) > MaxRanges {
			t.Fatalf("Parse(%q, %d) = %d ranges", header, size, len(rs))
		}
		var total int64
		for i, r := range rs {
			if r.Start < 0 || r.Length <= 0 || r.Start >= size || r.Length > size-r.Start {
				t.Fatalf("Parse(%q, %d): range %v outside [0,%d)", header, size, r, size)
			}
			total += r.Length
			for _, o := range rs[:i] {
				if r.Start <= o.Start+o.Length && o.Start <= r.Start+r.Length {
					t.Fatalf("Parse(%q, %d): ranges %v and %v overlap or touch", header, size, o, r)
				}
			}
		}
		if total > size {
			t.Fatalf("Parse(%q, %d): ranges sum to %d", header, size, total)
		}
		if size <= 1<<12 {
			checkPlan(t, representation(int(size)), rs, "text/plain", "")
		}
	})
}
