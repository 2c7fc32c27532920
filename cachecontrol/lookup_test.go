package cachecontrol

import (
	"strings"
	"testing"
)

// TestLookupAll checks that every directive is found by its name in any
// case (RFC 9111 §5.2) and that near misses are not.
func TestLookupAll(t *testing.T) {
	for d := dirMaxAge; d < dirCount; d++ {
		name := d.String()
		t.Run(name, func(t *testing.T) {
			for _, n := range []string{name, strings.ToUpper(name)} {
				if got := lookup(n); got != d {
					t.Errorf("lookup(%q) = %v, want %v", n, got, d)
				}
			}
			for _, n := range []string{name + "x", name[1:], "x" + name[1:]} {
				if got := lookup(n); got != dirUnknown {
					t.Errorf("lookup(%q) = %v, want unknown", n, got)
				}
			}
		})
	}
}
