package fastproxy

import (
	"bufio"
	"bytes"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// FuzzRequest feeds arbitrary bytes to the fast front end as a client's
// connection: whatever they are, it must not panic, must end the
// exchange, and must answer, if at all, with HTTP/1.1 responses.
func FuzzRequest(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /1k HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"abc\"\r\n\r\n",
		"HEAD /1k HTTP/1.1\r\nHost: a\r\nRange: bytes=0-3\r\n\r\n",
		"POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
		"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /s HTTP/1.1\r\n\r\n",
		"GET http://a/x HTTP/1.1\r\nHost: b\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a HTTP/1.0\r\nX: a\r\n b\r\n\r\n",
		"GET /a?x=%zz HTTP/1.1\r\nHost: a\r\nVary: *\r\nCache-Control: only-if-cached, max-stale\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	s := newBenchServer(f)
	// Short: an exchange ends when the server gives up waiting for more.
	s.srv.ReadTimeout = 50 * time.Millisecond
	s.srv.IdleTimeout = 50 * time.Millisecond
	s.srv.WriteTimeout = time.Second
	f.Fuzz(func(t *testing.T, raw []byte) {
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = s.srv.ServeConn(server)
			server.Close()
		}()
		go func() {
			_, _ = client.Write(raw)
		}()
		_ = client.SetReadDeadline(time.Now().Add(3 * time.Second))
		out, _ := io.ReadAll(client)
		client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the connection was not given up")
		}
		if len(out) > 0 && !bytes.HasPrefix(out, []byte("HTTP/1.1 ")) {
			t.Fatalf("answered %q", out[:min(len(out), 64)])
		}
	})
}

// FuzzViewParse checks view.parse, the event loops' request head parser,
// against fasthttp's: whatever parse accepts, fasthttp reads the same
// way (method, target, Host, and every field as view.fill sees it).
func FuzzViewParse(f *testing.F) {
	for _, seed := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"HEAD /x?y=1 HTTP/1.1\r\nhost: a\r\nif-none-match: \"v\", W/\"w\"\r\nAccept: */*\r\nAccept: text/html\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\nX-Empty:\r\nX-Sp:  v \t\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX: \x80\xff\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n X: fold\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nX : y\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nCookie: a=b\r\nCookie: c=d\r\nUser-Agent: u\r\nContent-Type: t\r\n\r\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, head string) {
		end, plain := headEnd([]byte(head))
		if !plain || end != len(head) {
			return // the loop never gives parse such a head
		}
		v := newView()
		ok, closes := v.parse([]byte(head))
		if !ok {
			return
		}
		var rh fasthttp.RequestHeader
		if err := rh.Read(bufio.NewReader(strings.NewReader(head))); err != nil {
			t.Fatalf("parse took %q, fasthttp refuses it: %v", head, err)
		}
		w := newView()
		if refuse, originForm := w.fill(&rh); refuse != 0 || !originForm {
			t.Fatalf("parse took %q, the fasthttp path refuses it (%d, origin form %t)", head, refuse, originForm)
		}
		if v.req.Method != w.req.Method || v.req.RequestURI != w.req.RequestURI || v.req.Host != w.req.Host {
			t.Fatalf("%q: parse read %s %s Host %q; fasthttp %s %s Host %q", head, v.req.Method, v.req.RequestURI, v.req.Host, w.req.Method, w.req.RequestURI, w.req.Host)
		}
		if !maps.EqualFunc(v.header, w.header, slices.Equal) {
			t.Fatalf("%q: parse read %q; fasthttp %q", head, v.header, w.header)
		}
		if closes != rh.ConnectionClose() || !rh.IsHTTP11() {
			t.Fatalf("%q: parse says close %t; fasthttp %t (HTTP/1.1 %t)", head, closes, rh.ConnectionClose(), rh.IsHTTP11())
		}
	})
}
