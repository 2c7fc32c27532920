//go:build !race

package httpcache

import "testing"

// TestLookupHitAllocatesNothing counts the allocations of a fresh hit
// without Vary, which must be none. The race detector allocates on its
// own, and empties sync.Pools at random, hence the build tag.
func TestLookupHitAllocatesNothing(t *testing.T) {
	c, r := hitFixture(t)
	buf := make([]byte, 0, 128)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, ok := serveHit(c, r, buf); !ok {
			t.Fatal("not a hit")
		}
	})
	if allocs != 0 {
		t.Errorf("Lookup, Reply, Fields, Release: %v allocations, want 0", allocs)
	}
}
