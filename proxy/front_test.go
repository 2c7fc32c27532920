// The front ends the end-to-end tests run against: every test runs
// through the one NOTMOD_FRONT names, net (net/http, the default here)
// or fast (package fastproxy, with NOTMOD_LOOPS event loops if set, -1
// for none); scripts/test runs them with each.

package proxy_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notmod/notmod/fastproxy"
	"github.com/notmod/notmod/proxy"
	"github.com/valyala/fasthttp"
)

// frontEnd is a front end listening on loopback.
type frontEnd struct {
	URL string
	// set makes p answer the requests that arrive from now on (a cache
	// restarted behind the same front end).
	set func(p *proxy.Proxy)
}

// frontName returns the front end the tests run through.
func frontName(t testing.TB) string {
	switch f := os.Getenv("NOTMOD_FRONT"); f {
	case "", "net":
		return "net"
	case "fast":
		return "fast"
	default:
		t.Fatalf("NOTMOD_FRONT=%q: want net or fast", f)
		return ""
	}
}

// startFront serves p through the front end the tests run through, on a
// loopback port, until the test ends; arrived, if set, sees each request
// first.
func startFront(t *testing.T, p *proxy.Proxy, arrived func(header func(string) string)) *frontEnd {
	t.Helper()
	if frontName(t) == "net" {
		var cur atomic.Pointer[proxy.Proxy]
		cur.Store(p)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if arrived != nil {
				arrived(r.Header.Get)
			}
			cur.Load().ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		return &frontEnd{URL: srv.URL, set: cur.Store}
	}
	o := fastproxy.Options{Proxy: p}
	if n, err := strconv.Atoi(os.Getenv("NOTMOD_LOOPS")); err == nil {
		o.Loops = n // -1: fasthttp serves every connection
	}
	if arrived != nil {
		o.Wrap = func(next fasthttp.RequestHandler) fasthttp.RequestHandler {
			return func(ctx *fasthttp.RequestCtx) {
				arrived(func(name string) string { return string(ctx.Request.Header.Peek(name)) })
				next(ctx)
			}
		}
	}
	s, err := fastproxy.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("fast front end shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("fast front end: %v", err)
		}
	})
	return &frontEnd{URL: "http://" + ln.Addr().String(), set: s.SetProxy}
}
