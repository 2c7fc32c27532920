package httpcache

import (
	"net/http"
	"testing"
	"time"
)

// hitFixture stores a fresh response without Vary and returns the cache
// and a request for it.
func hitFixture(tb testing.TB) (*Cache, *http.Request) {
	tb.Helper()
	c, _ := newTestCache(tb, Options{})
	storeResponse(tb, c, newRequest(http.MethodGet, "/hit"), header(
		"Cache-Control", "max-age=3600", "Etag", `"v1"`, "Content-Type", "text/plain",
		"Last-Modified", httpDate(t0.Add(-time.Hour)),
	), "hello, world")
	return c, newRequest(http.MethodGet, "/hit", "Accept", "*/*", "User-Agent", "bench")
}

// serveHit serves a fresh hit as a handler does: Lookup, Reply, Fields,
// Age and Cache-Status, Release. buf is reused for Cache-Status.
func serveHit(c *Cache, r *http.Request, buf []byte) (n int, ok bool) {
	l := c.Lookup(r)
	if l.Decision != Serve {
		l.Release()
		return 0, false
	}
	code, body := l.Reply()
	l.Fields(code, func(name, value string) bool {
		n += len(name) + len(value)
		return true
	})
	n += len(body) + int(l.Age())
	n += len(l.AppendCacheStatus(buf[:0]))
	l.Release()
	return n, true
}

// BenchmarkLookupHit measures a fresh hit without Vary (RFC 9111 §4),
// which must not allocate.
func BenchmarkLookupHit(b *testing.B) {
	c, r := hitFixture(b)
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := serveHit(c, r, buf); !ok {
			b.Fatal("not a hit")
		}
	}
}
