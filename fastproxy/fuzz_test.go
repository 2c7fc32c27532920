package fastproxy

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
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
