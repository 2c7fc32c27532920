package proxy_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/proxy"
	"github.com/notmod/notmod/store/memory"
)

// TestOriginIdleTimeout checks that the proxy closes a connection to the
// origin it has kept idle for Options.IdleTimeout, before an origin with
// a longer keep-alive would (the origin here keeps them forever), so that
// no request is sent on a connection the origin is closing.
func TestOriginIdleTimeout(t *testing.T) {
	closed := make(chan struct{}, 4)
	origin := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "ok")
	}))
	origin.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			notify(closed)
		}
	}
	origin.Start()
	t.Cleanup(origin.Close)
	u, _ := url.Parse(origin.URL)
	c := httpcache.Must(httpcache.Options{Store: memory.Must(memory.Options{})})
	p, err := proxy.New(proxy.Options{Origin: u, Cache: c, IdleTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	front := startFront(t, p, nil)
	resp, err := http.Get(front.URL + "/a")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !within(closed, 5*time.Second) {
		t.Fatal("the idle origin connection was still open 5 s later (idle timeout 200 ms)")
	}
}

// TestDateAdded checks that a response the origin sent without Date
// gets one on its way to the client (RFC 9110 §6.6.1: a recipient with
// a clock adds Date to a response it forwards without one).
func TestDateAdded(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil // net/http would add one
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "undated")
	}, envOptions{})
	r := e.do(t, http.MethodGet, "/undated")
	if d, err := http.ParseTime(r.header.Get("Date")); err != nil || time.Since(d) > time.Minute || time.Until(d) > time.Minute {
		t.Errorf("Date %q, want the time it was forwarded", r.header.Get("Date"))
	}
}
