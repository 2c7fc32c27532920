package httpcache

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
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

// discardWriter takes what it is given, as a client connection does; it
// has no ReadFrom, so that io.CopyBuffer reads with the buffer it is
// given, as a reverse proxy does.
type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkStoreWhole measures storing a response whole in a memory store
// (RFC 9111 §3) as a proxy sends it: the content read through the body
// Receive returns, 32 KiB at a time, and stored at its end. The request
// asks for validation (no-cache), so that every iteration is a miss
// whose response replaces the stored one.
func BenchmarkStoreWhole(b *testing.B) {
	for _, size := range []int{64 << 10, 1 << 20, 8 << 20} {
		for _, declared := range []bool{true, false} {
			name := strconv.Itoa(size>>10) + "KiB"
			if !declared {
				name += "-undeclared"
			}
			b.Run(name, func(b *testing.B) {
				c, _ := newTestCache(b, Options{})
				content := bytes.Repeat([]byte("x"), size)
				req := newRequest(http.MethodGet, "/whole", "Cache-Control", "no-cache")
				h := header("Cache-Control", "max-age=3600", "Date", httpDate(t0))
				buf := make([]byte, 32<<10)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					l := c.Lookup(req)
					if l.Decision != Forward {
						b.Fatalf("Lookup = %v, want forward", l.Decision)
					}
					resp := newResponse(req, http.StatusOK, h.Clone(), "")
					resp.Body = io.NopCloser(bytes.NewReader(content))
					resp.ContentLength = -1
					if declared {
						resp.ContentLength = int64(size)
					}
					got, err := l.Receive(resp)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.CopyBuffer(discardWriter{}, got.Body, buf); err != nil {
						b.Fatal(err)
					}
					got.Body.Close()
					if !strings.Contains(got.Header.Get("Cache-Status"), "stored") && declared {
						b.Fatalf("not stored: %q", got.Header.Get("Cache-Status"))
					}
					l.Release()
				}
			})
		}
	}
}
