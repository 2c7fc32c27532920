//go:build !race

package memory

import (
	"context"
	"testing"
	"time"
)

// TestGetHitAllocatesNothing counts the allocations of a hit, which must
// be none. The race detector allocates on its own, hence the build tag.
func TestGetHitAllocatesNothing(t *testing.T) {
	clock := newFakeClock()
	tests := map[string]Options{
		"system clock":   {},
		"injected clock": {Clock: clock.Now},
		"with OnEvict":   {OnEvict: func(string, EvictReason) {}},
	}
	for name, o := range tests {
		t.Run(name, func(t *testing.T) {
			s := Must(o)
			ctx := context.Background()
			keys := benchKeys(64)
			for _, k := range keys {
				if err := s.Set(ctx, k, make([]byte, 100), time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			i := 0
			allocs := testing.AllocsPerRun(10_000, func() {
				if _, err := s.Get(ctx, keys[i%len(keys)]); err != nil {
					t.Fatal(err)
				}
				i++
			})
			if allocs != 0 {
				t.Errorf("Get hit: %v allocations, want 0", allocs)
			}
		})
	}
}
