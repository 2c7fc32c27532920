package httpcache_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/store/memory"
)

// A request is looked up, forwarded to the origin on a miss, and the
// origin's response stored as the client reads it; the same request is
// then served from the cache, with its Age and Cache-Status.
func Example() {
	// A clock moved by hand; the store reads it from its own goroutines.
	var nanos atomic.Int64
	nanos.Store(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, nanos.Load()).UTC() }
	cache := httpcache.Must(httpcache.Options{
		Store: memory.Must(memory.Options{Clock: clock}),
		Now:   clock,
	})

	req := httptest.NewRequest(http.MethodGet, "http://example.com/hello", nil)
	l := cache.Lookup(req)
	fmt.Println("first lookup:", l.Decision)

	// Forward: build the outbound request, then hand the origin's
	// response to Receive.
	out := req.Clone(req.Context())
	l.Outbound(out.Header)
	origin := &http.Response{
		StatusCode: http.StatusOK,
		Header: http.Header{
			"Cache-Control": {"max-age=60"},
			"Content-Type":  {"text/plain"},
			"Date":          {clock().Format(http.TimeFormat)},
			"Etag":          {`"v1"`},
		},
		Body:          io.NopCloser(strings.NewReader("hello, world")),
		ContentLength: 12,
		Request:       out,
	}
	resp, err := l.Receive(origin)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body) // stored once read to the end
	resp.Body.Close()
	l.Release()
	fmt.Println(resp.StatusCode, string(body), "|", resp.Header.Get("Cache-Status"))

	// Ten seconds later the stored response is fresh: serve it.
	nanos.Add(int64(10 * time.Second))
	l = cache.Lookup(req)
	fmt.Println("second lookup:", l.Decision)
	code, content := l.Reply()
	l.Fields(code, func(name, value string) bool {
		if name == "Etag" {
			fmt.Println(name+":", value)
		}
		return true
	})
	fmt.Println(code, string(content), "| Age:", l.Age(), "|", string(l.AppendCacheStatus(nil)))
	l.Release()

	// A client that holds "v1" is told it is still good.
	cond := httptest.NewRequest(http.MethodGet, "http://example.com/hello", nil)
	cond.Header.Set("If-None-Match", `"v1"`)
	l = cache.Lookup(cond)
	code, _ = l.Reply()
	fmt.Println("conditional:", code, "|", string(l.AppendCacheStatus(nil)))
	l.Release()

	// Output:
	// first lookup: forward
	// 200 hello, world | notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60
	// second lookup: serve
	// Etag: "v1"
	// 200 hello, world | Age: 10 | notmod; hit; ttl=50
	// conditional: 304 | notmod; hit; ttl=50
}
