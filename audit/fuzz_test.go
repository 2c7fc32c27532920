package audit

import (
	"strings"
	"testing"
)

// fuzzLines turns a fuzz input into field lines: each "\n" starts a new
// line, as separate field lines would.
func fuzzLines(s string) []string { return strings.Split(s, "\n") }

// FuzzParseAge checks that the Age parser never panics, keeps to
// [0, 2^31] and reports a value only when it found one (RFC 9111 §5.1).
func FuzzParseAge(f *testing.F) {
	for _, s := range []string{"", "0", "60", "-1", "1.5", "5, 6", "5\n6", "99999999999999999999", " 7 ", ",,", `"5"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, st := ParseAge(fuzzLines(s))
		if n < 0 || n > maxDeltaSeconds {
			t.Errorf("ParseAge(%q) = %d, outside [0, 2^31]", s, n)
		}
		if (st == AgeInvalid || st == AgeAbsent) && n != 0 {
			t.Errorf("ParseAge(%q) = %d with status %s", s, n, st)
		}
		if st == AgeAbsent {
			t.Errorf("ParseAge(%q): absent for present lines", s)
		}
	})
}

// FuzzParseCacheStatus checks that the Cache-Status parser never panics
// and that every member it returns names its cache (RFC 9211 §2).
func FuzzParseCacheStatus(f *testing.F) {
	for _, s := range []string{
		"", "c; hit", `"Example CDN"; fwd=stale; fwd-status=304; stored; ttl=-3; key="/a"; detail=MEMORY`,
		"a; hit, b; fwd=uri-miss", "a; hit\nb; fwd=miss", "(a b); hit", "7; hit", "c; hit=yes", `c; fwd="x"`,
		`c; hit, "unterminated`, "c;;", "c; ttl=999999999999999999999", "c; x=:aGk=:; y=@1659578233", "c; d=%\"caf%c3%a9\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := ParseCacheStatus(fuzzLines(s))
		if err != nil && entries != nil {
			t.Errorf("ParseCacheStatus(%q) returned members with error %v", s, err)
		}
		for _, e := range entries {
			if e.Cache == "" && !strings.Contains(s, `""`) {
				t.Errorf("ParseCacheStatus(%q): member without identifier", s)
			}
			_ = e.Explain()
		}
	})
}

// FuzzParseDate checks that the date parser never panics and that what
// it calls IMF-fixdate formats back to the same text (RFC 9110 §5.6.7).
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
		"Mon, 06 Nov 1994 08:49:37 GMT", "0", "", "Sun, 06 Nov 1994 08:49:37 GMT "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, form := parseDate(s)
		if form == dateIMF && tm.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT") != s {
			t.Errorf("parseDate(%q): IMF-fixdate that formats as %q", s, tm.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT"))
		}
		if form == dateInvalid && !tm.IsZero() {
			t.Errorf("parseDate(%q): invalid with a time", s)
		}
	})
}
