//go:build linux

package fastproxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// loopEnv is an origin, one proxy and cache, and two fast front ends over
// them: one with an event loop (loop) and one where fasthttp serves every
// connection (plain). What one answers from the cache the other answers
// from the same stored response.
type loopEnv struct {
	loop, plain string       // addresses
	s           *Server      // the one with the loop
	misses      atomic.Int64 // requests the origin answered
}

// loopBody is the content of /hit and the other small entries.
var loopBody = bytes.Repeat([]byte("0123456789abcdef"), 64) // 1 KiB

func newLoopEnv(t testing.TB, o Options) *loopEnv {
	t.Helper()
	e := &loopEnv{}
	big := bytes.Repeat([]byte("big content, "), 70000) // about 900 KiB
	o.Proxy = originProxy(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.misses.Add(1)
		switch {
		case r.URL.Path == "/big":
			w.Header().Set("Cache-Control", "max-age=3600")
			w.Header().Set("ETag", `"big"`)
			_, _ = w.Write(big)
		case strings.HasPrefix(r.URL.Path, "/big/"):
			w.Header().Set("Cache-Control", "max-age=3600")
			_, _ = w.Write(distinctBig(r.URL.Path))
		case r.URL.Path == "/upstream":
			w.Header().Set("Cache-Control", "max-age=3600")
			w.Header().Set("ETag", `"u1"`)
			w.Header().Set("Cache-Status", "upstream; hit")
			_, _ = w.Write(loopBody)
		case r.URL.Path == "/nostore":
			w.Header().Set("Cache-Control", "no-store")
			_, _ = io.WriteString(w, "fresh from the origin "+r.Method)
		case r.URL.Path == "/empty":
			w.Header().Set("Cache-Control", "max-age=3600")
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Cache-Control", "max-age=3600")
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write(loopBody)
		}
	}))
	o.Loops = 1
	e.loop, e.s = serveFront(t, o)
	o.Loops = -1
	e.plain, _ = serveFront(t, o)
	return e
}

// loops returns the loop server's loops, once Serve has made them.
func (e *loopEnv) loops(t testing.TB) *loops {
	t.Helper()
	for i := 0; i < 1000; i++ {
		e.s.loopsMu.Lock()
		ls := e.s.loops
		e.s.loopsMu.Unlock()
		if ls != nil {
			return ls
		}
		time.Sleep(time.Millisecond) // Serve has not started yet
	}
	t.Fatal("the event loops did not start")
	return nil
}

// exchange writes raw to addr on a new connection, closes its sending
// side, and reads every response until the server closes.
func exchange(t testing.TB, addr, raw string) []*response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	// A server may answer and close before it has read everything (a
	// head too large, say): what it answered is what counts.
	_, _ = io.WriteString(c, raw)
	_ = c.(*net.TCPConn).CloseWrite()
	return readResponses(t, bufio.NewReader(c), methodsOf(raw))
}

// response is a response as the tests compare them: status, fields
// (without Age and Date, which may differ by a second) and content.
type response struct {
	status int
	header http.Header
	body   string
	close  bool // Connection: close, which net/http takes out of header
}

func (r *response) String() string {
	return fmt.Sprintf("%d close=%t %v %.40q", r.status, r.close, r.header, r.body)
}

// methodsOf returns the methods of the requests in raw, so that the
// responses to HEAD are read without content.
func methodsOf(raw string) []string {
	var m []string
	for _, line := range strings.Split(raw, "\n") {
		for _, method := range []string{"GET ", "HEAD ", "POST "} {
			if strings.HasPrefix(line, method) {
				m = append(m, strings.TrimSpace(method))
			}
		}
	}
	return m
}

// ttlParam is the ttl of a Cache-Status member, which may differ by a
// second between two responses.
var ttlParam = regexp.MustCompile(`; ttl=-?[0-9]+`)

// readResponses reads responses until the connection ends, or n of them
// when n > 0.
func readResponses(t testing.TB, br *bufio.Reader, methods []string) []*response {
	return readN(t, br, methods, 0)
}

func readN(t testing.TB, br *bufio.Reader, methods []string, n int) []*response {
	t.Helper()
	var out []*response
	for i := 0; n <= 0 || i < n; i++ {
		method := http.MethodGet
		if i < len(methods) {
			method = methods[i]
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return out
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		resp.Header.Del("Age")
		resp.Header.Del("Date") // the origin's, for what it answers: may differ by a second
		for j, v := range resp.Header["Cache-Status"] {
			resp.Header["Cache-Status"][j] = ttlParam.ReplaceAllString(v, "")
		}
		out = append(out, &response{status: resp.StatusCode, header: resp.Header, body: string(b), close: resp.Close})
	}
	return out
}

func get(path string, fields ...string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: cache.test\r\n" + strings.Join(fields, "") + "\r\n"
}

// prime stores path through the plain front end and checks it is a hit.
func (e *loopEnv) prime(t testing.TB, paths ...string) {
	t.Helper()
	for _, p := range paths {
		exchange(t, e.plain, get(p))
		r := exchange(t, e.plain, get(p))
		if len(r) != 1 || !strings.Contains(r[0].header.Get("Cache-Status"), "hit") {
			t.Fatalf("%s not stored: %v", p, r)
		}
	}
}

// TestLoopAnswersHits checks that the loop answers hits itself (RFC 9111
// §4: a fresh stored response; RFC 9110 §13.1.2: If-None-Match makes it a
// 304; §9.3.2: HEAD without content), with what the fasthttp path sends
// for the same request, and hands the connection over for a miss, which
// the origin answers.
func TestLoopAnswersHits(t *testing.T) {
	e := newLoopEnv(t, Options{})
	e.prime(t, "/hit")
	ls := e.loops(t)
	for _, raw := range []string{
		get("/hit"),
		get("/hit", "If-None-Match: \"v1\"\r\n"),
		get("/hit", "If-None-Match: \"other\", \"v1\"\r\n"),
		get("/hit", "If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT\r\n"),
		"HEAD /hit HTTP/1.1\r\nHost: cache.test\r\n\r\n",
		get("/hit", "Accept: */*\r\nX-Repeated: a\r\nX-Repeated: b\r\n"),
	} {
		served, handed := ls.served.Load(), ls.handed.Load()
		got := exchange(t, e.loop, raw)
		want := exchange(t, e.plain, raw)
		if ls.served.Load() != served+1 || ls.handed.Load() != handed {
			t.Errorf("%q: the loop did not answer it (served %d -> %d, handed %d -> %d)", raw, served, ls.served.Load(), handed, ls.handed.Load())
		}
		if !sameResponses(got, want) {
			t.Errorf("%q:\nloop:    %v\nfasthttp: %v", raw, got, want)
		}
	}
	misses := e.misses.Load()
	handed := ls.handed.Load()
	got := exchange(t, e.loop, get("/nostore"))
	if len(got) != 1 || got[0].body != "fresh from the origin GET" || e.misses.Load() != misses+1 || ls.handed.Load() != handed+1 {
		t.Errorf("a miss: %v (origin requests %d -> %d, handed %d -> %d)", got, misses, e.misses.Load(), handed, ls.handed.Load())
	}
}

func sameResponses(a, b []*response) bool {
	return slices.EqualFunc(a, b, func(x, y *response) bool {
		if x.status != y.status || x.body != y.body || x.close != y.close || len(x.header) != len(y.header) {
			return false
		}
		for k, v := range x.header {
			if !slices.Equal(v, y.header[k]) {
				return false
			}
		}
		return true
	})
}

// TestLoopPipelined checks that pipelined requests (RFC 9112 §9.3.2) are
// answered once each, in order, when hits the loop answers and requests
// it hands over are mixed: the answers it built before handing over go
// first, and what it read after is read again by fasthttp.
func TestLoopPipelined(t *testing.T) {
	e := newLoopEnv(t, Options{})
	e.prime(t, "/hit", "/other")
	ls := e.loops(t)
	raw := get("/hit") +
		get("/other", "If-None-Match: \"v1\"\r\n") +
		"HEAD /hit HTTP/1.1\r\nHost: cache.test\r\n\r\n" +
		get("/nostore") +
		get("/hit") +
		"POST /nostore HTTP/1.1\r\nHost: cache.test\r\nContent-Length: 3\r\n\r\nabc" +
		get("/other")
	served := ls.served.Load()
	got := exchange(t, e.loop, raw)
	want := exchange(t, e.plain, raw)
	if len(got) != 7 || !sameResponses(got, want) {
		t.Fatalf("loop:\n%v\nfasthttp:\n%v", got, want)
	}
	for i, w := range []string{string(loopBody), "", "", "fresh from the origin GET", string(loopBody), "fresh from the origin POST", string(loopBody)} {
		if got[i].body != w {
			t.Errorf("response %d: %q, want %q", i, got[i].body, w)
		}
	}
	if got[1].status != http.StatusNotModified {
		t.Errorf("response 1: %d, want 304", got[1].status)
	}
	if n := ls.served.Load() - served; n != 3 {
		t.Errorf("the loop answered %d requests, want the 3 before the miss", n)
	}
}

// TestLoopHeadInPieces checks that a head that arrives in pieces is
// answered once it is complete.
func TestLoopHeadInPieces(t *testing.T) {
	e := newLoopEnv(t, Options{})
	e.prime(t, "/hit")
	c, err := net.Dial("tcp", e.loop)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	raw := get("/hit", "X-Padding: "+strings.Repeat("p", 3000)+"\r\n")
	for round := 0; round < 3; round++ {
		for i := 0; i < len(raw); i += 700 {
			if _, err := io.WriteString(c, raw[i:min(i+700, len(raw))]); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Equal(b, loopBody) {
			t.Fatalf("round %d: %d, %d bytes", round, resp.StatusCode, len(b))
		}
	}
}

// TestLoopConnectionClose checks that a request with Connection: close is
// answered with it and the connection then closed (RFC 9112 §9.6), and
// that what follows it is not answered.
func TestLoopConnectionClose(t *testing.T) {
	e := newLoopEnv(t, Options{})
	e.prime(t, "/hit")
	c, err := net.Dial("tcp", e.loop)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, get("/hit", "Connection: close\r\n")+get("/hit")); err != nil {
		t.Fatal(err)
	}
	// The connection is not half-closed by the client: only the server
	// closing it ends this read.
	got := readResponses(t, bufio.NewReader(c), nil)
	if len(got) != 1 || !got[0].close || got[0].body != string(loopBody) {
		t.Errorf("got %v, want one response with Connection: close", got)
	}
}

// TestLoopBackpressure checks that answers larger than the socket takes
// are kept and written as the client reads, byte for byte, and that the
// requests read meanwhile wait for them.
func TestLoopBackpressure(t *testing.T) {
	e := newLoopEnv(t, Options{})
	e.prime(t, "/big", "/hit")
	want := exchange(t, e.plain, get("/big"))[0].body
	c, err := net.Dial("tcp", e.loop)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	// About 7 MiB of answers, requested before any is read.
	raw := strings.Repeat(get("/big")+get("/hit"), 8)
	go func() { _, _ = io.WriteString(c, raw) }()
	got := readN(t, bufio.NewReader(c), nil, 16)
	if len(got) < 16 {
		t.Fatalf("%d responses, want 16", len(got))
	}
	for i, r := range got[:16] {
		w := want
		if i%2 == 1 {
			w = string(loopBody)
		}
		if r.status != http.StatusOK || r.body != w {
			t.Fatalf("response %d: %d, %d bytes; want 200, %d bytes", i, r.status, len(r.body), len(w))
		}
	}
}

// TestLoopStalledReader checks that a client that stops reading answers
// the loop holds for it is dropped after the write timeout.
func TestLoopStalledReader(t *testing.T) {
	e := newLoopEnv(t, Options{WriteTimeout: 300 * time.Millisecond})
	e.prime(t, "/big")
	ls := e.loops(t)
	c, err := net.Dial("tcp", e.loop)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.(*net.TCPConn).SetReadBuffer(4096)
	if _, err := io.WriteString(c, strings.Repeat(get("/big"), 16)); err != nil {
		t.Fatal(err)
	}
	// Read nothing: within about the write timeout and the slack, the
	// loop lets the connection go.
	deadline := time.Now().Add(10 * time.Second)
	for ls.count.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the loop still holds the connection of a client that stopped reading 10 s ago (write timeout 300 ms)")
		}
		time.Sleep(20 * time.Millisecond) // polls the loop's count
	}
}

// TestLoopHandsOver checks what the loop leaves to fasthttp: each of
// these is answered as the fasthttp path answers it, the loop having
// handed the connection over.
func TestLoopHandsOver(t *testing.T) {
	e := newLoopEnv(t, Options{})
	e.prime(t, "/hit", "/empty")
	ls := e.loops(t)
	for _, raw := range []string{
		"GET /hit HTTP/1.0\r\nHost: cache.test\r\n\r\n",                         // HTTP/1.0
		"GET /hit HTTP/1.1\nHost: cache.test\n\n",                               // bare LF (RFC 9112 §2.2)
		get("/hit", "Range: bytes=0-9\r\n"),                                     // Range (RFC 9110 §14.2)
		get("/hit", "Content-Length: 3\r\n") + "abc",                            // a body
		get("/hit", "Transfer-Encoding: chunked\r\n") + "3\r\nabc\r\n0\r\n\r\n", // chunked
		get("/hit", "Cache-Control: no-cache\r\n"),                              // RFC 9111 §5.2.1.4
		get("/empty"), // 204: fasthttp frames it
		"GET http://cache.test/hit HTTP/1.1\r\nHost: cache.test\r\n\r\n", // absolute form
		"GET /hit HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",                // two Hosts: refused
		"BREW /hit HTTP/1.1\r\nHost: cache.test\r\n\r\n",
		get("/hit", "X-Long: "+strings.Repeat("l", 70<<10)+"\r\n"), // past MaxHeaderBytes: 431
	} {
		handed := ls.handed.Load()
		got := exchange(t, e.loop, raw)
		want := exchange(t, e.plain, raw)
		if ls.handed.Load() != handed+1 {
			t.Errorf("%.60q: not handed over", raw)
		}
		if !sameResponses(got, want) || len(got) == 0 {
			t.Errorf("%.60q:\nloop:     %v\nfasthttp: %v", raw, got, want)
		}
	}
}

// TestLoopShutdown checks that Shutdown closes the loop's idle
// connections and that Serve then returns nil.
func TestLoopShutdown(t *testing.T) {
	e := newLoopEnv(t, Options{})
	e.prime(t, "/hit")
	ls := e.loops(t)
	c, err := net.Dial("tcp", e.loop)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	_, _ = io.WriteString(c, get("/hit"))
	if resp, err := http.ReadResponse(br, nil); err != nil {
		t.Fatal(err)
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("after Shutdown the idle connection read %v, want EOF", err)
	}
	if n := ls.count.Load(); n != 0 {
		t.Errorf("%d connections left in the loop", n)
	}
}

// TestLoopMaxConns checks that connections past MaxConns are refused with
// a 503.
func TestLoopMaxConns(t *testing.T) {
	e := newLoopEnv(t, Options{MaxConns: 2})
	e.prime(t, "/hit")
	var conns []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", e.loop)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = io.WriteString(c, get("/hit"))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	got := exchange(t, e.loop, get("/hit"))
	if len(got) != 1 || got[0].status != http.StatusServiceUnavailable {
		t.Errorf("a third connection got %v, want 503", got)
	}
	_ = conns
}

// FuzzLoop sends the same bytes to the loop and to the fasthttp path,
// over sockets, and checks that they answer alike: the loop answers only
// what fasthttp would answer from the cache, with the same response, and
// hands everything else over whole.
func FuzzLoop(f *testing.F) {
	for _, seed := range []string{
		get("/hit"),
		get("/hit") + get("/hit"),
		get("/hit", "If-None-Match: \"v1\"\r\n") + "HEAD /hit HTTP/1.1\r\nHost: cache.test\r\n\r\n",
		get("/hit") + get("/nostore") + get("/hit"),
		"GET /hit HTTP/1.1\nHost: cache.test\n\n",
		"GET /hit HTTP/1.1\r\nHost: cache.test\r\n\n",
		"GET /hit HTTP/1.1\r\nHost: cache.test\r\n X: fold\r\n\r\n",
		"GET /hit HTTP/1.1\r\nHost: cache.test\r\nContent-Length: 0\r\n\r\n",
		"GET /hit HTTP/1.1\r\nHost: cache.test\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
		"GET /hit HTTP/1.1\r\nHost: cache.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n",
		"GET /hit HTTP/1.1\r\nHost: cache.test\r\nConnection: close\r\n\r\n" + get("/hit"),
		"GET /hit HTTP/1.1\r\nhost: cache.test\r\nif-none-match: W/\"v1\"\r\n\r\n",
		"GET /h%69t?x=1 HTTP/1.1\r\nHost: cache.test\r\n\r\n",
		"GET /hit HTTP/1.1\r\nHost: cache.test\r\nExpect: 100-continue\r\n\r\n",
		"GET  /hit HTTP/1.1\r\nHost: cache.test\r\n\r\n",
		"GET /hit HTTP/1.1\r\nHost: cache.test\r\nX\x00: y\r\n\r\n",
		"\r\n" + get("/hit"),
	} {
		f.Add(seed)
	}
	e := newLoopEnv(f, Options{})
	e.prime(f, "/hit")
	f.Fuzz(func(t *testing.T, raw string) {
		if len(raw) > 8<<10 || strings.Contains(raw, "big") {
			return
		}
		// What the first exchange stores, the second and third find.
		exchange(t, e.plain, raw)
		got := exchange(t, e.loop, raw)
		want := exchange(t, e.plain, raw)
		if !sameResponses(got, want) {
			t.Errorf("%q:\nloop:     %v\nfasthttp: %v", raw, got, want)
		}
	})
}

// BenchmarkLoopHit measures what an event loop does for a hit, from the
// request's bytes to the answer's, in-process (no sockets):
// go test -run '^$' -bench LoopHit -benchmem ./fastproxy
func BenchmarkLoopHit(b *testing.B) {
	s := newBenchServer(b)
	var ctx fasthttp.RequestCtx
	var req fasthttp.Request
	req.SetRequestURI("/1k")
	req.Header.SetHost("cache.test")
	ctx.Init(&req, nil, nil)
	s.handle(&ctx) // store it
	l := &loop{s: s, v: newView()}
	for _, tc := range []struct{ name, inm string }{{"200", ""}, {"304", "If-None-Match: \"abc\"\r\n"}} {
		b.Run(tc.name, func(b *testing.B) {
			head := []byte("GET /1k HTTP/1.1\r\nHost: cache.test\r\nUser-Agent: bench\r\nAccept: */*\r\n" + tc.inm + "\r\n")
			b.ReportAllocs()
			for b.Loop() {
				l.out = l.out[:0]
				end, _ := headEnd(head)
				if ok, _, _ := l.serveOne(head[:end]); !ok {
					b.Fatal("not answered")
				}
			}
			if !bytes.Contains(l.out, []byte("hit")) {
				b.Fatalf("not a hit: %q", l.out)
			}
		})
	}
}

// TestLoopCoarseClockLags checks that a loop keeps answering when the
// coarse clock lags the real one: its once-a-second sweep is timed by the
// real clock, so the wait on epoll is never cut short over and over (a
// loop that re-armed its deadline in the past stopped polling until the
// coarse clock caught up: every connection stalled for up to a tick).
func TestLoopCoarseClockLags(t *testing.T) {
	e := newLoopEnv(t, Options{})
	e.prime(t, "/hit")
	coarseNow()
	coarse.frozen.Store(true)
	defer coarse.frozen.Store(false)
	c, err := net.Dial("tcp", e.loop)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	// Across more than two sweeps of the loop, each answered within 2 s
	// (a frozen coarse clock never catches up).
	for start := time.Now(); time.Since(start) < 2500*time.Millisecond; {
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.WriteString(c, get("/hit")); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("after %v: %v", time.Since(start), err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		time.Sleep(20 * time.Millisecond) // the client's pace
	}
}

// TestLoopHeadLimit checks that the loop answers no request whose head is
// larger than MaxHeaderBytes, even when it arrives whole in one read:
// fasthttp answers such a head 431 (RFC 6585 §5), and so must the loop's
// front end, at every size around the limit.
func TestLoopHeadLimit(t *testing.T) {
	const limit = 4096
	e := newLoopEnv(t, Options{MaxHeaderBytes: limit})
	e.prime(t, "/hit")
	for _, size := range []int{limit - 64, limit - 1, limit, limit + 1, limit + 64, 2 * limit, 3 * limit} {
		pad := size - len(get("/hit", "X-Pad: \r\n"))
		raw := get("/hit", "X-Pad: "+strings.Repeat("p", pad)+"\r\n")
		if len(raw) != size {
			t.Fatalf("head of %d bytes, want %d", len(raw), size)
		}
		got := exchange(t, e.loop, raw)
		want := exchange(t, e.plain, raw)
		if !sameResponses(got, want) || len(want) != 1 {
			t.Errorf("a head of %d bytes (limit %d):\nloop:     %v\nfasthttp: %v", size, limit, got, want)
		}
	}
}

// TestLoopHandOverOwnAnswersOnly checks that a connection handed over
// carries the answers built for it and no others: the client of one
// connection ends its side within a head (fasthttp's to answer), after the
// loop handed another connection over with answers it had built for that
// one. Each client gets what the fasthttp path sends it, nothing of the
// other's.
func TestLoopHandOverOwnAnswersOnly(t *testing.T) {
	e := newLoopEnv(t, Options{})
	e.prime(t, "/hit")
	ls := e.loops(t)
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", e.loop)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		return c, bufio.NewReader(c)
	}
	// One: a hit, answered, and part of a second head, which the loop
	// keeps (in one write: one read for the loop).
	partial := "GET /hit HTTP/1.1\r\nHo"
	one, br1 := dial()
	if _, err := io.WriteString(one, get("/hit")+partial); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, br1, nil, 1); len(got) != 1 || got[0].status != http.StatusOK {
		t.Fatalf("one: %v", got)
	}
	// Two: a hit and a miss, pipelined: the loop answers the hit and
	// hands the connection over with that answer.
	handed := ls.handed.Load()
	two, br2 := dial()
	if _, err := io.WriteString(two, get("/hit")+get("/nostore")); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, br2, nil, 2); len(got) != 2 || got[0].status != http.StatusOK || got[1].body != "fresh from the origin GET" {
		t.Fatalf("two: %v", got)
	}
	if ls.handed.Load() != handed+1 {
		t.Fatal("two was not handed over")
	}
	// One ends its side within the head: handed over, with nothing but
	// what it sent.
	_ = one.(*net.TCPConn).CloseWrite()
	got := readResponses(t, br1, nil)
	want := exchange(t, e.plain, partial)
	if !sameResponses(got, want) {
		t.Errorf("one, after it ended its side within a head:\nloop:     %v\nfasthttp: %v", got, want)
	}
}

// TestLoopAddAfterEnd checks that a connection given to a loop that has
// ended (Serve's accept took it as Shutdown stopped the loops) is closed,
// not left open with nobody to answer or close it, and not counted.
func TestLoopAddAfterEnd(t *testing.T) {
	e := newLoopEnv(t, Options{})
	ls := e.loops(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	fd, ok := takeFD(sc)
	if !ok {
		t.Fatal("takeFD")
	}
	ls.count.Add(1)
	ls.all[0].add(fd) // as serveLoops does
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("a connection given to an ended loop read %v, want EOF", err)
	}
	if n := ls.count.Load(); n != 0 {
		t.Errorf("%d connections counted in the ended loops", n)
	}
}

// TestLoopHeadTimeout checks that a client that sends part of a head and
// no more within the read timeout gets what the fasthttp path sends it: a
// 408 (RFC 9110 §15.5.9), and the connection closed. So does one that
// sends nothing at all; one idle after a response is closed without one.
func TestLoopHeadTimeout(t *testing.T) {
	e := newLoopEnv(t, Options{ReadTimeout: 200 * time.Millisecond})
	e.prime(t, "/hit")
	raws := []string{"GET /hit HTTP/1.1\r\nHo", "", get("/hit"), get("/hit") + "GET /hit HTTP/1.1\r\nHo"}
	// All at once: the timeouts run together.
	conns := make([][2]net.Conn, len(raws))
	for i, raw := range raws {
		for j, addr := range []string{e.loop, e.plain} {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(c, raw); err != nil {
				t.Fatal(err)
			}
			conns[i][j] = c
		}
	}
	for i, raw := range raws {
		// The clients neither send more nor end their side: the server's
		// read timeout ends the exchange.
		got := readResponses(t, bufio.NewReader(conns[i][0]), nil)
		want := readResponses(t, bufio.NewReader(conns[i][1]), nil)
		if !sameResponses(got, want) {
			t.Errorf("%q, then nothing:\nloop:     %v\nfasthttp: %v", raw, got, want)
		}
	}
}

// TestLoopWakeDoesNotSweep checks that taking a new connection does not
// make a loop sweep all of its connections (once a second is their
// due): with many connections and a high rate of new ones, a sweep per
// wake would cost the square of them.
func TestLoopWakeDoesNotSweep(t *testing.T) {
	e := newLoopEnv(t, Options{})
	e.prime(t, "/hit")
	ls := e.loops(t)
	// Keep the loop busy, as under load, where a wake finds it polling
	// rather than parked.
	busy, err := net.Dial("tcp", e.loop)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		batch := strings.Repeat(get("/hit"), 32)
		go func() { _, _ = io.Copy(io.Discard, busy) }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := io.WriteString(busy, batch); err != nil {
				return
			}
		}
	}()
	start, before := time.Now(), ls.sweeps.Load()
	for i := 0; i < 40; i++ {
		if got := exchange(t, e.loop, get("/hit")); len(got) != 1 {
			t.Fatalf("connection %d: %v", i, got)
		}
	}
	// One sweep a second is due, give or take the first.
	if n, limit := ls.sweeps.Load()-before, int64(time.Since(start)/time.Second)+2; n > limit {
		t.Errorf("%d sweeps for 40 new connections in %v, want at most %d", n, time.Since(start), limit)
	}
}

// distinctBig is the content of /big/...: about 100 KiB that differ with
// the path.
func distinctBig(path string) []byte {
	return bytes.Repeat([]byte(path+" content; "), 100<<10/(len(path)+10))
}

// TestLoopContentFromCopy checks that large content a loop sends from its
// sealed copies (sendfile) is the stored content, byte for byte: for one
// entry asked again and again, and for more entries than the loop keeps
// copies of, so that copies are replaced and closed on the way.
func TestLoopContentFromCopy(t *testing.T) {
	e := newLoopEnv(t, Options{})
	ls := e.loops(t)
	const n = 3 * fileSlots / 2
	for i := 0; i < n; i++ {
		e.prime(t, fmt.Sprintf("/big/%d", i))
	}
	c, err := net.Dial("tcp", e.loop)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	ask := func(path string) {
		t.Helper()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, get(path)); err != nil {
			t.Fatal(err)
		}
		got := readN(t, br, nil, 1)
		if len(got) != 1 || got[0].status != http.StatusOK || got[0].body != string(distinctBig(path)) {
			t.Fatalf("%s: not the stored content (%d responses)", path, len(got))
		}
	}
	before := ls.fromFile.Load()
	for round := 0; round < 3; round++ {
		ask("/big/0")
	}
	if ls.fromFile.Load() == before {
		t.Error("/big/0 asked three times was never sent from a copy")
	}
	for round := 0; round < 2; round++ {
		for i := 0; i < n; i++ {
			ask(fmt.Sprintf("/big/%d", i))
		}
	}
}

// TestLoopNoCopies checks that with LoopCopyBytes negative a loop keeps
// no copies and writes large content from memory, byte for byte.
func TestLoopNoCopies(t *testing.T) {
	e := newLoopEnv(t, Options{LoopCopyBytes: -1})
	ls := e.loops(t)
	e.prime(t, "/big/x")
	for i := 0; i < 3; i++ {
		got := exchange(t, e.loop, get("/big/x"))
		if len(got) != 1 || got[0].body != string(distinctBig("/big/x")) {
			t.Fatalf("try %d: not the stored content", i)
		}
	}
	if n := ls.fromFile.Load(); n != 0 {
		t.Errorf("%d contents sent from copies, want none", n)
	}
}

// TestUpstreamCacheStatus checks that a stored response's Cache-Status
// members, from caches nearer the origin, are sent once, before this
// cache's (RFC 9211 §2), by the loop and by the fasthttp path, for a hit
// and for a 304.
func TestUpstreamCacheStatus(t *testing.T) {
	e := newLoopEnv(t, Options{})
	e.prime(t, "/upstream")
	for _, raw := range []string{get("/upstream"), get("/upstream", "If-None-Match: \"u1\"\r\n")} {
		for name, addr := range map[string]string{"loop": e.loop, "fasthttp": e.plain} {
			got := exchange(t, addr, raw)
			if len(got) != 1 {
				t.Fatalf("%s: %d responses", name, len(got))
			}
			if cs := got[0].header["Cache-Status"]; !slices.Equal(cs, []string{"upstream; hit", "notmod; hit"}) {
				t.Errorf("%s, %q: Cache-Status %q, want the upstream member once, then notmod's", name, raw, cs)
			}
		}
	}
}
