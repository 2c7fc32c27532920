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

// TestUpgrade checks a protocol switch (RFC 9110 §7.8) through the proxy: the origin's 101 reaches the client, then bytes flow both
// ways on the connection until either side closes it.
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
