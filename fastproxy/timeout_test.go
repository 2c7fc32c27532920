package fastproxy

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestTrickledHeadTimesOut checks that a client sending its request head
// a byte at a time does not extend the read timeout: the connection is
// closed about ReadTimeout (within the deadline slack) after it started,
// though bytes keep arriving.
func TestTrickledHeadTimesOut(t *testing.T) {
	e := newSmuggleEnv(t, Options{ReadTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c)
		close(closed)
	}()
	head := "GET /a HTTP/1.1\r\nHost: cache.test\r\nX-Slow: " + strings.Repeat("s", 200)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	limit := time.After(10 * time.Second)
	for i := 0; ; i++ {
		select {
		case <-closed:
			if len(e.requests()) != 0 {
				t.Errorf("the origin saw %q", e.requests())
			}
			return
		case <-limit:
			t.Fatal("a trickling client kept its connection for 10 s (read timeout 300 ms)")
		case <-tick.C:
			_, _ = c.Write([]byte{head[i%len(head)]})
		}
	}
}

// TestStalledReaderTimesOut checks that a client that stops reading a
// large response is dropped after the write timeout, which stops the copy
// from the origin.
func TestStalledReaderTimesOut(t *testing.T) {
	stopped := make(chan struct{})
	base, _ := front(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		chunk := bytes.Repeat([]byte("z"), 64<<10)
		for i := 0; i < 16384; i++ { // 1 GiB if nobody stops it
			if _, err := w.Write(chunk); err != nil {
				close(stopped)
				return
			}
		}
	}), Options{WriteTimeout: 300 * time.Millisecond})
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET /huge HTTP/1.1\r\nHost: cache.test\r\n\r\n")
	// Read nothing.
	select {
	case <-stopped:
	case <-time.After(15 * time.Second):
		t.Fatal("the origin was still being read 15 s after the client stopped reading (write timeout 300 ms)")
	}
}

// TestSlowUploadKeepsMoving checks that a streamed upload that takes
// longer than the read timeout, but keeps moving, is not cut off.
func TestSlowUploadKeepsMoving(t *testing.T) {
	var got atomic.Int64
	base, _ := front(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got.Store(n)
	}), Options{BufferedBody: 16 << 10, ReadTimeout: 500 * time.Millisecond})
	pr, pw := io.Pipe()
	go func() {
		chunk := bytes.Repeat([]byte("s"), 8<<10)
		for i := 0; i < 16; i++ { // 128 KiB over about 2.4 s
			if _, err := pw.Write(chunk); err != nil {
				return
			}
			time.Sleep(150 * time.Millisecond) // the client's pace, not a wait for the server
		}
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, base+"/slow", pr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || got.Load() != 128<<10 {
		t.Errorf("got %d, origin read %d bytes; want 200 and all %d", resp.StatusCode, got.Load(), 128<<10)
	}
}
