// RFC 9112 §6.1, §6.3: origin responses framed by transfer codings that
// net/http refuses, through the proxy; RFC 9110 §7.6.1, RFC 9111 §3.1:
// Transfer-Encoding is hop-by-hop, neither stored nor forwarded.

package proxy_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/proxy"
	"github.com/notmod/notmod/store/memory"
)

// rawOrigin is an origin on a loopback socket that writes its responses
// by hand, as net/http's server never would, and counts the connections
// and requests it gets.
type rawOrigin struct {
	addr     string
	conns    atomic.Int32
	requests atomic.Int32
}

// startRawOrigin answers each request with respond's bytes (LF line ends
// become CRLF), closing the connection after it when close is set.
func startRawOrigin(t *testing.T, respond func(r *http.Request) (resp string, close bool)) *rawOrigin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &rawOrigin{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			o.conns.Add(1)
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, r.Body)
					o.requests.Add(1)
					resp, closeAfter := respond(r)
					if _, err := io.WriteString(c, strings.ReplaceAll(resp, "\n", "\r\n")); err != nil || closeAfter {
						return
					}
				}
			}()
		}
	}()
	return o
}

// newRawEnv puts the proxy and a memory cache in front of a raw origin.
func newRawEnv(t *testing.T, o *rawOrigin, clock *testClock) *env {
	t.Helper()
	st, err := memory.New(memory.Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	cache, err := httpcache.New(httpcache.Options{Store: st, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	p, err := proxy.New(proxy.Options{Origin: &url.URL{Scheme: "http", Host: o.addr}, Cache: cache, ResponseTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &env{clock: clock, front: startFront(t, p, nil), cache: cache, client: &http.Client{Transport: tr, Timeout: 20 * time.Second}}
}

// noTransferEncoding asserts that the client saw no Transfer-Encoding
// but, at most, the chunked coding of the proxy's own connection to it.
func noTransferEncoding(t *testing.T, what string, r reply) {
	t.Helper()
	if v := r.header.Values("Transfer-Encoding"); len(v) > 0 {
		t.Errorf("%s: Transfer-Encoding %q reached the client", what, v)
	}
}

// TestTransferCodingThroughProxy: responses whose transfer codings net/http
// refuses are served, stored without Transfer-Encoding and served again
// from the cache; well-framed responses keep one connection to the
// origin alive; a request is never sent twice.
func TestTransferCodingThroughProxy(t *testing.T) {
	clock := newTestClock()
	date := "Date: " + httpDate(clock.Now()) + "\n"
	o := startRawOrigin(t, func(r *http.Request) (string, bool) {
		cacheable := "HTTP/1.1 200 OK\n" + date + "Cache-Control: max-age=3600\n"
		switch r.URL.Path {
		// A keep-alive sequence of well-framed responses: RFC 9112 §6.3
		// rules 1, 4 and 6.
		case "/length":
			return cacheable + "Content-Length: 6\n\nlength", false
		case "/chunked":
			return cacheable + "Transfer-Encoding: chunked\nTrailer: X-Sum\n\n3\nchu\n4\nnked\n0\nX-Sum: 1\n\n", false
		case "/head":
			// §6.3 rule 1, §6.1: a response to HEAD may carry
			// Transfer-Encoding; it has no content.
			return cacheable + "Transfer-Encoding: gzip\nContent-Length: 4\n\n", false
		case "/204":
			return "HTTP/1.1 204 No Content\n" + date + "Transfer-Encoding: gzip, chunked\n\n", false
		case "/interim":
			return "HTTP/1.1 103 Early Hints\nLink: </s.css>; rel=preload\n\n" + cacheable + "Content-Length: 7\n\ninterim", false
		case "/etag":
			if r.Header.Get("If-None-Match") == `"v1"` {
				// §6.3 rule 1, §6.1: a 304 may carry Transfer-Encoding.
				return "HTTP/1.1 304 Not Modified\nDate: " + httpDate(clock.Now()) + "\nTransfer-Encoding: gzip\nETag: \"v1\"\nCache-Control: max-age=10\n\n", false
			}
			return "HTTP/1.1 200 OK\n" + date + "Cache-Control: max-age=10\nETag: \"v1\"\nContent-Length: 4\n\netag", false
		// §6.3 rule 4: chunked is final after another coding.
		case "/foo-chunked":
			return cacheable + "Transfer-Encoding: foo, chunked\n\n6\nfoo, c\n6\nhunked\n0\n\n", false
		// §6.3 rule 3: Transfer-Encoding overrides Content-Length.
		case "/chunked-length":
			return cacheable + "Content-Length: 3\nTransfer-Encoding: chunked\n\n5\nhello\n0\n\n", false
		// §6.3 rule 4: a final coding other than chunked: the content
		// runs until the origin closes the connection, whatever
		// Content-Length says; the fields Connection names stay
		// hop-by-hop (RFC 9110 §7.6.1).
		case "/gzip":
			return cacheable + "Transfer-Encoding: gzip\nContent-Length: 2\nConnection: keep-alive, X-Hop\nX-Hop: 1\n\nuntil the close", true
		// §6.1: chunked applied twice: refused.
		case "/chunked-twice":
			return cacheable + "Transfer-Encoding: chunked\nTransfer-Encoding: chunked\n\n0\n\n", true
		}
		return "HTTP/1.1 404 Not Found\nContent-Length: 0\n\n", false
	})
	e := newRawEnv(t, o, clock)

	// One connection to the origin carries the well-framed responses.
	r := e.do(t, "GET", "/length")
	e.check(t, "length", r, "GET", 200, "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=3600", ptr("length"))
	r = e.do(t, "GET", "/chunked")
	e.check(t, "chunked", r, "GET", 200, "notmod; fwd=uri-miss; fwd-status=200; ttl=3600", ptr("chunked"))
	r = e.do(t, "HEAD", "/head")
	e.check(t, "HEAD", r, "HEAD", 200, "", nil)
	noTransferEncoding(t, "HEAD", r)
	if r.header.Get("Content-Length") != "4" {
		t.Errorf("HEAD: Content-Length %q, want the origin's 4", r.header.Get("Content-Length"))
	}
	r = e.do(t, "GET", "/204")
	e.check(t, "204", r, "GET", 204, "", ptr(""))
	noTransferEncoding(t, "204", r)
	r = e.do(t, "GET", "/interim")
	e.check(t, "interim", r, "GET", 200, "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=3600", ptr("interim"))
	r = e.do(t, "GET", "/etag")
	e.check(t, "etag", r, "GET", 200, "notmod; fwd=uri-miss; fwd-status=200; stored; ttl=10", ptr("etag"))
	clock.Advance(20 * time.Second)
	r = e.do(t, "GET", "/etag")
	e.check(t, "etag revalidated by a 304 with Transfer-Encoding", r, "GET", 200, "notmod; fwd=stale; fwd-status=304; stored; ttl=10", ptr("etag"))
	noTransferEncoding(t, "etag revalidated", r)
	r = e.do(t, "GET", "/foo-chunked")
	e.check(t, "foo, chunked", r, "GET", 200, "notmod; fwd=uri-miss; fwd-status=200; ttl=3580", ptr("foo, chunked"))
	r = e.do(t, "GET", "/chunked-length")
	e.check(t, "chunked and Content-Length", r, "GET", 200, "notmod; fwd=uri-miss; fwd-status=200; ttl=3580", ptr("hello"))
	if n := o.conns.Load(); n != 1 {
		t.Errorf("the origin accepted %d connections for well-framed responses, want 1", n)
	}

	// Served from the cache, without Transfer-Encoding.
	for path, body := range map[string]string{"/chunked": "chunked", "/foo-chunked": "foo, chunked", "/chunked-length": "hello"} {
		r = e.do(t, "GET", path)
		e.check(t, path+" again", r, "GET", 200, "", ptr(body))
		if !strings.HasPrefix(r.status(), "notmod; hit;") {
			t.Errorf("%s again: Cache-Status %q, want a hit", path, r.status())
		}
		noTransferEncoding(t, path+" again", r)
	}

	// Content until the origin closes the connection: served, stored, a
	// hit next time; the connection is not reused.
	r = e.do(t, "GET", "/gzip")
	e.check(t, "gzip", r, "GET", 200, "notmod; fwd=uri-miss; fwd-status=200; ttl=3580", ptr("until the close"))
	noTransferEncoding(t, "gzip", r)
	for _, m := range bothMethods() {
		r = e.do(t, m, "/gzip")
		e.check(t, m+" gzip again", r, m, 200, "notmod; hit; ttl=3580", ptr("until the close"))
		noTransferEncoding(t, m+" gzip again", r)
		if v := r.header.Values("X-Hop"); len(v) > 0 {
			t.Errorf("%s gzip again: X-Hop %q, which Connection named, was stored", m, v)
		}
	}
	if n := o.conns.Load(); n != 1 {
		t.Errorf("the origin accepted %d connections, want 1", n)
	}
	r = e.do(t, "GET", "/length?after-gzip")
	e.check(t, "after gzip", r, "GET", 200, "", ptr("length"))
	if n := o.conns.Load(); n != 2 {
		t.Errorf("after the close-delimited response: %d connections, want 2 (a new one)", n)
	}

	// Framing that cannot be read: 502, and the request was sent once.
	before := o.requests.Load()
	r = e.do(t, "GET", "/chunked-twice")
	e.check(t, "chunked twice", r, "GET", 502, "", nil)
	if n := o.requests.Load() - before; n != 1 {
		t.Errorf("chunked twice: the origin got the request %d times, want 1", n)
	}
	if n, want := o.requests.Load(), int32(12); n != want {
		t.Errorf("the origin got %d requests, want %d: each miss once", n, want)
	}
}

// TestFieldNameWhitespaceThroughProxy: an origin that puts whitespace
// between a field name and its colon gets its fields read as RFC 9112
// §5.1 requires of a proxy ("A proxy MUST remove any such whitespace from
// a response message before forwarding the message downstream"): each is
// the field its name says, for the framing (§6.3), for storing (RFC 9111
// §3) and for the client, which gets the name without the whitespace.
// (net/http alone reads `Content-Length : 6` as a field named
// "Content-Length ", frames the content by the close and drops the field
// when it forwards the response; it refuses a name followed by HTAB.)
func TestFieldNameWhitespaceThroughProxy(t *testing.T) {
	clock := newTestClock()
	date := "Date: " + httpDate(clock.Now()) + "\n"
	o := startRawOrigin(t, func(r *http.Request) (string, bool) {
		head := "HTTP/1.1 200 OK\n" + date + "Cache-Control: max-age=3600\n"
		switch r.URL.Path {
		// §6.3 rules 4 and 6: chunked, then a length, on one connection.
		case "/chunked":
			return head + "Transfer-Encoding : chunked\nX-Note : a\n\n5\nhello\n0\n\n", false
		case "/length":
			return head + "Content-Length\t: 6\n\nlength", false
		// §6.3 rule 4: a final coding other than chunked: until the close.
		case "/gzip":
			return head + "Transfer-Encoding \t: gzip\nContent-Length: 2\n\nuntil the close", true
		// RFC 9111 §5.2.2.7: private, which a shared cache must not store.
		case "/private":
			return head + "Cache-Control : private\nContent-Length: 7\n\nprivate", false
		}
		return "HTTP/1.1 404 Not Found\nContent-Length: 0\n\n", false
	})
	e := newRawEnv(t, o, clock)

	for _, s := range []struct{ path, body string }{
		{"/chunked", "hello"},
		{"/length", "length"},
		{"/gzip", "until the close"},
	} {
		r := e.do(t, "GET", s.path)
		e.check(t, s.path, r, "GET", 200, "", ptr(s.body))
		noTransferEncoding(t, s.path, r)
		for name := range r.header {
			if strings.ContainsAny(name, " \t") {
				t.Errorf("%s: the client got a field named %q", s.path, name)
			}
		}
		if s.path == "/chunked" && r.header.Get("X-Note") != "a" {
			t.Errorf("%s: X-Note %q, want the origin's a", s.path, r.header.Get("X-Note"))
		}
		r = e.do(t, "GET", s.path)
		e.check(t, s.path+" again", r, "GET", 200, "notmod; hit; ttl=3600", ptr(s.body))
	}
	if n := o.conns.Load(); n != 1 {
		t.Errorf("the origin accepted %d connections, want 1: the chunked and sized responses keep it", n)
	}

	before := o.requests.Load()
	for i := range 2 {
		r := e.do(t, "GET", "/private")
		e.check(t, "private "+itoa(i), r, "GET", 200, "", ptr("private"))
		if got := strings.Join(r.header.Values("Cache-Control"), ", "); got != "max-age=3600, private" {
			t.Errorf("private %d: Cache-Control %q, want the origin's max-age=3600, private", i, got)
		}
	}
	if n := o.requests.Load() - before; n != 2 {
		t.Errorf("private: the origin got %d requests for 2, want 2: the response was stored", n)
	}
}
