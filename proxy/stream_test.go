// Large content stored as a stream on disk, end to end: an origin, the
// proxy on a memory tier in front of a disk store (as notmod serve -store
// disk runs), a real client, all on loopback sockets.

package proxy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/proxy"
	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/disk"
	"github.com/notmod/notmod/store/memory"
	"github.com/notmod/notmod/store/tier"
)

// streamThreshold is the StreamThreshold of the disk environments: small,
// so that content of a few MiB is well past it.
const streamThreshold = 256 << 10

// diskEnv is an origin, and the proxy on a memory tier in front of a disk
// store. The cache can be stopped and started again on the same file.
type diskEnv struct {
	t      *testing.T
	clock  *testClock
	path   string
	origin *httptest.Server
	front  *frontEnd
	client *http.Client

	originCount atomic.Int64

	// The running cache; replaced by restart. The tier reaches the disk
	// store through count.
	cache *httpcache.Cache
	disk  *disk.Store
	count *countingStore
	mem   *memory.Store

	mu     sync.Mutex
	events []httpcache.Event
	// incomplete receives a value each time a response was not stored
	// because it did not arrive whole; stored, each time one was stored;
	// storeFailed, each time one was not stored because the store failed.
	incomplete  chan struct{}
	stored      chan struct{}
	storeFailed chan struct{}
}

func newDiskEnv(t *testing.T, origin http.HandlerFunc) *diskEnv {
	t.Helper()
	e := &diskEnv{t: t, clock: newTestClock(), path: filepath.Join(t.TempDir(), "cache.db"),
		incomplete: make(chan struct{}, 16), stored: make(chan struct{}, 16), storeFailed: make(chan struct{}, 16)}
	e.origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.originCount.Add(1)
		w.Header().Set("Date", httpDate(e.clock.Now()))
		origin(w, r)
	}))
	t.Cleanup(e.origin.Close)
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	e.client = &http.Client{Transport: tr, Timeout: 20 * time.Second}
	e.start()
	t.Cleanup(func() { _ = e.disk.Close() })
	return e
}

// start opens the disk store and starts a cache and proxy on it.
func (e *diskEnv) start() {
	t := e.t
	t.Helper()
	d, err := disk.New(disk.Options{Path: e.path, Clock: e.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.mem = memory.Must(memory.Options{Clock: e.clock.Now})
	e.count = &countingStore{Store: d, closed: make(chan struct{}, 16)}
	// A disk write under -race on a busy machine can take longer than the
	// default BackTimeout; Back would then be left alone for a Cooldown
	// of the test clock, which moves only when told. These tests are not
	// about a failing Back.
	ts, err := tier.New(tier.Options{Front: e.mem, Back: e.count, FrontTTL: time.Hour, Now: e.clock.Now, BackTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e.disk = d
	e.cache = httpcache.Must(httpcache.Options{
		Store: ts, Now: e.clock.Now, StreamThreshold: streamThreshold, MaxObjectSize: 64 << 20,
		Observe: func(ev httpcache.Event) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
			switch {
			case ev.NotStored == httpcache.ReasonIncomplete:
				notify(e.incomplete)
			case ev.NotStored == httpcache.ReasonStoreError:
				notify(e.storeFailed)
			case ev.Status.Stored && ev.NotStored == httpcache.Storable && ev.StoreError == nil && !ev.Revalidated && ev.Status.FwdStatus == 200:
				notify(e.stored)
			}
		},
	})
	u, _ := url.Parse(e.origin.URL)
	p, err := proxy.New(proxy.Options{Origin: u, Cache: e.cache})
	if err != nil {
		t.Fatal(err)
	}
	if e.front == nil {
		e.front = startFront(t, p, nil)
	} else {
		e.front.set(p)
	}
}

// countingStore is a disk store that counts the content streams opened
// from it, closed, and the bytes read from them; closed receives a value
// each time one is closed.
type countingStore struct {
	*disk.Store
	opens, closes, read atomic.Int64
	closed              chan struct{}
}

func (s *countingStore) OpenStream(ctx context.Context, key string) (store.StreamReader, error) {
	r, err := s.Store.OpenStream(ctx, key)
	if err != nil {
		return nil, err
	}
	s.opens.Add(1)
	return &countingReader{StreamReader: r, s: s}, nil
}

// countingReader is a content stream read through a countingStore.
type countingReader struct {
	store.StreamReader
	s *countingStore
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.StreamReader.Read(p)
	r.s.read.Add(int64(n))
	return n, err
}

func (r *countingReader) Close() error {
	r.s.closes.Add(1)
	notify(r.s.closed)
	return r.StreamReader.Close()
}

// restart stops the cache, lets damage change the file while it is
// closed, and starts a cache on it again.
func (e *diskEnv) restart(damage func(path string)) {
	e.t.Helper()
	if err := e.disk.Close(); err != nil {
		e.t.Fatal(err)
	}
	damage(e.path)
	e.start()
}

// lost counts the responses the cache reported as having lost their
// content.
func (e *diskEnv) lost() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.events {
		if errors.Is(ev.StoreError, httpcache.ErrContentLost) {
			n++
		}
	}
	return n
}

// get sends GET path with the given fields and reads the reply.
func (e *diskEnv) get(path string, fields ...string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, e.front.URL+path, nil)
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i+1 < len(fields); i += 2 {
		req.Header.Set(fields[i], fields[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// mustGet is get that fails the test on a transport error.
func (e *diskEnv) mustGet(path string, fields ...string) (*http.Response, []byte) {
	e.t.Helper()
	resp, b, err := e.get(path, fields...)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	return resp, b
}

// streamsOf returns the keys of the content streams on disk of the URL
// path.
func (e *diskEnv) streamsOf(path string) []string {
	e.t.Helper()
	var keys []string
	err := e.disk.Keys(e.t.Context(), "", func(k string) bool {
		if strings.Contains(k, path+"\x00s") {
			keys = append(keys, k)
		}
		return true
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return keys
}

// entryOf returns the stored value under the primary key of path.
func (e *diskEnv) entryOf(path string) ([]byte, error) {
	return e.disk.Get(e.t.Context(), "1 "+e.front.URL+path)
}

// largeContent returns n random bytes.
func largeContent(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// bigOrigin serves content at /big with an ETag, answering
// If-None-Match with 304, and fresh for a minute.
func bigOrigin(content []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Etag", `"big1"`)
		w.Header().Set("Content-Type", "application/octet-stream")
		if r.Header.Get("If-None-Match") == `"big1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		_, _ = w.Write(content)
	}
}

// TestStreamEndToEnd stores 5 MiB as a stream on disk and serves it:
// hits (RFC 9111 §4), Range (RFC 9110 §14), HEAD, a 304 that keeps the
// stored content (RFC 9111 §4.3.4), a restart, and a purge that removes
// the entry and its content.
func TestStreamEndToEnd(t *testing.T) {
	content := largeContent(5<<20, 1)
	e := newDiskEnv(t, bigOrigin(content))

	resp, got := e.mustGet("/big")
	if resp.StatusCode != 200 || !bytes.Equal(got, content) || !strings.Contains(resp.Header.Get("Cache-Status"), "fwd=uri-miss; fwd-status=200; stored") {
		t.Fatalf("first GET: %d, %d bytes, Cache-Status %q", resp.StatusCode, len(got), resp.Header.Get("Cache-Status"))
	}
	if !within(e.stored, 5*time.Second) {
		t.Fatal("the response was not stored")
	}
	// Stored as a stream: the entry under the URL's key is small, the
	// content is a stream of its own on disk, and none of it went to the
	// memory tier.
	raw, err := e.entryOf("/big")
	if err != nil || len(raw) > 4<<10 {
		t.Fatalf("the entry on disk: %d bytes, %v; want a small one", len(raw), err)
	}
	streams := e.streamsOf("/big")
	if len(streams) != 1 {
		t.Fatalf("streams on disk: %q, want one", streams)
	}
	r, err := e.disk.Open(t.Context(), streams[0])
	if err != nil || r.Size() != int64(len(content)) {
		t.Fatalf("the stream: %v", err)
	}
	r.Close()
	if b := e.mem.Bytes(); b > 1<<20 {
		t.Errorf("the memory tier holds %d bytes", b)
	}

	// A hit, read from the stream.
	resp, got = e.mustGet("/big")
	if resp.StatusCode != 200 || !bytes.Equal(got, content) || !strings.HasPrefix(resp.Header.Get("Cache-Status"), "notmod; hit") ||
		resp.ContentLength != int64(len(content)) {
		t.Fatalf("second GET: %d, %d bytes (Content-Length %d), Cache-Status %q", resp.StatusCode, len(got), resp.ContentLength, resp.Header.Get("Cache-Status"))
	}
	if e.originCount.Load() != 1 {
		t.Fatalf("the origin saw %d requests, want 1", e.originCount.Load())
	}

	t.Run("range", func(t *testing.T) {
		cases := map[string]struct {
			spec         string
			code         int
			want         []byte
			contentRange string
		}{
			// RFC 9110 §14.1.2, §15.3.7.1: one range, read where it starts.
			"middle":   {"bytes=3000000-3000099", 206, content[3000000:3000100], "bytes 3000000-3000099/5242880"},
			"suffix":   {"bytes=-10", 206, content[len(content)-10:], "bytes 5242870-5242879/5242880"},
			"open-end": {"bytes=5242000-", 206, content[5242000:], "bytes 5242000-5242879/5242880"},
			// §15.5.17: nothing satisfiable.
			"unsatisfiable": {"bytes=6000000-", 416, nil, "bytes */5242880"},
			// §14.2: several ranges are ignored: the whole content.
			"several": {"bytes=0-1,100-101", 200, content, ""},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				resp, got := e.mustGet("/big", "Range", tc.spec)
				if resp.StatusCode != tc.code || !bytes.Equal(got, tc.want) || resp.Header.Get("Content-Range") != tc.contentRange {
					t.Fatalf("%d, %d bytes, Content-Range %q; want %d, %d bytes, %q", resp.StatusCode, len(got),
						resp.Header.Get("Content-Range"), tc.code, len(tc.want), tc.contentRange)
				}
				if !strings.HasPrefix(resp.Header.Get("Cache-Status"), "notmod; hit") {
					t.Errorf("Cache-Status %q", resp.Header.Get("Cache-Status"))
				}
			})
		}
	})

	t.Run("head and conditional", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodHead, e.front.URL+"/big", nil)
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.ContentLength != int64(len(content)) {
			t.Errorf("HEAD: %d, Content-Length %d", resp.StatusCode, resp.ContentLength)
		}
		resp, got := e.mustGet("/big", "If-None-Match", `"big1"`)
		if resp.StatusCode != 304 || len(got) != 0 {
			t.Errorf("If-None-Match: %d with %d bytes, want 304", resp.StatusCode, len(got))
		}
	})

	// Stale: validated with a 304, which keeps the stored content.
	e.clock.Advance(2 * time.Minute)
	resp, got = e.mustGet("/big")
	if resp.StatusCode != 200 || !bytes.Equal(got, content) || !strings.Contains(resp.Header.Get("Cache-Status"), "fwd=stale; fwd-status=304") {
		t.Fatalf("after a 304: %d, %d bytes, Cache-Status %q", resp.StatusCode, len(got), resp.Header.Get("Cache-Status"))
	}
	if s := e.streamsOf("/big"); len(s) != 1 || s[0] != streams[0] {
		t.Fatalf("streams after the 304: %q, want %q kept", s, streams[0])
	}
	resp, got = e.mustGet("/big")
	if !bytes.Equal(got, content) || !strings.HasPrefix(resp.Header.Get("Cache-Status"), "notmod; hit") {
		t.Fatalf("after the 304, not a hit: %q", resp.Header.Get("Cache-Status"))
	}

	// A restart: the stream is still served.
	e.restart(func(string) {})
	resp, got = e.mustGet("/big")
	if !bytes.Equal(got, content) || !strings.HasPrefix(resp.Header.Get("Cache-Status"), "notmod; hit") {
		t.Fatalf("after a restart: %d bytes, Cache-Status %q", len(got), resp.Header.Get("Cache-Status"))
	}
	if e.originCount.Load() != 2 {
		t.Errorf("the origin saw %d requests, want 2", e.originCount.Load())
	}

	// A purge through the admin handler removes the entry and its content.
	admin := httptest.NewServer(proxy.Admin(e.cache, proxy.AdminOptions{}))
	defer admin.Close()
	presp, err := http.PostForm(admin.URL+"/purge", url.Values{"url": {e.front.URL + "/big"}})
	if err != nil {
		t.Fatal(err)
	}
	pbody, _ := io.ReadAll(presp.Body)
	presp.Body.Close()
	var purged struct{ Purged int }
	if err := json.Unmarshal(pbody, &purged); err != nil || presp.StatusCode != 200 || purged.Purged != 1 {
		t.Fatalf("purge: %d %s", presp.StatusCode, pbody)
	}
	if _, err := e.entryOf("/big"); err == nil {
		t.Error("the entry survived the purge")
	}
	if s := e.streamsOf("/big"); len(s) != 0 {
		t.Errorf("streams after the purge: %q", s)
	}
	if n := e.disk.Len(); n != 0 {
		t.Errorf("%d entries on disk after the purge", n)
	}
	if n := e.lost(); n != 0 {
		t.Errorf("%d contents reported lost", n)
	}
}

// TestStreamNotStoredIncomplete checks that streamed content that does not
// reach the cache whole is never stored (RFC 9111 §3.3), whether the
// client goes away midway or the origin sends less than its
// Content-Length, and leaves nothing on disk.
func TestStreamNotStoredIncomplete(t *testing.T) {
	content := largeContent(5<<20, 2)
	release := make(chan struct{})
	e := newDiskEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		switch r.URL.Path {
		case "/short":
			// 2 MiB of 5, then the connection closes.
			_, _ = w.Write(content[:2<<20])
		case "/held":
			// 1 MiB, then the rest once the client has gone.
			_, _ = w.Write(content[:1<<20])
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
			_, _ = w.Write(content[1<<20:])
		}
	})

	t.Run("origin short of Content-Length", func(t *testing.T) {
		_, got, err := e.get("/short")
		if err == nil {
			t.Errorf("the client read %d bytes without an error", len(got))
		}
		if !within(e.incomplete, 5*time.Second) {
			t.Fatal("the cache did not report the response incomplete")
		}
		e.wantNothingStored("/short")
	})

	t.Run("client gone", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, e.front.URL+"/held", nil)
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(resp.Body, make([]byte, 512<<10)); err != nil {
			t.Fatal(err)
		}
		// Closing the body before its end closes the connection.
		resp.Body.Close()
		if !within(e.incomplete, 5*time.Second) {
			close(release)
			t.Fatal("the cache did not report the response incomplete")
		}
		close(release)
		e.wantNothingStored("/held")
	})
}

// wantNothingStored fails the test unless neither an entry nor a stream
// of path is on disk, and the next request goes to the origin.
func (e *diskEnv) wantNothingStored(path string) {
	t := e.t
	t.Helper()
	if _, err := e.entryOf(path); err == nil {
		t.Errorf("%s: an incomplete response was stored", path)
	}
	if s := e.streamsOf(path); len(s) != 0 {
		t.Errorf("%s: streams on disk: %q", path, s)
	}
	if n := e.disk.Len(); n != 0 {
		t.Errorf("%s: %d entries on disk", path, n)
	}
}

// TestStreamDamaged damages the stored content on disk while the cache is
// stopped: the cache never sends a damaged byte. The response it was
// sending is cut short, the damaged content and its entry are dropped
// and counted, and the next request goes to the origin.
func TestStreamDamaged(t *testing.T) {
	content := largeContent(5<<20, 3)
	e := newDiskEnv(t, bigOrigin(content))
	if _, got := e.mustGet("/big"); !bytes.Equal(got, content) {
		t.Fatal("first GET")
	}
	if !within(e.stored, 5*time.Second) {
		t.Fatal("not stored")
	}
	// Flip a byte of the content 3 MiB in, wherever the file holds it
	// (bbolt may keep old copies of a page in free space).
	const at = 3<<20 + 1000
	marker := content[at : at+32]
	e.restart(func(path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for i := bytes.Index(b, marker); i >= 0; {
			b[i+16] ^= 0x55
			n++
			j := bytes.Index(b[i+1:], marker)
			if j < 0 {
				break
			}
			i += 1 + j
		}
		if n == 0 {
			t.Fatal("the content is not in the file")
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	})

	resp, got, err := e.get("/big")
	if err == nil {
		t.Fatalf("damaged content was sent whole: %d, %d bytes", resp.StatusCode, len(got))
	}
	if !bytes.HasPrefix(content, got) {
		t.Fatalf("the client got %d bytes that are not the content's first", len(got))
	}
	if len(got) > at {
		t.Fatalf("the client got %d bytes, past the damaged one at %d", len(got), at)
	}
	if c := e.disk.Stats().Corrupt; c != 1 {
		t.Errorf("the disk store counted %d corrupt entries, want 1", c)
	}
	// The next request: a miss, and the entry counted as lost.
	resp, got = e.mustGet("/big")
	if !bytes.Equal(got, content) || !strings.Contains(resp.Header.Get("Cache-Status"), "fwd=miss") {
		t.Fatalf("after the damage: %d bytes, Cache-Status %q; want the content from the origin", len(got), resp.Header.Get("Cache-Status"))
	}
	if n := e.lost(); n != 1 {
		t.Errorf("%d contents reported lost, want 1", n)
	}
	if e.originCount.Load() != 2 {
		t.Errorf("the origin saw %d requests, want 2", e.originCount.Load())
	}
	// Stored again, whole.
	if !within(e.stored, 5*time.Second) {
		t.Fatal("not stored again")
	}
	if _, got = e.mustGet("/big"); !bytes.Equal(got, content) {
		t.Fatal("the content stored again differs")
	}
}

// TestStreamHead checks that a HEAD answered from a stored response whose
// content is a stream gets the content's length, and that none of the
// content is read from disk for it (RFC 9110 §9.3.2).
func TestStreamHead(t *testing.T) {
	content := largeContent(3<<20, 4)
	e := newDiskEnv(t, bigOrigin(content))
	e.mustGet("/big")
	if !within(e.stored, 5*time.Second) {
		t.Fatal("not stored")
	}
	before := e.count.read.Load()
	req, _ := http.NewRequest(http.MethodHead, e.front.URL+"/big", nil)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(content)) || !strings.HasPrefix(resp.Header.Get("Cache-Status"), "notmod; hit") {
		t.Fatalf("HEAD: %d, Content-Length %d, Cache-Status %q", resp.StatusCode, resp.ContentLength, resp.Header.Get("Cache-Status"))
	}
	if n := e.count.read.Load() - before; n != 0 {
		t.Errorf("%d bytes of the content read from disk for a HEAD", n)
	}
}

// TestStreamStaleClientGone checks that a stale response served from a
// stream while it is revalidated (RFC 5861 §3), to a client that goes
// away midway, is cut short and its lookup released: the stream it held
// is closed.
func TestStreamStaleClientGone(t *testing.T) {
	// Larger than what the sockets between the proxy and a client that
	// reads nothing can buffer (4 MiB of send buffer here at most).
	content := largeContent(8<<20, 5)
	e := newDiskEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60, stale-while-revalidate=600")
		w.Header().Set("Etag", `"big1"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		_, _ = w.Write(content)
	})
	e.mustGet("/big")
	if !within(e.stored, 5*time.Second) {
		t.Fatal("not stored")
	}
	e.clock.Advance(2 * time.Minute)

	req, _ := http.NewRequest(http.MethodGet, e.front.URL+"/big", nil)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	// A hit whose ttl is past: served stale.
	if status := resp.Header.Get("Cache-Status"); !strings.HasPrefix(status, "notmod; hit; ttl=-") {
		t.Fatalf("Cache-Status %q: not served stale", status)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	// Closing the body before its end closes the connection.
	resp.Body.Close()
	if !within(e.count.closed, 10*time.Second) {
		t.Fatalf("the stream the stale response was read from is still open (%d opened, %d closed)", e.count.opens.Load(), e.count.closes.Load())
	}
	if o, c := e.count.opens.Load(), e.count.closes.Load(); o != c {
		t.Errorf("%d content streams opened, %d closed", o, c)
	}
}

// TestStreamStoreClosed closes the disk store behind the memory tier while
// the cache runs, as a disk that fails does. The response whose content
// is on disk is then a miss, sent whole from the origin and reported as a
// store error, not as lost content: its entry is kept, and after a
// restart on the same file it is served from disk again (RFC 9111 §4).
func TestStreamStoreClosed(t *testing.T) {
	content := largeContent(2<<20, 4)
	e := newDiskEnv(t, bigOrigin(content))
	if _, got := e.mustGet("/big"); !bytes.Equal(got, content) {
		t.Fatal("first GET")
	}
	if !within(e.stored, 5*time.Second) {
		t.Fatal("not stored")
	}
	if err := e.disk.Close(); err != nil {
		t.Fatal(err)
	}
	// First the tier meets the closed store, then it leaves the store
	// alone for a while.
	for _, round := range []string{"store fails", "store left alone"} {
		resp, got := e.mustGet("/big")
		if resp.StatusCode != 200 || !bytes.Equal(got, content) || !strings.Contains(resp.Header.Get("Cache-Status"), "fwd=miss") {
			t.Fatalf("%s: %d, %d bytes, Cache-Status %q; want the content from the origin", round, resp.StatusCode, len(got), resp.Header.Get("Cache-Status"))
		}
		if !within(e.storeFailed, 5*time.Second) {
			t.Fatalf("%s: the cache did not report the response not stored for a store error", round)
		}
	}
	e.mu.Lock()
	closed := 0
	for _, ev := range e.events {
		if errors.Is(ev.StoreError, disk.ErrClosed) {
			closed++
		}
	}
	e.mu.Unlock()
	if n := e.lost(); n != 0 || closed == 0 {
		t.Errorf("%d contents reported lost, %d store errors of the closed store; want 0 and some", n, closed)
	}
	if _, err := e.mem.Get(t.Context(), "1 "+e.front.URL+"/big"); err != nil {
		t.Errorf("the memory tier dropped the entry: %v", err)
	}
	if n := e.originCount.Load(); n != 3 {
		t.Errorf("the origin saw %d requests, want 3", n)
	}

	e.restart(func(string) {})
	resp, got := e.mustGet("/big")
	if !bytes.Equal(got, content) || !strings.HasPrefix(resp.Header.Get("Cache-Status"), "notmod; hit") {
		t.Fatalf("after a restart: %d bytes, Cache-Status %q; want a hit", len(got), resp.Header.Get("Cache-Status"))
	}
	if n := e.originCount.Load(); n != 3 {
		t.Errorf("the origin saw %d requests, want 3", n)
	}
}
