package proxy_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestUpgrade checks a protocol switch (RFC 9110 §7.8) through the proxy:
// the origin's 101 reaches the client, then bytes flow both ways on the
// connection until either side closes it.
func TestUpgrade(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		_ = brw.Flush()
		for {
			line, err := brw.ReadString('\n')
			if err != nil || line == "bye\n" {
				return
			}
			_, _ = brw.WriteString("echo: " + line)
			_ = brw.Flush()
		}
	}, envOptions{})
	c, err := net.Dial("tcp", strings.TrimPrefix(e.front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: cache.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Upgrade") != "echo" {
		t.Fatalf("got %d, Upgrade %q; want 101 echo", resp.StatusCode, resp.Header.Get("Upgrade"))
	}
	for _, msg := range []string{"one\n", "two\n"} {
		_, _ = io.WriteString(c, msg)
		got, err := br.ReadString('\n')
		if err != nil || got != "echo: "+msg {
			t.Fatalf("after %q: got %q, %v", msg, got, err)
		}
	}
	_, _ = io.WriteString(c, "bye\n")
	if _, err := br.ReadByte(); err == nil {
		t.Error("the connection stayed open after the origin closed it")
	}
}

// TestUpgradeHalfClose checks that a client's half close of a protocol
// switch (RFC 9110 §7.8) reaches the origin as a half close, through the
// proxy's connection to it: the origin reads the client's bytes to their
// end, and its answer, sent after that, still reaches the client.
func TestUpgradeHalfClose(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		_ = brw.Flush()
		b, err := io.ReadAll(brw) // until the half close
		if err != nil {
			return
		}
		_, _ = brw.WriteString("got " + string(b))
		_ = brw.Flush()
	}, envOptions{})
	c, err := net.Dial("tcp", strings.TrimPrefix(e.front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: cache.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v, %v", resp, err)
	}
	_, _ = io.WriteString(c, "hello")
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(br); err != nil || string(b) != "got hello" {
		t.Errorf("after the half close: %q, %v; want the origin's answer", b, err)
	}
}

// TestUpgradeSessions checks that protocol switches to one URL are not
// collapsed (a session is not a response another request can wait for),
// and that a session the origin ends while the client keeps its side
// open leaves the front end serving other connections.
func TestUpgradeSessions(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			w.Header().Set("Cache-Control", "no-store")
			_, _ = io.WriteString(w, "plain")
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: line\r\n\r\n")
		_ = brw.Flush()
		line, _ := brw.ReadString('\n') // one line, then the origin ends the session
		_, _ = brw.WriteString("bye " + line)
		_ = brw.Flush()
	}, envOptions{})
	open := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", strings.TrimPrefix(e.front.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		// Less than the 5 s a collapsed request would wait.
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		_, _ = io.WriteString(c, "GET /session HTTP/1.1\r\nHost: cache.test\r\nConnection: Upgrade\r\nUpgrade: line\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: %v, %v", resp, err)
		}
		return c, br
	}
	first, firstR := open()
	defer first.Close()
	second, secondR := open() // while the first session is open
	defer second.Close()
	for _, s := range []struct {
		c  net.Conn
		br *bufio.Reader
	}{{first, firstR}, {second, secondR}} {
		_, _ = io.WriteString(s.c, "hello\n")
		if got, err := s.br.ReadString('\n'); err != nil || got != "bye hello\n" {
			t.Fatalf("session: %q, %v", got, err)
		}
	}
	// The origin has ended both sessions; the clients keep theirs open.
	for i := 0; i < 20; i++ {
		r := e.do(t, http.MethodGet, "/plain"+itoa(i))
		if r.code != http.StatusOK || r.body != "plain" {
			t.Fatalf("request %d after the sessions: %d %q", i, r.code, r.body)
		}
	}
}

// TestTruncatedOrigin checks that a response the origin breaks off (fewer
// bytes than its Content-Length, or a chunked body without its last
// chunk) never reaches the client as complete (RFC 9112 §8): the client
// gets a 502 or a connection that ends short.
func TestTruncatedOrigin(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.URL.Path == "/sized" {
			w.Header().Set("Content-Length", "1000")
		} else {
			w.(http.Flusher).Flush() // chunked
		}
		_, _ = io.WriteString(w, strings.Repeat("t", 500))
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the origin's connection ends here
	}, envOptions{})
	for _, path := range []string{"/sized", "/chunked"} {
		for i := 0; i < 2; i++ { // and nothing was stored
			r, err := e.fetch(http.MethodGet, path)
			if err == nil && r.code == http.StatusOK {
				t.Errorf("%s (%d): a truncated response was delivered as complete: %d bytes", path, i, len(r.body))
			}
		}
	}
}
