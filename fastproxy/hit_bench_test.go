package fastproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/proxy"
	"github.com/notmod/notmod/store/memory"
	"github.com/valyala/fasthttp"
)

// newBenchServer returns a front end for an origin that serves 1 KiB
// with validators and a long max-age.
func newBenchServer(tb testing.TB) *Server {
	tb.Helper()
	body := strings.Repeat("x", 1024)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Etag", `"abc"`)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
		_, _ = io.WriteString(w, body)
	}))
	tb.Cleanup(origin.Close)
	u, _ := url.Parse(origin.URL)
	c := httpcache.Must(httpcache.Options{Store: memory.Must(memory.Options{})})
	p, err := proxy.New(proxy.Options{Origin: u, Cache: c})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := New(Options{Proxy: p})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkFastHit measures the fast front end's handler on a fresh hit
// and on a 304 from cache, in-process (no sockets):
// go test -run '^$' -bench FastHit -benchmem ./fastproxy
func BenchmarkFastHit(b *testing.B) {
	s := newBenchServer(b)
	var ctx fasthttp.RequestCtx
	prime := func(inm string) {
		var req fasthttp.Request
		req.SetRequestURI("/1k")
		req.Header.SetHost("cache.test")
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		ctx.Init(&req, nil, nil)
		ctx.Response.Header.SetNoDefaultContentType(true)
	}
	prime("")
	s.handle(&ctx) // store it
	for _, tc := range []struct{ name, inm string }{{"200", ""}, {"304", `"abc"`}} {
		b.Run(tc.name, func(b *testing.B) {
			prime(tc.inm)
			b.ReportAllocs()
			for b.Loop() {
				ctx.Response.Header.ResetConnectionClose()
				s.handle(&ctx)
			}
			if got := string(ctx.Response.Header.Peek("Cache-Status")); !strings.Contains(got, "hit") {
				b.Fatalf("not a hit: %q", got)
			}
		})
	}
}
