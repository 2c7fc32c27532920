package fastproxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// smuggleEnv is an origin that records every request it gets, and the
// fast front end in front of it, on loopback.
type smuggleEnv struct {
	addr string
	mu   sync.Mutex
	seen []string // "METHOD URI body"
}

func (e *smuggleEnv) requests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.seen...)
}

func newSmuggleEnv(t *testing.T, o Options) *smuggleEnv {
	t.Helper()
	e := &smuggleEnv{}
	base, _ := front(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.seen = append(e.seen, r.Method+" "+r.RequestURI+" "+string(b))
		e.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "origin saw "+r.Method+" "+r.RequestURI)
	}), o)
	e.addr = strings.TrimPrefix(base, "http://")
	return e
}

// exchange writes raw to a new connection and reads responses until the
// server closes it or stays silent for a moment; it returns their status
// codes and whether the server closed the connection.
func (e *smuggleEnv) exchange(t *testing.T, raw string) (codes []int, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			var ne net.Error
			if ok := asNetError(err, &ne); ok && ne.Timeout() {
				return codes, false
			}
			return codes, true
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
		if resp.Close {
			return codes, true
		}
	}
}

func asNetError(err error, target *net.Error) bool {
	ne, ok := err.(net.Error)
	if ok {
		*target = ne
	}
	return ok
}

// TestSmuggling sends requests whose framing is ambiguous or malformed
// (RFC 9112 §2.2, §3.2, §5.1, §5.2, §6.1, §6.3, §7.1) to the fast front
// end. Each is refused (4xx/5xx, connection closed) or read one way only:
// the origin never sees a request that hid inside another, nor a body cut
// where a different reading would have cut it.
func TestSmuggling(t *testing.T) {
	const smuggled = "GET /smuggled HTTP/1.1\r\nHost: cache.test\r\n\r\n"
	cases := map[string]struct {
		raw string
		// refuse: the request must be answered with this status (and the
		// connection closed) without reaching the origin. Zero: it may be
		// served, but nothing smuggled may reach the origin.
		refuse int
		// wantSeen, if set, is what the origin must have seen, in order.
		wantSeen []string
	}{
		// §6.3 ¶3: Transfer-Encoding overrides Content-Length, and the
		// connection is closed after the response: the bytes after the
		// chunked body never become a request.
		"CL.TE": {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
			wantSeen: []string{"POST /a "}},
		"TE.CL": {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n" + smuggled,
			wantSeen: []string{"POST /a "}},
		// §6.3 ¶5: differing Content-Length values are unrecoverable.
		"two Content-Length":     {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", refuse: 400},
		"Content-Length list":    {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nContent-Length: 4, 5\r\n\r\nabcde", refuse: 400},
		"Content-Length sign":    {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nContent-Length: +4\r\n\r\nabcd", refuse: 400},
		"Content-Length hex":     {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nContent-Length: 0x4\r\n\r\nabcd", refuse: 400},
		"Content-Length space":   {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nContent-Length: 4 4\r\n\r\nabcd", refuse: 400},
		"Content-Length too big": {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nContent-Length: 99999999999999999999999\r\n\r\nabcd", refuse: 400},
		// §6.1: a coding other than a final chunked is refused (501), as
		// are codings this server does not know.
		"TE gzip":            {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nTransfer-Encoding: gzip\r\n\r\nabcd", refuse: 501},
		"TE chunked twice":   {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", refuse: 501},
		"TE list":            {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", refuse: 501},
		"TE identity":        {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nTransfer-Encoding: identity\r\nContent-Length: 4\r\n\r\nabcd" + smuggled, refuse: 501},
		"TE in HTTP/1.0":     {raw: "POST /a HTTP/1.0\r\nHost: cache.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", refuse: 501},
		"TE with space name": {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\nabcd", refuse: 400},
		"TE vertical tab":    {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nTransfer-Encoding:\x0bchunked\r\nContent-Length: 4\r\n\r\nabcd", refuse: 400},
		// §7.1: chunk sizes are hex digits of a bounded size.
		"chunk size overflow": {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nabcd\r\n0\r\n\r\n", refuse: 400},
		"chunk size junk":     {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nTransfer-Encoding: chunked\r\n\r\n4x\r\nabcd\r\n0\r\n\r\n", refuse: 400},
		"chunk no CRLF":       {raw: "POST /a HTTP/1.1\r\nHost: cache.test\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcdX0\r\n\r\n", refuse: 400},
		// §5.2: obs-fold is refused or replaced by spaces; §2.2: a bare CR
		// is invalid.
		"obs-fold":          {raw: "GET /a HTTP/1.1\r\nHost: cache.test\r\nX-A: a\r\n b\r\n\r\n", refuse: 400},
		"bare CR in value":  {raw: "GET /a HTTP/1.1\r\nHost: cache.test\r\nX-A: a\rb\r\n\r\n", refuse: 400},
		"NUL in value":      {raw: "GET /a HTTP/1.1\r\nHost: cache.test\r\nX-A: a\x00b\r\n\r\n", refuse: 400},
		"space before name": {raw: "GET /a HTTP/1.1\r\n Host: cache.test\r\n\r\n", refuse: 400},
		// §3.2: exactly one Host in HTTP/1.1.
		"no Host":  {raw: "GET /a HTTP/1.1\r\n\r\n", refuse: 400},
		"two Host": {raw: "GET /a HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n", refuse: 400},
		// Not framing errors: a GET's body is its body, never a request.
		"GET with body": {raw: "GET /a HTTP/1.1\r\nHost: cache.test\r\nContent-Length: 44\r\n\r\n" + smuggled,
			wantSeen: []string{"GET /a " + smuggled}},
		"pipelined": {raw: "GET /a HTTP/1.1\r\nHost: cache.test\r\n\r\n" + "GET /b HTTP/1.1\r\nHost: cache.test\r\n\r\n",
			wantSeen: []string{"GET /a ", "GET /b "}},
		"bad request line": {raw: "GET /a HTTP/1.1 extra\r\nHost: cache.test\r\n\r\n", refuse: 400},
		"bad version":      {raw: "GET /a HTTP/9.9\r\nHost: cache.test\r\n\r\n", refuse: 505}, // §2.3
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newSmuggleEnv(t, Options{})
			codes, closed := e.exchange(t, tc.raw)
			seen := e.requests()
			for _, s := range seen {
				if strings.HasPrefix(s, "GET /smuggled") {
					t.Fatalf("the origin saw a smuggled request: %q", seen)
				}
			}
			if tc.refuse != 0 {
				if len(codes) != 1 || codes[0] != tc.refuse {
					t.Errorf("responses %v, want one %d", codes, tc.refuse)
				}
				if !closed {
					t.Error("connection left open after a framing error")
				}
				if len(seen) != 0 {
					t.Errorf("the origin saw %q, want nothing", seen)
				}
				return
			}
			if len(seen) != len(tc.wantSeen) {
				t.Fatalf("the origin saw %q, want %q", seen, tc.wantSeen)
			}
			for i := range seen {
				if seen[i] != tc.wantSeen[i] {
					t.Errorf("origin request %d: %q, want %q", i, seen[i], tc.wantSeen[i])
				}
			}
			if len(codes) != len(tc.wantSeen) {
				t.Errorf("responses %v, want %d", codes, len(tc.wantSeen))
			}
		})
	}
}

// TestLimits checks the front end's bounds on what a client may send:
// a head too large is refused with 431 (RFC 6585 §5), a client that never
// finishes its head is cut off by the read timeout.
func TestLimits(t *testing.T) {
	e := newSmuggleEnv(t, Options{MaxHeaderBytes: 4096, ReadTimeout: 200 * time.Millisecond})
	codes, closed := e.exchange(t, "GET /a HTTP/1.1\r\nHost: cache.test\r\nX-Big: "+strings.Repeat("b", 8000)+"\r\n\r\n")
	if len(codes) != 1 || codes[0] != http.StatusRequestHeaderFieldsTooLarge || !closed {
		t.Errorf("large head: responses %v (closed %v), want 431 and close", codes, closed)
	}

	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET /a HTTP/1.1\r\nHost: cache.test\r\n") // never finished
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("slow head: the connection was not closed by the server: %v", err)
	}
	if len(b) > 0 && !strings.HasPrefix(string(b), "HTTP/1.1 408") {
		t.Errorf("slow head: got %q, want a 408 or nothing", b)
	}
	if len(e.requests()) != 0 {
		t.Errorf("the origin saw %q", e.requests())
	}
}
