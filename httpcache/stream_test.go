package httpcache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/disk"
	"github.com/notmod/notmod/store/memory"
	"github.com/notmod/notmod/store/tier"
)

// streamEnv is a cache on a disk store, which streams, both reading one
// clock, with the events the cache reported. The cache reaches the store
// through count; d is the store itself.
type streamEnv struct {
	c     *Cache
	clock *testClock
	d     *disk.Store
	count *countingStore

	mu     sync.Mutex
	events []Event
}

// newStreamEnv returns a cache on a fresh disk store. o.Store, o.Now and
// o.Observe are set here; a zero o.StreamThreshold is 64 KiB.
func newStreamEnv(t *testing.T, o Options) *streamEnv {
	t.Helper()
	return newStreamEnvOn(t, o, nil)
}

// newStreamEnvOn is newStreamEnv with the cache on the store on returns
// for the disk store, such as a memory tier in front of it; nil means the
// disk store itself.
func newStreamEnvOn(t *testing.T, o Options, on func(d *disk.Store, now func() time.Time) store.Store) *streamEnv {
	t.Helper()
	env := &streamEnv{clock: newTestClock()}
	d, err := disk.New(disk.Options{
		Path:   filepath.Join(t.TempDir(), "cache.db"),
		Clock:  env.clock.Now,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	env.d, env.count = d, &countingStore{Store: d}
	o.Store, o.Now = env.count, env.clock.Now
	if on != nil {
		o.Store = on(d, env.clock.Now)
	}
	o.Observe = func(e Event) {
		env.mu.Lock()
		env.events = append(env.events, e)
		env.mu.Unlock()
	}
	if o.StreamThreshold == 0 {
		o.StreamThreshold = 64 << 10
	}
	env.c, err = New(o)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// countingStore is a disk store that counts what is asked of it: values
// read whole, expiry moves, and content streams opened, closed and read.
// While failOpen is set, opening a stream fails, as with a store that
// cannot be reached.
type countingStore struct {
	*disk.Store
	gets, expires, opens, closes, read atomic.Int64
	failOpen                           atomic.Bool
}

var errUnreachable = errors.New("store unreachable")

func (s *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}

func (s *countingStore) Expire(ctx context.Context, key string, ttl time.Duration) error {
	s.expires.Add(1)
	return s.Store.Expire(ctx, key, ttl)
}

func (s *countingStore) OpenStream(ctx context.Context, key string) (store.StreamReader, error) {
	if s.failOpen.Load() {
		return nil, errUnreachable
	}
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
	return r.StreamReader.Close()
}

// lost counts the ErrContentLost events.
func (env *streamEnv) lost() int {
	env.mu.Lock()
	defer env.mu.Unlock()
	n := 0
	for _, e := range env.events {
		if errors.Is(e.StoreError, ErrContentLost) {
			n++
		}
	}
	return n
}

// streams returns the keys of the content streams in the store.
func (env *streamEnv) streams(t *testing.T) []string {
	t.Helper()
	var keys []string
	if err := env.d.Keys(t.Context(), "", func(k string) bool {
		if strings.Contains(k, streamKeySep) {
			keys = append(keys, k)
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return keys
}

// stored returns the entry stored under the primary key of target.
func (env *streamEnv) stored(t *testing.T, target string) (entry, []byte, bool) {
	t.Helper()
	raw, err := env.d.Get(t.Context(), "1 http://example.com"+target)
	if errors.Is(err, store.ErrNotFound) {
		return entry{}, nil, false
	}
	var e entry
	if err != nil || decodeEntry(raw, &e) != nil {
		t.Fatalf("the entry of %s: %v", target, err)
	}
	return e, raw, true
}

// bigContent returns n bytes that differ from one seed to another.
func bigContent(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// origin200 returns a function that builds a 200 with content and the
// fields given; length -1 makes its length undeclared.
func origin200(content []byte, length int64, fields ...string) func(out *http.Request) *http.Response {
	return func(out *http.Request) *http.Response {
		h := header(fields...)
		r := newResponse(out, http.StatusOK, h, "")
		r.Body = io.NopCloser(bytes.NewReader(content))
		r.ContentLength = length
		return r
	}
}

// serveStreamed looks req up, expects a hit on streamed content and
// returns the content read from the store.
func serveStreamed(t *testing.T, c *Cache, req *http.Request) (*Lookup, []byte) {
	t.Helper()
	l := c.Lookup(req)
	if l.Decision != Serve {
		t.Fatalf("Lookup = %v (%s), want serve", l.Decision, l.AppendCacheStatus(nil))
	}
	if !l.Streamed() {
		t.Fatal("the stored content is not a stream")
	}
	code, body := l.Reply()
	if code != http.StatusOK || len(body) != 0 {
		t.Fatalf("Reply = %d with %d bytes, want 200 and no slice", code, len(body))
	}
	r := l.Content()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading the content: %v", err)
	}
	if want := strconv.Itoa(len(got)); l.ContentLength()[0] != want || int64(l.BodyLength()) != r.Size() {
		t.Fatalf("ContentLength %q, BodyLength %d; read %s bytes", l.ContentLength(), l.BodyLength(), want)
	}
	return l, got
}

// TestStreamStored checks that content past the threshold is stored as a
// stream of its own, its entry naming it, and served from it; and that
// content up to the threshold is stored whole (RFC 9111 §3).
func TestStreamStored(t *testing.T) {
	const threshold = 64 << 10
	cases := map[string]struct {
		size     int
		declared bool
		streamed bool
	}{
		"declared length past the threshold":   {300 << 10, true, true},
		"undeclared length past the threshold": {300 << 10, false, true},
		"exactly the threshold":                {threshold, true, false},
		"undeclared, under the threshold":      {1000, false, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := newStreamEnv(t, Options{StreamThreshold: threshold})
			content := bigContent(tc.size, 1)
			length := int64(-1)
			if tc.declared {
				length = int64(len(content))
			}
			fields := []string{"Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(t0)}
			resp, got, status := exchange(t, env.c, newRequest(http.MethodGet, "/big"), origin200(content, length, fields...))
			if resp.StatusCode != 200 || !bytes.Equal([]byte(got), content) {
				t.Fatalf("the client got %d and %d bytes, want 200 and %d", resp.StatusCode, len(got), len(content))
			}
			if tc.declared && !strings.Contains(status, "; stored") {
				t.Errorf("Cache-Status %q, want stored", status)
			}
			e, raw, ok := env.stored(t, "/big")
			if !ok {
				t.Fatal("nothing stored")
			}
			streams := env.streams(t)
			if !tc.streamed {
				if e.flags&flagStream != 0 || len(streams) != 0 || !bytes.Equal(e.body, content) {
					t.Fatalf("stored as a stream (%d streams), want whole", len(streams))
				}
				return
			}
			// The entry holds a reference, not the content; the stream
			// holds the content.
			if e.flags&flagStream == 0 || len(raw) > 4096 || e.size != int64(len(content)) {
				t.Fatalf("entry of %d bytes, flags %b, size %d: not a reference to a stream", len(raw), e.flags, e.size)
			}
			if len(streams) != 1 || streams[0] != e.stream || !strings.HasPrefix(e.stream, "1 http://example.com/big"+streamKeySep) {
				t.Fatalf("streams %q, entry names %q", streams, e.stream)
			}
			r, err := env.d.Open(t.Context(), e.stream)
			if err != nil || r.Size() != int64(len(content)) {
				t.Fatalf("the stream: %v", err)
			}
			r.Close()
			l, served := serveStreamed(t, env.c, newRequest(http.MethodGet, "/big"))
			defer l.Release()
			if !bytes.Equal(served, content) {
				t.Fatalf("served %d bytes that differ from the %d stored", len(served), len(content))
			}
			// HEAD: the same length, and Response without a body.
			h := env.c.Lookup(newRequest(http.MethodHead, "/big"))
			defer h.Release()
			if h.Decision != Serve || !h.Streamed() || h.ContentLength()[0] != strconv.Itoa(len(content)) {
				t.Fatalf("HEAD: %v, Content-Length %q", h.Decision, h.ContentLength())
			}
		})
	}
}

// brokenBody yields content, then fails, as an origin connection cut
// midway does.
type brokenBody struct {
	r   io.Reader
	err error
}

func (b *brokenBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, b.err
	}
	return n, err
}

func (b *brokenBody) Close() error { return nil }

// TestStreamIncomplete checks that streamed content that does not arrive
// whole is never stored, and leaves no stream behind (RFC 9111 §3.3).
func TestStreamIncomplete(t *testing.T) {
	content := bigContent(500<<10, 2)
	fields := []string{"Cache-Control", "max-age=60", "Date", httpDate(t0)}
	cases := map[string]struct {
		resp     func(out *http.Request) *http.Response
		readPart bool // the client reads part and goes away
	}{
		// §3.3: fewer bytes than Content-Length.
		"short of Content-Length": {resp: func(out *http.Request) *http.Response {
			r := origin200(content[:300<<10], int64(len(content)), fields...)(out)
			return r
		}},
		// The origin's connection fails midway.
		"read error": {resp: func(out *http.Request) *http.Response {
			r := origin200(nil, -1, fields...)(out)
			r.Body = &brokenBody{bytes.NewReader(content[:300<<10]), io.ErrUnexpectedEOF}
			return r
		}},
		// The client goes away midway.
		"client gone": {resp: origin200(content, int64(len(content)), fields...), readPart: true},
		// Larger than MaxObjectSize, found out while streaming.
		"too large": {resp: origin200(bigContent(2<<20, 3), -1, fields...)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := newStreamEnv(t, Options{MaxObjectSize: 1 << 20})
			req := newRequest(http.MethodGet, "/big")
			l := env.c.Lookup(req)
			out := req.Clone(req.Context())
			l.Outbound(out.Header)
			got, err := l.Receive(tc.resp(out))
			if err != nil {
				t.Fatal(err)
			}
			if tc.readPart {
				_, _ = io.CopyN(io.Discard, got.Body, 200<<10)
			} else {
				_, _ = io.Copy(io.Discard, got.Body)
			}
			got.Body.Close()
			l.Release()
			if _, _, ok := env.stored(t, "/big"); ok {
				t.Error("an incomplete response was stored")
			}
			if s := env.streams(t); len(s) != 0 {
				t.Errorf("streams left behind: %q", s)
			}
			if n := env.d.Len(); n != 0 {
				t.Errorf("%d entries in the store, want none", n)
			}
			if l := env.c.Lookup(newRequest(http.MethodGet, "/big")); l.Decision != Forward {
				t.Errorf("the next request: %v, want forward", l.Decision)
			}
		})
	}
}

// TestStreamRevalidated checks that a 304 for a response whose content is
// a stream updates the entry, keeps the stream and moves its expiry with
// the entry's (RFC 9111 §4.3.4, §3.2).
func TestStreamRevalidated(t *testing.T) {
	env := newStreamEnv(t, Options{KeepStale: time.Minute})
	content := bigContent(200<<10, 4)
	req := func() *http.Request { return newRequest(http.MethodGet, "/big") }
	exchange(t, env.c, req(), origin200(content, int64(len(content)),
		"Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(t0), "X-Version", "1"))
	before, _, _ := env.stored(t, "/big")
	stream := before.stream

	// Stale, then validated: the store's expiry of the first write (60 s
	// of freshness and a minute kept stale) is long past by the end.
	for round := 1; round <= 3; round++ {
		env.clock.Advance(100 * time.Second)
		now := env.c.Now()
		resp, got, status := exchange(t, env.c, req(), func(out *http.Request) *http.Response {
			if out.Header.Get("If-None-Match") != `"v1"` {
				t.Fatalf("validation request If-None-Match %q", out.Header.Get("If-None-Match"))
			}
			return newResponse(out, http.StatusNotModified, header(
				"Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(now), "X-Version", strconv.Itoa(round+1)), "")
		})
		if resp.StatusCode != 200 || !bytes.Equal([]byte(got), content) {
			t.Fatalf("round %d: the client got %d and %d bytes", round, resp.StatusCode, len(got))
		}
		if !strings.Contains(status, "fwd=stale") || !strings.Contains(status, "fwd-status=304") {
			t.Fatalf("round %d: Cache-Status %q", round, status)
		}
		e, _, ok := env.stored(t, "/big")
		if !ok || e.stream != stream {
			t.Fatalf("round %d: entry stored %v, stream %q; want the stream %q kept", round, ok, e.stream, stream)
		}
		l, served := serveStreamed(t, env.c, req())
		var version string
		l.Fields(200, func(name, value string) bool {
			if name == "X-Version" {
				version = value
			}
			return true
		})
		l.Release()
		if version != strconv.Itoa(round+1) || !bytes.Equal(served, content) {
			t.Fatalf("round %d: served X-Version %q and %d bytes", round, version, len(served))
		}
	}
	if s := env.streams(t); len(s) != 1 {
		t.Errorf("streams %q, want the one", s)
	}
	if n := env.lost(); n != 0 {
		t.Errorf("%d contents reported lost", n)
	}
}

// TestStreamLost checks that a response whose content stream is missing
// or not of its recorded length is never served: it is a miss, and is
// dropped and reported.
func TestStreamLost(t *testing.T) {
	cases := map[string]func(t *testing.T, env *streamEnv, stream string){
		"missing": func(t *testing.T, env *streamEnv, stream string) {
			if err := env.d.Delete(t.Context(), stream); err != nil {
				t.Fatal(err)
			}
		},
		"another length": func(t *testing.T, env *streamEnv, stream string) {
			if err := env.d.Set(t.Context(), stream, []byte("short"), 0); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			env := newStreamEnv(t, Options{})
			content := bigContent(200<<10, 5)
			exchange(t, env.c, newRequest(http.MethodGet, "/big"), origin200(content, int64(len(content)),
				"Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(t0)))
			e, _, _ := env.stored(t, "/big")
			damage(t, env, e.stream)
			l := env.c.Lookup(newRequest(http.MethodGet, "/big"))
			if l.Decision != Forward || l.Status.Fwd != FwdMiss || l.HadStored() {
				t.Fatalf("Lookup = %v, fwd %v, had stored %v; want a forwarded miss", l.Decision, l.Status.Fwd, l.HadStored())
			}
			out := l.Request().Clone(context.Background())
			l.Outbound(out.Header)
			if out.Header.Get("If-None-Match") != "" {
				t.Errorf("a response without content was validated: If-None-Match %q", out.Header.Get("If-None-Match"))
			}
			l.Release()
			if _, _, ok := env.stored(t, "/big"); ok {
				t.Error("the entry of lost content was kept")
			}
			if s := env.streams(t); len(s) != 0 {
				t.Errorf("streams left: %q", s)
			}
			if n := env.lost(); n != 1 {
				t.Errorf("%d contents reported lost, want 1", n)
			}
		})
	}
}

// TestStreamRemoved checks that every way a stored response goes takes
// its content stream with it: invalidation by an unsafe method (RFC 9111
// §4.4), purges, replacement by a new response; and that a soft purge
// keeps it.
func TestStreamRemoved(t *testing.T) {
	content := bigContent(150<<10, 6)
	cases := map[string]struct {
		remove func(t *testing.T, c *Cache)
		kept   bool
	}{
		"unsafe method": {remove: func(t *testing.T, c *Cache) {
			exchange(t, c, newRequest(http.MethodPost, "/big"), func(out *http.Request) *http.Response {
				return newResponse(out, http.StatusNoContent, nil, "")
			})
		}},
		"purge": {remove: func(t *testing.T, c *Cache) {
			if n, err := c.PurgeURL(t.Context(), mustURL("http://example.com/big"), HardPurge); n != 1 || err != nil {
				t.Fatalf("PurgeURL = %d, %v", n, err)
			}
		}},
		"purge prefix": {remove: func(t *testing.T, c *Cache) {
			if n, err := c.PurgePrefix(t.Context(), mustURL("http://example.com/"), "/b", HardPurge); n != 1 || err != nil {
				t.Fatalf("PurgePrefix = %d, %v", n, err)
			}
		}},
		"purge tag": {remove: func(t *testing.T, c *Cache) {
			if n, err := c.PurgeTag(t.Context(), "big", HardPurge); n != 1 || err != nil {
				t.Fatalf("PurgeTag = %d, %v", n, err)
			}
		}},
		"replaced": {remove: func(t *testing.T, c *Cache) {
			l := c.Lookup(newRequest(http.MethodGet, "/big", "Cache-Control", "no-cache"))
			l.Release()
			exchange(t, c, newRequest(http.MethodGet, "/big", "Cache-Control", "no-cache"),
				origin200(bigContent(150<<10, 7), 150<<10, "Cache-Control", "max-age=60", "Date", httpDate(c.Now())))
		}},
		// §3: a response that may not be stored replaces the stored one.
		"replaced by no-store": {remove: func(t *testing.T, c *Cache) {
			exchange(t, c, newRequest(http.MethodGet, "/big", "Cache-Control", "no-cache"),
				origin200([]byte("new"), 3, "Cache-Control", "no-store"))
		}},
		"soft purge": {kept: true, remove: func(t *testing.T, c *Cache) {
			if n, err := c.PurgeURL(t.Context(), mustURL("http://example.com/big"), SoftPurge); n != 1 || err != nil {
				t.Fatalf("PurgeURL soft = %d, %v", n, err)
			}
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := newStreamEnv(t, Options{})
			exchange(t, env.c, newRequest(http.MethodGet, "/big"), origin200(content, int64(len(content)),
				"Cache-Control", "max-age=60", "Etag", `"v1"`, "Surrogate-Key", "big", "Date", httpDate(t0)))
			before, _, _ := env.stored(t, "/big")
			tc.remove(t, env.c)
			streams := env.streams(t)
			after, _, ok := env.stored(t, "/big")
			switch {
			case tc.kept:
				if !ok || len(streams) != 1 || streams[0] != before.stream || after.lifetime != 0 {
					t.Fatalf("after a soft purge: stored %v, streams %q", ok, streams)
				}
			case name == "replaced":
				if !ok || len(streams) != 1 || streams[0] == before.stream || after.stream != streams[0] {
					t.Fatalf("after a replacement: streams %q, old %q, new entry names %q", streams, before.stream, after.stream)
				}
			default:
				if ok || len(streams) != 0 {
					t.Fatalf("after %s: entry stored %v, streams %q", name, ok, streams)
				}
			}
			if n := env.lost(); n != 0 {
				t.Errorf("%d contents reported lost", n)
			}
		})
	}
}

// TestStreamVariantsRemoved checks that purging a URL removes the
// streamed content of each of its variants (RFC 9111 §4.1).
func TestStreamVariantsRemoved(t *testing.T) {
	env := newStreamEnv(t, Options{})
	for i, lang := range []string{"en", "fr"} {
		content := bigContent(100<<10, uint64(10+i))
		exchange(t, env.c, newRequest(http.MethodGet, "/v", "Accept-Language", lang), origin200(content, int64(len(content)),
			"Cache-Control", "max-age=60", "Vary", "Accept-Language", "Date", httpDate(t0)))
		l, got := serveStreamed(t, env.c, newRequest(http.MethodGet, "/v", "Accept-Language", lang))
		l.Release()
		if !bytes.Equal(got, content) {
			t.Fatalf("variant %s: served other content", lang)
		}
	}
	if s := env.streams(t); len(s) != 2 {
		t.Fatalf("streams %q, want one per variant", s)
	}
	if n, err := env.c.PurgeURL(t.Context(), mustURL("http://example.com/v"), HardPurge); n != 2 || err != nil {
		t.Fatalf("PurgeURL = %d, %v", n, err)
	}
	if s := env.streams(t); len(s) != 0 {
		t.Fatalf("streams left after the purge: %q", s)
	}
	if n := env.d.Len(); n != 0 {
		t.Errorf("%d entries left", n)
	}
}

// TestStreamStale checks that a response with streamed content is served
// stale from its stream when the origin fails (RFC 9111 §4.2.4, RFC 5861
// §4), and that Response, as the private cache uses it, reads it too.
func TestStreamStale(t *testing.T) {
	env := newStreamEnv(t, Options{})
	content := bigContent(200<<10, 8)
	exchange(t, env.c, newRequest(http.MethodGet, "/big"), origin200(content, int64(len(content)),
		"Cache-Control", "max-age=60, stale-if-error=600", "Etag", `"v1"`, "Date", httpDate(t0)))

	l := env.c.Lookup(newRequest(http.MethodGet, "/big"))
	resp := l.Response()
	l.Release() // the response's body outlives the Lookup
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(got, content) || resp.ContentLength != int64(len(content)) {
		t.Fatalf("Response: %d bytes (Content-Length %d), %v", len(got), resp.ContentLength, err)
	}

	env.clock.Advance(2 * time.Minute)
	for name, fail := range map[string]func(l *Lookup) (*http.Response, bool){
		"unreachable": func(l *Lookup) (*http.Response, bool) { return l.Fail(errors.New("connection refused")) },
		"5xx": func(l *Lookup) (*http.Response, bool) {
			r, err := l.Receive(newResponse(l.Request(), http.StatusBadGateway, nil, "bad"))
			return r, err == nil && r.StatusCode == 200
		},
	} {
		t.Run(name, func(t *testing.T) {
			l := env.c.Lookup(newRequest(http.MethodGet, "/big"))
			defer l.Release()
			if l.Decision != Forward {
				t.Fatalf("Lookup = %v", l.Decision)
			}
			resp, ok := fail(l)
			if !ok {
				t.Fatal("not served stale")
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("stale response: %d bytes, %v", len(got), err)
			}
		})
	}
}

// TestStreamWriteFails checks that a stream the store refuses midway (a
// disk store too small for it) is not stored, while the client still gets
// the whole response.
func TestStreamWriteFails(t *testing.T) {
	clock := newTestClock()
	d, err := disk.New(disk.Options{Path: filepath.Join(t.TempDir(), "small.db"), MaxBytes: 256 << 10, Clock: clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var errs []error
	c := Must(Options{Store: d, Now: clock.Now, StreamThreshold: 64 << 10, Observe: func(e Event) {
		if e.StoreError != nil {
			errs = append(errs, e.StoreError)
		}
	}})
	content := bigContent(600<<10, 9)
	_, got, status := exchange(t, c, newRequest(http.MethodGet, "/big"), origin200(content, int64(len(content)), "Cache-Control", "max-age=60"))
	if !bytes.Equal([]byte(got), content) {
		t.Fatalf("the client got %d bytes of %d", len(got), len(content))
	}
	if l := c.Lookup(newRequest(http.MethodGet, "/big")); l.Decision != Forward {
		t.Fatalf("after a refused stream (%s): %v, want forward", status, l.Decision)
	}
	if len(errs) == 0 || !errors.Is(errs[0], store.ErrTooLarge) {
		t.Errorf("store errors reported: %v, want one wrapping store.ErrTooLarge", errs)
	}
	if d.Len() != 0 {
		t.Errorf("%d entries left in the store", d.Len())
	}
}

// TestStreamStoreReads counts the values the cache reads from a store that
// streams while it stores and removes responses. Storing over an entry,
// or removing one, removes the content stream it names; the cache finds
// that stream in what its lookup read, and reads the value under a key
// only when no lookup did (a variant the URL's record does not list).
func TestStreamStoreReads(t *testing.T) {
	fields := []string{"Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(t0)}
	storeBig := func(t *testing.T, env *streamEnv) {
		content := bigContent(200<<10, 20)
		exchange(t, env.c, newRequest(http.MethodGet, "/big"), origin200(content, int64(len(content)), fields...))
	}
	storeVariant := func(lang string) func(t *testing.T, env *streamEnv) {
		return func(t *testing.T, env *streamEnv) {
			content := bigContent(100<<10, 21)
			exchange(t, env.c, newRequest(http.MethodGet, "/big", "Accept-Language", lang), origin200(content, int64(len(content)),
				"Cache-Control", "max-age=60", "Vary", "Accept-Language", "Date", httpDate(t0)))
		}
	}
	cases := map[string]struct {
		setup func(t *testing.T, env *streamEnv)
		op    func(t *testing.T, env *streamEnv)
		gets  int64 // the lookup's included
	}{
		// RFC 9111 §3: the lookup found nothing under the key.
		"a miss stored as a stream": {op: storeBig, gets: 1},
		"a miss stored whole": {gets: 1, op: func(t *testing.T, env *streamEnv) {
			storeResponse(t, env.c, newRequest(http.MethodGet, "/small"), header(fields...), "small")
		}},
		// §4.3.4: the lookup read the entry the 304 updates.
		"a 304 that keeps the stream": {setup: storeBig, gets: 1, op: func(t *testing.T, env *streamEnv) {
			env.clock.Advance(2 * time.Minute)
			now := env.c.Now()
			exchange(t, env.c, newRequest(http.MethodGet, "/big"), func(out *http.Request) *http.Response {
				return newResponse(out, http.StatusNotModified, header("Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(now)), "")
			})
		}},
		// §4.3.5: the lookup read the entry a HEAD freshens.
		"a HEAD that freshens": {setup: storeBig, gets: 1, op: func(t *testing.T, env *streamEnv) {
			env.clock.Advance(2 * time.Minute)
			now := env.c.Now()
			exchange(t, env.c, newRequest(http.MethodHead, "/big"), func(out *http.Request) *http.Response {
				return newResponse(out, http.StatusOK, header("Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(now)), "")
			})
		}},
		// §5.2.1.4: a new response replaces the one the lookup read, and
		// its content.
		"replaced by a new stream": {setup: storeBig, gets: 1, op: func(t *testing.T, env *streamEnv) {
			content := bigContent(200<<10, 22)
			exchange(t, env.c, newRequest(http.MethodGet, "/big", "Cache-Control", "no-cache"), origin200(content, int64(len(content)), fields...))
		}},
		"replaced by no-store": {setup: storeBig, gets: 1, op: func(t *testing.T, env *streamEnv) {
			exchange(t, env.c, newRequest(http.MethodGet, "/big", "Cache-Control", "no-cache"), origin200([]byte("new"), 3, "Cache-Control", "no-store"))
		}},
		// A purge reads the URL's key once.
		"soft purge": {setup: storeBig, gets: 1, op: func(t *testing.T, env *streamEnv) {
			if n, err := env.c.PurgeURL(t.Context(), mustURL("http://example.com/big"), SoftPurge); n != 1 || err != nil {
				t.Fatalf("PurgeURL = %d, %v", n, err)
			}
		}},
		"hard purge": {setup: storeBig, gets: 1, op: func(t *testing.T, env *streamEnv) {
			if n, err := env.c.PurgeURL(t.Context(), mustURL("http://example.com/big"), HardPurge); n != 1 || err != nil {
				t.Fatalf("PurgeURL = %d, %v", n, err)
			}
		}},
		// §4.1: the lookup read the URL's record, which does not list the
		// new variant: the variant's key is read for content an entry
		// left there may name, and the record again to add the variant.
		"a new variant": {setup: storeVariant("en"), op: storeVariant("fr"), gets: 3},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := newStreamEnv(t, Options{})
			if tc.setup != nil {
				tc.setup(t, env)
			}
			before := env.count.gets.Load()
			tc.op(t, env)
			if got := env.count.gets.Load() - before; got != tc.gets {
				t.Errorf("%d values read from the store, want %d", got, tc.gets)
			}
			if n := env.lost(); n != 0 {
				t.Errorf("%d contents reported lost", n)
			}
		})
	}
}

// TestStreamExpiry checks that streamed content expires with its entry:
// new content is committed with the entry's expiry hint, which is not
// written again, and a 304 that keeps the content (RFC 9111 §4.3.4)
// moves the content's expiry with the entry's.
func TestStreamExpiry(t *testing.T) {
	content := bigContent(200<<10, 30)
	fields := func(date time.Time) []string {
		return []string{"Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(date)}
	}
	cases := map[string]struct {
		revalidateAt time.Duration // 0: never
		expires      int64         // expiry moves, from storing the content on
		gone         time.Duration // when the entry and its content expire
	}{
		// 60 s fresh, then kept a minute for revalidation.
		"new content": {expires: 0, gone: 120 * time.Second},
		// The 304 makes it fresh for 60 s more, then kept a minute.
		"revalidated": {revalidateAt: 100 * time.Second, expires: 1, gone: 220 * time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := newStreamEnv(t, Options{KeepStale: time.Minute})
			exchange(t, env.c, newRequest(http.MethodGet, "/big"), origin200(content, int64(len(content)), fields(t0)...))
			stored, _, _ := env.stored(t, "/big")
			if tc.revalidateAt > 0 {
				env.clock.Advance(tc.revalidateAt)
				now := env.c.Now()
				exchange(t, env.c, newRequest(http.MethodGet, "/big"), func(out *http.Request) *http.Response {
					return newResponse(out, http.StatusNotModified, header(fields(now)...), "")
				})
			}
			if n := env.count.expires.Load(); n != tc.expires {
				t.Errorf("the content's expiry was moved %d times, want %d", n, tc.expires)
			}
			present := func(want bool) {
				t.Helper()
				_, _, entry := env.stored(t, "/big")
				r, err := env.d.Open(t.Context(), stored.stream)
				if err == nil {
					r.Close()
				}
				if at := env.c.Now().Sub(t0); entry != want || (err == nil) != want {
					t.Fatalf("at %v: entry stored %v, content: %v; want both stored %v", at, entry, err, want)
				}
			}
			env.clock.Advance(tc.gone - time.Second - env.c.Now().Sub(t0))
			present(true)
			env.clock.Advance(time.Second)
			present(false)
			if n := env.lost(); n != 0 {
				t.Errorf("%d contents reported lost", n)
			}
		})
	}
}

// TestStreamSoftPurgeLost checks that a soft purge of a URL one of whose
// variants (RFC 9111 §4.1) has lost its content stream drops that
// variant and reports it, as a lookup would, rather than storing again
// an entry that names nothing; and goes on to mark the others stale.
func TestStreamSoftPurgeLost(t *testing.T) {
	env := newStreamEnv(t, Options{})
	for i, lang := range []string{"en", "fr"} {
		content := bigContent(100<<10, uint64(40+i))
		exchange(t, env.c, newRequest(http.MethodGet, "/v", "Accept-Language", lang), origin200(content, int64(len(content)),
			"Cache-Control", "max-age=60", "Vary", "Accept-Language", "Etag", `"`+lang+`"`, "Date", httpDate(t0)))
	}
	lookup := func(lang string) *Lookup {
		return env.c.Lookup(newRequest(http.MethodGet, "/v", "Accept-Language", lang))
	}
	// The content of the first variant the URL's record lists goes.
	l := lookup("en")
	lostKey, lostStream := l.storeKey(), l.e.stream
	l.Release()
	if err := env.d.Delete(t.Context(), lostStream); err != nil {
		t.Fatal(err)
	}

	n, err := env.c.PurgeURL(t.Context(), mustURL("http://example.com/v"), SoftPurge)
	if n != 1 || err != nil {
		t.Fatalf("PurgeURL soft = %d, %v; want the one variant with its content staled", n, err)
	}
	if _, err := env.d.Get(t.Context(), lostKey); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the entry of the lost content: %v, want it removed", err)
	}
	l = lookup("fr")
	defer l.Release()
	if l.Decision != Forward || l.Status.Fwd != FwdStale || !l.HadStored() {
		t.Errorf("the other variant after the purge: %v, fwd %v; want it stored and stale", l.Decision, l.Status.Fwd)
	}
	if s := env.streams(t); len(s) != 1 || s[0] != l.e.stream {
		t.Errorf("streams %q, want the other variant's %q", s, l.e.stream)
	}
	if n := env.lost(); n != 1 {
		t.Errorf("%d contents reported lost, want 1", n)
	}
}

// TestStreamHead checks that a response built for a HEAD from a stored
// response whose content is a stream carries the content's length but
// reads none of it (RFC 9110 §9.3.2).
func TestStreamHead(t *testing.T) {
	env := newStreamEnv(t, Options{})
	content := bigContent(300<<10, 50)
	exchange(t, env.c, newRequest(http.MethodGet, "/big"), origin200(content, int64(len(content)),
		"Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(t0)))

	l := env.c.Lookup(newRequest(http.MethodHead, "/big"))
	if l.Decision != Serve || !l.Streamed() {
		t.Fatalf("HEAD: %v, streamed %v; want a hit on streamed content", l.Decision, l.Streamed())
	}
	resp := l.Response()
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	l.Release()
	if err != nil || len(got) != 0 || resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(content)) {
		t.Fatalf("HEAD: %d with %d bytes of content (Content-Length %d), %v; want 200, none, %d",
			resp.StatusCode, len(got), resp.ContentLength, err, len(content))
	}
	if n := env.count.read.Load(); n != 0 {
		t.Errorf("%d bytes of the content read from the store for a HEAD", n)
	}
	if o, c := env.count.opens.Load(), env.count.closes.Load(); o != c {
		t.Errorf("%d content streams opened, %d closed", o, c)
	}
}

// TestStreamOpenFails checks that a stored response whose content the
// store fails to open (the store failed; the content is not known to be
// lost) is a miss but is not dropped, and that the response stored in its
// place removes the content it named.
func TestStreamOpenFails(t *testing.T) {
	env := newStreamEnv(t, Options{})
	fields := []string{"Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(t0)}
	content := bigContent(200<<10, 60)
	exchange(t, env.c, newRequest(http.MethodGet, "/big"), origin200(content, int64(len(content)), fields...))
	old, _, _ := env.stored(t, "/big")

	env.count.failOpen.Store(true)
	req := newRequest(http.MethodGet, "/big")
	l := env.c.Lookup(req)
	env.count.failOpen.Store(false)
	if l.Decision != Forward || l.Status.Fwd != FwdMiss {
		t.Fatalf("Lookup = %v, fwd %v; want a forwarded miss", l.Decision, l.Status.Fwd)
	}
	if e, _, ok := env.stored(t, "/big"); !ok || e.stream != old.stream {
		t.Fatalf("after the store failed: entry stored %v, naming %q; want it kept, naming %q", ok, e.stream, old.stream)
	}
	if n := env.lost(); n != 0 {
		t.Errorf("%d contents reported lost", n)
	}

	// The origin's response replaces it, and its content.
	out := req.Clone(req.Context())
	l.Outbound(out.Header)
	content = bigContent(200<<10, 61)
	resp, err := l.Receive(origin200(content, int64(len(content)), fields...)(out))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	l.Release()
	e, _, ok := env.stored(t, "/big")
	if streams := env.streams(t); !ok || e.stream == old.stream || len(streams) != 1 || streams[0] != e.stream {
		t.Fatalf("after the new response: entry stored %v, naming %q; streams %q; want only the new one", ok, e.stream, streams)
	}
}

// unreachableDisk is a disk store that can be made to fail every call, as
// a shared store does while its server cannot be reached, and to answer
// again.
type unreachableDisk struct {
	*disk.Store
	down atomic.Bool
}

func (u *unreachableDisk) Get(ctx context.Context, key string) ([]byte, error) {
	if u.down.Load() {
		return nil, errUnreachable
	}
	return u.Store.Get(ctx, key)
}

func (u *unreachableDisk) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if u.down.Load() {
		return errUnreachable
	}
	return u.Store.Set(ctx, key, v, ttl)
}

func (u *unreachableDisk) Delete(ctx context.Context, key string) error {
	if u.down.Load() {
		return errUnreachable
	}
	return u.Store.Delete(ctx, key)
}

func (u *unreachableDisk) CreateStream(ctx context.Context, key string, ttl time.Duration) (store.StreamWriter, error) {
	if u.down.Load() {
		return nil, errUnreachable
	}
	return u.Store.CreateStream(ctx, key, ttl)
}

func (u *unreachableDisk) OpenStream(ctx context.Context, key string) (store.StreamReader, error) {
	if u.down.Load() {
		return nil, errUnreachable
	}
	return u.Store.OpenStream(ctx, key)
}

func (u *unreachableDisk) Expire(ctx context.Context, key string, ttl time.Duration) error {
	if u.down.Load() {
		return errUnreachable
	}
	return u.Store.Expire(ctx, key, ttl)
}

// TestStreamStoreDown checks that a response whose streamed content
// cannot be read for a while, because the store behind a memory tier is
// unreachable or the tier leaves it alone after a failure, is a miss
// reported as a store error: the client gets the origin's content, and
// the stored response and its content are kept, and served again once
// the store answers (RFC 9111 §4: the cache forwards when it cannot use
// what it stored; nothing says to forget it).
func TestStreamStoreDown(t *testing.T) {
	cases := map[string]struct {
		// outage makes the content unreadable, through back, for the
		// next lookup.
		outage func(t *testing.T, c *Cache, back *unreachableDisk)
		// recover makes the store reachable again.
		recover func(back *unreachableDisk)
	}{
		"store unreachable": {
			outage:  func(t *testing.T, c *Cache, back *unreachableDisk) { back.down.Store(true) },
			recover: func(back *unreachableDisk) { back.down.Store(false) },
		},
		// The store answers again, but the tier still leaves it alone
		// after the failure a lookup of another URL met.
		"tier cooling down": {
			outage: func(t *testing.T, c *Cache, back *unreachableDisk) {
				back.down.Store(true)
				l := c.Lookup(newRequest(http.MethodGet, "/other"))
				if l.Decision != Forward {
					t.Fatalf("Lookup(/other) = %v", l.Decision)
				}
				l.Release()
				back.down.Store(false)
			},
			recover: func(*unreachableDisk) {},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var back *unreachableDisk
			env := newStreamEnvOn(t, Options{}, func(d *disk.Store, now func() time.Time) store.Store {
				back = &unreachableDisk{Store: d}
				s, err := tier.New(tier.Options{Front: memory.Must(memory.Options{Clock: now}), Back: back,
					FrontTTL: time.Hour, Cooldown: time.Second, Now: now})
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
			content := bigContent(200<<10, 12)
			fields := []string{"Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(t0)}
			exchange(t, env.c, newRequest(http.MethodGet, "/big"), origin200(content, int64(len(content)), fields...))
			before, _, ok := env.stored(t, "/big")
			if !ok || before.flags&flagStream == 0 {
				t.Fatal("not stored as a stream")
			}

			tc.outage(t, env.c, back)
			l := env.c.Lookup(newRequest(http.MethodGet, "/big"))
			if l.Decision != Forward || l.Status.Fwd != FwdMiss || l.HadStored() {
				t.Fatalf("Lookup = %v, fwd %v, had stored %v; want a forwarded miss", l.Decision, l.Status.Fwd, l.HadStored())
			}
			// The origin's content reaches the client whole; it is not
			// stored while the store is out of reach.
			out := l.Request().Clone(context.Background())
			l.Outbound(out.Header)
			fresh := bigContent(200<<10, 13)
			resp, err := l.Receive(origin200(fresh, int64(len(fresh)), fields...)(out))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			l.Release()
			if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, fresh) {
				t.Fatalf("during the outage: %d, %d bytes, %v", resp.StatusCode, len(got), err)
			}
			// "stored" is said before the content is (RFC 9211 §2.4);
			// the store fails afterwards.
			if status := resp.Header.Get("Cache-Status"); !strings.HasPrefix(status, "notmod; fwd=miss; fwd-status=200") {
				t.Errorf("during the outage: Cache-Status %q", status)
			}

			// Nothing was removed from the store.
			after, _, ok := env.stored(t, "/big")
			if !ok || after.stream != before.stream {
				t.Fatalf("after the outage: entry stored %v, naming %q; want the one naming %q", ok, after.stream, before.stream)
			}
			if s := env.streams(t); len(s) != 1 || s[0] != before.stream {
				t.Fatalf("streams after the outage: %q, want %q", s, before.stream)
			}
			env.mu.Lock()
			var storeErrors, notStored int
			for _, e := range env.events {
				if e.StoreError != nil {
					storeErrors++
				}
				if e.NotStored == ReasonStoreError {
					notStored++
				}
			}
			env.mu.Unlock()
			if n := env.lost(); n != 0 || storeErrors == 0 || notStored == 0 {
				t.Errorf("%d contents reported lost, %d store errors, %d responses not stored for one; want 0, some, some", n, storeErrors, notStored)
			}

			// Once the store answers and the tier tries it again, the
			// stored content is served.
			tc.recover(back)
			env.clock.Advance(2 * time.Second)
			l, served := serveStreamed(t, env.c, newRequest(http.MethodGet, "/big"))
			l.Release()
			if !bytes.Equal(served, content) {
				t.Fatalf("served %d bytes that differ from the %d stored", len(served), len(content))
			}
		})
	}
}

// TestStreamStoreDownRevalidated checks that a 304 for a response with
// streamed content, received while the store behind a memory tier cannot
// be reached, still gets the client the stored content (RFC 9111
// §4.3.4), and that failing to move the content's expiry (Expire) is a
// store error that keeps the stored response, not a loss of its content.
func TestStreamStoreDownRevalidated(t *testing.T) {
	var back *unreachableDisk
	env := newStreamEnvOn(t, Options{KeepStale: time.Hour}, func(d *disk.Store, now func() time.Time) store.Store {
		back = &unreachableDisk{Store: d}
		s, err := tier.New(tier.Options{Front: memory.Must(memory.Options{Clock: now}), Back: back,
			FrontTTL: time.Hour, Cooldown: time.Second, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
	content := bigContent(200<<10, 14)
	exchange(t, env.c, newRequest(http.MethodGet, "/big"), origin200(content, int64(len(content)),
		"Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(t0)))
	before, _, _ := env.stored(t, "/big")

	env.clock.Advance(2 * time.Minute)
	l := env.c.Lookup(newRequest(http.MethodGet, "/big"))
	if l.Decision != Forward || l.Status.Fwd != FwdStale {
		t.Fatalf("Lookup = %v, fwd %v; want a validation", l.Decision, l.Status.Fwd)
	}
	out := l.Request().Clone(context.Background())
	l.Outbound(out.Header)
	back.down.Store(true) // between the lookup and the origin's answer
	resp, err := l.Receive(newResponse(out, http.StatusNotModified, header(
		"Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(env.c.Now())), ""))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	l.Release()
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, content) {
		t.Fatalf("the client got %d and %d bytes, %v; want the stored content", resp.StatusCode, len(got), err)
	}
	back.down.Store(false)
	after, _, ok := env.stored(t, "/big")
	if !ok || after.stream != before.stream {
		t.Fatalf("after the 304: entry stored %v, naming %q; want %q", ok, after.stream, before.stream)
	}
	if s := env.streams(t); len(s) != 1 || s[0] != before.stream {
		t.Fatalf("streams after the 304: %q", s)
	}
	env.mu.Lock()
	unreachable := 0
	for _, e := range env.events {
		if errors.Is(e.StoreError, errUnreachable) {
			unreachable++
		}
	}
	env.mu.Unlock()
	if n := env.lost(); n != 0 || unreachable == 0 {
		t.Errorf("%d contents reported lost, %d store errors of the unreachable store; want 0 and some", n, unreachable)
	}
}

// TestPeekStreamed checks that Peek leaves streamed content alone: it
// opens nothing, so content that is gone is found, and its entry
// dropped, by the Lookup made after it, which reports the miss as such
// (RFC 9211 §2.2: fwd=miss, not uri-miss).
func TestPeekStreamed(t *testing.T) {
	env := newStreamEnv(t, Options{})
	content := bigContent(300<<10, 51)
	exchange(t, env.c, newRequest(http.MethodGet, "/big"), origin200(content, int64(len(content)),
		"Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(t0)))
	e, _, ok := env.stored(t, "/big")
	if !ok || e.stream == "" {
		t.Fatal("not stored as a stream")
	}
	opens := env.count.opens.Load()
	p := env.c.Peek(newRequest(http.MethodGet, "/big"))
	if p.Decision == Serve || !p.Streamed() {
		t.Errorf("Peek: %v, streamed %v; want no Serve, streamed", p.Decision, p.Streamed())
	}
	p.Release()
	if n := env.count.opens.Load() - opens; n != 0 {
		t.Errorf("Peek opened %d streams", n)
	}
	// The content goes; Peek does not notice, Lookup does.
	if err := env.d.Delete(t.Context(), e.stream); err != nil {
		t.Fatal(err)
	}
	p = env.c.Peek(newRequest(http.MethodGet, "/big"))
	p.Release()
	if n := env.lost(); n != 0 {
		t.Errorf("Peek reported %d contents lost", n)
	}
	l := env.c.Lookup(newRequest(http.MethodGet, "/big"))
	defer l.Release()
	if l.Decision != Forward || l.Status.Fwd != FwdMiss || env.lost() != 1 {
		t.Errorf("Lookup after Peek: %v, fwd %v, %d lost; want Forward, miss, 1 lost", l.Decision, l.Status.Fwd, env.lost())
	}
}

// TestPeekDoesNotCollapse checks that a Peek that misses joins no
// collapsed request: the Lookup made after it leads one (it is told to
// forward, not to wait).
func TestPeekDoesNotCollapse(t *testing.T) {
	env := newStreamEnv(t, Options{})
	p := env.c.Peek(newRequest(http.MethodGet, "/new"))
	if p.Decision != Forward {
		t.Fatalf("Peek of nothing stored: %v, want Forward", p.Decision)
	}
	l := env.c.Lookup(newRequest(http.MethodGet, "/new"))
	if l.Decision != Forward {
		t.Errorf("Lookup while a Peek is held: %v, want Forward (the Peek leads no flight)", l.Decision)
	}
	l.Release()
	p.Release()
}
