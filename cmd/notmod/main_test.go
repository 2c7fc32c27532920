package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// lastLogs holds the log of the server startServe started last.
var lastLogs *syncBuffer

// syncBuffer is a bytes.Buffer safe for the server's log writes while the
// test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// frontArgs returns args with "-front" and the value of NOTMOD_FRONT
// (net or fast) first, when it is set and args choose neither a front end
// nor TLS (which only the net/http front end serves): scripts/test runs
// the tests once with each front end.
//
// NOTMOD_LOOPS, when set, is passed as -loops (the fast front end's event
// loops; -1 for none).
func frontArgs(args []string) []string {
	if loops := os.Getenv("NOTMOD_LOOPS"); loops != "" && !slices.Contains(args, "-loops") && !slices.Contains(args, "-tls-cert") {
		args = append([]string{"-loops", loops}, args...)
	}
	front := os.Getenv("NOTMOD_FRONT")
	if front == "" || slices.Contains(args, "-front") || slices.Contains(args, "-tls-cert") {
		return args
	}
	return append([]string{"-front", front}, args...)
}

// startServe runs "notmod serve" with args on a free loopback port and
// returns its base URL; the server stops when the test ends.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	return startServeScheme(t, "http", args...)
}

// adminOf returns the admin listener's URL from serve's log.
func adminOf(t *testing.T, logs string) string {
	t.Helper()
	m := regexp.MustCompile(`msg="admin listener" addr=(http://127\.0\.0\.1:\d+)`).FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no admin listener in log:\n%s", logs)
	}
	return m[1]
}

// startServeScheme is startServe for a listener logged with scheme.
func startServeScheme(t *testing.T, scheme string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve", "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0"}, frontArgs(args)...), io.Discard, logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	re := regexp.MustCompile(`msg="notmod serve" listen=(` + scheme + `://127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			lastLogs = logs
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited: %v\n%s", err, logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start:\n%s", logs.String())
	return ""
}

func get(t *testing.T, url string, fields ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(fields); i += 2 {
		req.Header.Set(fields[i], fields[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestServeDemo runs the README's first command and its scenario: a miss,
// a hit, and 304s from cache for If-None-Match and for an
// If-Modified-Since in 2050 (RFC 9110 §13.1.2, §13.1.3, §15.4.5).
func TestServeDemo(t *testing.T) {
	base := startServe(t, "-demo")
	first, body := get(t, base+"/")
	if first.StatusCode != 200 || !strings.Contains(body, "notmod demo") {
		t.Fatalf("first GET: %d %q", first.StatusCode, body)
	}
	if cs := first.Header.Get("Cache-Status"); !strings.HasPrefix(cs, "notmod; fwd=uri-miss; fwd-status=200; stored") {
		t.Fatalf("first Cache-Status %q", cs)
	}
	second, body2 := get(t, base+"/")
	if body2 != body || !strings.HasPrefix(second.Header.Get("Cache-Status"), "notmod; hit") || second.Header.Get("Age") == "" {
		t.Fatalf("second GET: %v", second.Header)
	}
	etag := first.Header.Get("Etag")
	nm, nmBody := get(t, base+"/", "If-None-Match", etag)
	if nm.StatusCode != 304 || nmBody != "" || nm.Header.Get("Etag") != etag || nm.Header.Get("Cache-Control") != first.Header.Get("Cache-Control") {
		t.Fatalf("If-None-Match: %d %v", nm.StatusCode, nm.Header)
	}
	if nm.Header.Get("Content-Type") != "" || nm.Header.Get("Content-Length") != "" {
		t.Fatalf("304 with representation metadata: %v", nm.Header)
	}
	ims, _ := get(t, base+"/", "If-Modified-Since", "Tue, 21 Nov 2050 08:00:00 GMT")
	if ims.StatusCode != 304 {
		t.Fatalf("If-Modified-Since 2050: %d", ims.StatusCode)
	}
}

func TestServeFlags(t *testing.T) {
	for name, args := range map[string][]string{
		"no origin":       {"serve"},
		"bad origin":      {"serve", "-origin", "ftp://x"},
		"demo and origin": {"serve", "-demo", "-origin", "http://127.0.0.1:1"},
		"bad size":        {"serve", "-origin", "http://127.0.0.1:1", "-memory", "lots"},
		"half tls":        {"serve", "-origin", "http://127.0.0.1:1", "-tls-cert", "x"},
		"bad log level":   {"serve", "-origin", "http://127.0.0.1:1", "-log-level", "loud"},
		"extra argument":  {"serve", "-origin", "http://127.0.0.1:1", "extra"},
		"unknown command": {"frobnicate"},
		"open admin":      {"serve", "-origin", "http://127.0.0.1:1", "-admin", "0.0.0.0:0"},
		"unknown front":   {"serve", "-origin", "http://127.0.0.1:1", "-front", "slow"},
		"fast with tls":   {"serve", "-origin", "http://127.0.0.1:1", "-front", "fast", "-tls-cert", "x", "-tls-key", "y"},
		"bad loop copies": {"serve", "-origin", "http://127.0.0.1:1", "-loop-copies", "-1"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := Run(context.Background(), args, io.Discard, io.Discard); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// TestLoopCopyBytes checks that -loop-copies 0 means no copies, which
// fastproxy takes as a negative LoopCopyBytes (its zero is the default).
func TestLoopCopyBytes(t *testing.T) {
	if got := loopCopyBytes(0); got >= 0 {
		t.Errorf("loopCopyBytes(0) = %d, want negative (none)", got)
	}
	if got := loopCopyBytes(8 << 20); got != 8<<20 {
		t.Errorf("loopCopyBytes(8MiB) = %d", got)
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"512MiB": 512 << 20, "2GiB": 2 << 30, "64KiB": 64 << 10, "1000": 1000, "3MB": 3e6, "0": 0} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, b, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1.5GiB", "MiB", "99999999999GiB"} {
		var b byteSize
		if err := b.Set(in); err == nil {
			t.Errorf("Set(%q) accepted", in)
		}
	}
	if s := byteSize(256 << 20); s.String() != "256MiB" {
		t.Errorf("String = %q", s.String())
	}
}

// TestServeAdmin purges through the admin listener and reads its metrics
// and status.
func TestServeAdmin(t *testing.T) {
	base := startServe(t, "-demo", "-admin-token", "s3cret")
	admin := adminOf(t, lastLogs.String())
	get(t, base+"/data.json")
	if resp, _ := get(t, base+"/data.json"); !strings.HasPrefix(resp.Header.Get("Cache-Status"), "notmod; hit") {
		t.Fatalf("not a hit before the purge: %v", resp.Header)
	}
	post := func(token, form string) (*http.Response, string) {
		req, _ := http.NewRequest("POST", admin+"/purge", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, _ := post("", "url="+base+"/data.json"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("purge without token: %d", resp.StatusCode)
	}
	if resp, _ := post("wrong", "url="+base+"/data.json"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("purge with a wrong token: %d", resp.StatusCode)
	}
	resp, body := post("s3cret", "url="+base+"/data.json")
	if resp.StatusCode != 200 || !strings.Contains(body, `"purged": 1`) {
		t.Fatalf("purge: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, base+"/data.json"); !strings.Contains(resp.Header.Get("Cache-Status"), "fwd=uri-miss") {
		t.Fatalf("after purge: %v", resp.Header)
	}
	if resp, _ := post("s3cret", "bogus=1"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed purge: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", admin+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	mresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{`notmod_cache_responses_total{fwd_status="",result="hit"}`, "notmod_store_objects", "notmod_cache_invalidations_total 1"} {
		if !strings.Contains(string(metricsText), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
