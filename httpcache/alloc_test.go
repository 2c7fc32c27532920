//go:build !race

package httpcache

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"testing"
)

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

// allocated returns the bytes f allocates on the heap.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestStoreWholeAllocates bounds the memory that storing content whole
// takes: the content collected once, in a buffer sized from its
// Content-Length, and once more in the stored entry; and a declared
// length is never trusted past MaxObjectSize.
func TestStoreWholeAllocates(t *testing.T) {
	const limit = 4 << 20
	content := bytes.Repeat([]byte("x"), 1<<20)
	cases := map[string]struct {
		content  []byte
		declared int64
		max      uint64
	}{
		// Twice the content, and some for the fields and the lookup.
		"declared": {content: content, declared: int64(len(content)), max: 2*uint64(len(content)) + 64<<10},
		// A length past the limit: not stored, nothing collected.
		"declared past the limit": {content: content[:1000], declared: 1 << 40, max: 64 << 10},
		// A length at the limit and less content: room for the limit at
		// most, and nothing stored.
		"declared the limit, less sent": {content: content[:1000], declared: limit, max: limit + 64<<10},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, _ := newTestCache(t, Options{MaxObjectSize: limit})
			req := newRequest(http.MethodGet, "/a")
			h := header("Cache-Control", "max-age=60", "Date", httpDate(t0))
			buf := make([]byte, 32<<10)
			var got int64
			n := allocated(func() {
				l := c.Lookup(req)
				resp := newResponse(req, http.StatusOK, h, "")
				resp.Body = io.NopCloser(bytes.NewReader(tc.content))
				resp.ContentLength = tc.declared
				r, err := l.Receive(resp)
				if err != nil {
					t.Fatal(err)
				}
				got, _ = io.CopyBuffer(discardWriter{}, r.Body, buf)
				r.Body.Close()
				l.Release()
			})
			if got != int64(len(tc.content)) {
				t.Fatalf("the client got %d bytes of %d", got, len(tc.content))
			}
			if n > tc.max {
				t.Errorf("%d bytes allocated for %d bytes of content, want at most %d", n, len(tc.content), tc.max)
			}
		})
	}
}
