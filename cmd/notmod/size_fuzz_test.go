package main

import "testing"

// FuzzByteSize checks the size flag parser never panics, never accepts a
// negative size and round-trips what it prints.
func FuzzByteSize(f *testing.F) {
	for _, s := range []string{"512MiB", "1GiB", "10", "-1", "9999999999999GiB", "1.5MB", "KiB", " 3 MiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b byteSize
		if b.Set(s) != nil {
			return
		}
		if b < 0 {
			t.Fatalf("Set(%q) = %d", s, b)
		}
		var again byteSize
		if err := again.Set(b.String()); err != nil || again != b {
			t.Fatalf("round trip of %q: %q → %d, %v", s, b.String(), again, err)
		}
	})
}
