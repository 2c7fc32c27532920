//go:build unix

package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/notmod/notmod/store/disk"
)

// siteHost is the Host the disk tests send: the cache keys responses by
// Host and path, and each process listens on a new port, so the clients of
// both processes must name the site the same way, as they do in front of a
// real deployment.
const siteHost = "site.test"

// countingOrigin is an origin that counts the requests for each path.
type countingOrigin struct {
	mu    sync.Mutex
	count map[string]int
	body  func(path string) []byte
}

func (o *countingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.count[r.URL.Path]++
	o.mu.Unlock()
	body := o.body(r.URL.Path)
	sum := sha256.Sum256(body)
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	h.Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(body)
}

// requests returns how many requests for path the origin has had.
func (o *countingOrigin) requests(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.count[path]
}

// newCountingOrigin starts an origin on a loopback port serving body(path)
// for every path, fresh for an hour.
func newCountingOrigin(t *testing.T, body func(path string) []byte) (*countingOrigin, string) {
	t.Helper()
	o := &countingOrigin{count: map[string]int{}, body: body}
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	return o, srv.URL
}

// TestServeDiskRestart shows that responses stored by one "notmod serve
// -store disk:PATH" process are hits (RFC 9211 §2.1) for the next process
// on the same file, without a request to the origin; and that an entry
// whose stored body was damaged in the file is not served: the next process
// fetches it from the origin again, while the other entries stay hits.
func TestServeDiskRestart(t *testing.T) {
	// Each body carries a marker that appears nowhere else, so the test
	// can find the body's bytes in the database file.
	markers := map[string]string{}
	for _, p := range []string{"/a", "/b", "/c"} {
		markers[p] = "marker-" + rand.Text()
	}
	body := func(path string) []byte {
		m, ok := markers[path]
		if !ok {
			return []byte("unknown\n")
		}
		// 2 KiB: larger than a page's share, smaller than a chunk.
		return []byte(strings.Repeat(path+" ", 256) + m + strings.Repeat(" end", 128) + "\n")
	}
	origin, originURL := newCountingOrigin(t, body)
	file := filepath.Join(t.TempDir(), "cache", "notmod.db")
	args := []string{"-origin", originURL, "-store", "disk:" + file}

	first := startNode(t, "first", args...)
	for p := range markers {
		r := mustFetch(t, first.base+p, siteHost)
		if r.status != 200 || !bytes.Equal(r.body, body(p)) || !strings.Contains(r.cacheStatus(), "stored") {
			t.Fatalf("first process, GET %s: %d %q, Cache-Status %q", p, r.status, r.body, r.cacheStatus())
		}
		if r := mustFetch(t, first.base+p, siteHost); !r.hit() {
			t.Fatalf("first process, second GET %s not a hit: %q", p, r.cacheStatus())
		}
	}
	first.stop()

	// A new process on the same file: every entry is a hit, and the origin
	// sees no request.
	second := startNode(t, "second", args...)
	for p := range markers {
		r := mustFetch(t, second.base+p, siteHost)
		if r.status != 200 || !r.hit() || !bytes.Equal(r.body, body(p)) {
			t.Errorf("after restart, GET %s: %d, Cache-Status %q, body intact %v", p, r.status, r.cacheStatus(), bytes.Equal(r.body, body(p)))
		}
		if n := origin.requests(p); n != 1 {
			t.Errorf("after restart, the origin had %d requests for %s, want 1", n, p)
		}
	}
	second.stop()
	if t.Failed() {
		t.FailNow()
	}

	// Damage /b's stored body: flip one byte of its marker wherever it is
	// in the file (a B+tree with copy-on-write pages may keep old copies
	// of a page in free pages; those are flipped too, harmlessly).
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	mark := []byte(markers["/b"])
	flipped := 0
	for i := 0; ; {
		j := bytes.Index(data[i:], mark)
		if j < 0 {
			break
		}
		data[i+j+len(mark)/2] ^= 0x20
		flipped++
		i += j + len(mark)
	}
	if flipped == 0 {
		t.Fatalf("the body of /b is not in %s as stored bytes", file)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Logf("flipped a byte of /b's body in %d place(s) of the file", flipped)

	third := startNode(t, "third", args...)
	r := mustFetch(t, third.base+"/b", siteHost)
	if r.hit() || r.status != 200 || !bytes.Equal(r.body, body("/b")) {
		t.Errorf("damaged /b: %d, Cache-Status %q, body intact %v; want a correct body from the origin", r.status, r.cacheStatus(), bytes.Equal(r.body, body("/b")))
	}
	if n := origin.requests("/b"); n != 2 {
		t.Errorf("the origin had %d requests for /b, want 2 (the damaged entry is fetched again)", n)
	}
	if doc := third.statusDoc(); doc["disk_corrupt_dropped"] != float64(1) {
		t.Errorf("status disk_corrupt_dropped = %v, want 1", doc["disk_corrupt_dropped"])
	}
	for _, p := range []string{"/a", "/c"} {
		r := mustFetch(t, third.base+p, siteHost)
		if !r.hit() || !bytes.Equal(r.body, body(p)) {
			t.Errorf("undamaged %s after the damage: Cache-Status %q, body intact %v", p, r.cacheStatus(), bytes.Equal(r.body, body(p)))
		}
		if n := origin.requests(p); n != 1 {
			t.Errorf("the origin had %d requests for %s, want 1", n, p)
		}
	}
	if r := mustFetch(t, third.base+"/b", siteHost); !r.hit() || !bytes.Equal(r.body, body("/b")) {
		t.Errorf("/b fetched again is not stored anew: %q", r.cacheStatus())
	}
	third.stop()
}

// crashBody is the origin's body for path in the crash test: a header line
// naming the path, the payload's length and its SHA-256, then the payload,
// of 16 bytes to 200 KiB (so one to four chunks of the disk store)
// generated from the path. Any byte out of place shows.
func crashBody(path string) []byte {
	seed := sha256.Sum256([]byte(path))
	rng := mrand.NewChaCha8(seed)
	size := 16 + int(binary.BigEndian.Uint32(seed[:4])%(200<<10))
	if seed[4]%2 == 0 {
		size %= 4 << 10 // half of them small
	}
	payload := make([]byte, size)
	_, _ = rng.Read(payload)
	sum := sha256.Sum256(payload)
	return append(fmt.Appendf(nil, "path=%s size=%d sha256=%x\n", path, size, sum), payload...)
}

// TestServeDiskCrash kills "notmod serve -store disk:PATH" with SIGKILL
// while a stream of responses is being stored, at a random moment, several
// times over, and checks after each restart that every URL served has
// exactly the origin's body, the hits from the disk store included.
func TestServeDiskCrash(t *testing.T) {
	testServeDiskCrash(t)
}

// TestServeDiskCrashStreamed is TestServeDiskCrash with most bodies past
// -stream-threshold, so stored as a content stream and an entry naming it:
// a crash between the two, or while the content streams in, must leave
// neither a truncated body nor an entry without its content.
func TestServeDiskCrashStreamed(t *testing.T) {
	testServeDiskCrash(t, "-stream-threshold", "16KiB")
}

func testServeDiskCrash(t *testing.T, extra ...string) {
	const rounds, writers = 3, 4
	_, originURL := newCountingOrigin(t, crashBody)
	file := filepath.Join(t.TempDir(), "notmod.db")
	args := append([]string{"-origin", originURL, "-store", "disk:" + file}, extra...)

	var requested []string // every URL asked for before a crash
	// check fetches every URL requested so far through n and compares
	// each body with the origin's, byte for byte.
	check := func(n *node, round int) (hits, bad int) {
		t.Helper()
		for _, p := range requested {
			r, err := fetch(n.base+p, siteHost)
			if err != nil {
				t.Fatalf("round %d, GET %s: %v", round, p, err)
			}
			if r.status != 200 || !bytes.Equal(r.body, crashBody(p)) {
				if bad++; bad > 5 {
					continue // the count is reported below
				}
				t.Errorf("round %d, GET %s: status %d, Cache-Status %q, %d bytes; not the origin's body of %d bytes: it starts %q", round, p, r.status, r.cacheStatus(), len(r.body), len(crashBody(p)), firstLine(r.body))
			}
			if r.hit() {
				hits++
			}
		}
		return hits, bad
	}
	totalHits := 0
	for round := range rounds {
		n := startNode(t, fmt.Sprintf("round %d", round), args...)
		if round > 0 {
			hits, bad := check(n, round)
			totalHits += hits
			t.Logf("round %d: after the crash, %d of %d URLs were hits, %d fetched again; %d bodies wrong", round, hits, len(requested), len(requested)-hits, bad)
			if bad > 0 {
				t.Errorf("round %d: %d of %d bodies were not the origin's", round, bad, len(requested))
			}
		}
		// The stream: writers fetch distinct URLs, each a miss that is
		// stored, until the process dies. It is killed once a random
		// number of responses have arrived, with the others in flight.
		killAt := int64(20 + mrand.IntN(60))
		var completed atomic.Int64
		reached := make(chan struct{})
		var once sync.Once
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := 0; ; i++ {
					p := fmt.Sprintf("/r%d/w%d/%d", round, w, i)
					mu.Lock()
					requested = append(requested, p)
					mu.Unlock()
					r, err := fetch(n.base+p, siteHost)
					if err != nil {
						return // the process is gone
					}
					if r.status != 200 || !bytes.Equal(r.body, crashBody(p)) {
						t.Errorf("round %d, before the crash, GET %s: %d, %d bytes", round, p, r.status, len(r.body))
						return
					}
					if completed.Add(1) >= killAt {
						once.Do(func() { close(reached) })
					}
				}
			})
		}
		<-reached
		n.kill()
		wg.Wait()
		t.Logf("round %d: killed after %d responses", round, completed.Load())
	}
	last := startNode(t, "after the last crash", args...)
	hits, bad := check(last, rounds)
	totalHits += hits
	t.Logf("after the last crash: %d of %d URLs were hits; %d bodies wrong", hits, len(requested), bad)
	if bad > 0 {
		t.Errorf("after the last crash: %d of %d bodies were not the origin's", bad, len(requested))
	}
	if doc := last.statusDoc(); doc["disk_corrupt_dropped"] != float64(0) {
		t.Errorf("status disk_corrupt_dropped = %v after crashes, want 0 (a crash must not leave a damaged entry)", doc["disk_corrupt_dropped"])
	}
	if totalHits == 0 {
		t.Error("no entry written before a crash was a hit afterwards: nothing stored reached the disk")
	}
	// Served a second time, every URL is now a hit, still intact.
	hits, bad = check(last, rounds+1)
	t.Logf("second pass: %d of %d URLs were hits; %d bodies wrong", hits, len(requested), bad)
	if bad > 0 {
		t.Errorf("second pass: %d of %d bodies were not the origin's", bad, len(requested))
	}
	if hits != len(requested) {
		t.Errorf("second pass: %d of %d URLs were hits", hits, len(requested))
	}
	last.stop()
	if len(extra) > 0 {
		sizes := streamSizes(t, file)
		t.Logf("%d bodies stored as streams", len(sizes))
		if len(sizes) == 0 {
			t.Error("no body was stored as a stream")
		}
	}
}

// streamSizes opens the disk store file of a stopped process and returns
// the sizes of the content streams in it, by key.
func streamSizes(t *testing.T, file string) map[string]int64 {
	t.Helper()
	d, err := disk.New(disk.Options{Path: file, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	sizes := map[string]int64{}
	err = d.Keys(t.Context(), "", func(k string) bool {
		if !strings.Contains(k, "\x00s") {
			return true
		}
		r, err := d.Open(t.Context(), k)
		if err != nil {
			t.Errorf("stream %q: %v", k, err)
			return true
		}
		sizes[k] = r.Size()
		r.Close()
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return sizes
}

// TestServeDiskStream shows -stream-threshold end to end: a body past it
// is stored on disk as a stream of its own and served from there as a
// hit, by this process and the next; one under it is stored whole; and a
// process with streaming turned off (-stream-threshold 0) still serves
// the streams stored before.
func TestServeDiskStream(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<20/16)
	small := []byte("small body\n")
	origin, originURL := newCountingOrigin(t, func(path string) []byte {
		if path == "/big" {
			return big
		}
		return small
	})
	file := filepath.Join(t.TempDir(), "notmod.db")
	args := []string{"-origin", originURL, "-store", "disk:" + file}

	n := startNode(t, "streaming", append(args, "-stream-threshold", "256KiB")...)
	for _, p := range []string{"/big", "/small"} {
		want := small
		if p == "/big" {
			want = big
		}
		// The origin sends /big chunked, without Content-Length: stored
		// once it has grown past the threshold and arrived whole.
		if r := mustFetch(t, n.base+p, siteHost); !bytes.Equal(r.body, want) || !strings.Contains(r.cacheStatus(), "fwd=uri-miss") {
			t.Fatalf("GET %s: %d bytes, Cache-Status %q", p, len(r.body), r.cacheStatus())
		}
		if r := mustFetch(t, n.base+p, siteHost); !r.hit() || !bytes.Equal(r.body, want) {
			t.Fatalf("second GET %s: %d bytes, Cache-Status %q", p, len(r.body), r.cacheStatus())
		}
	}
	n.stop()
	sizes := streamSizes(t, file)
	if len(sizes) != 1 {
		t.Fatalf("streams on disk: %v, want one, of /big", sizes)
	}
	for k, size := range sizes {
		if !strings.Contains(k, "/big\x00s") || size != int64(len(big)) {
			t.Fatalf("stream %q of %d bytes, want /big's %d", k, size, len(big))
		}
	}

	n = startNode(t, "not streaming", append(args, "-stream-threshold", "0")...)
	if r := mustFetch(t, n.base+"/big", siteHost); !r.hit() || !bytes.Equal(r.body, big) {
		t.Fatalf("GET /big after a restart: %d bytes, Cache-Status %q", len(r.body), r.cacheStatus())
	}
	if c := origin.requests("/big"); c != 1 {
		t.Errorf("the origin had %d requests for /big, want 1", c)
	}
	n.stop()
}

// firstLine returns b's first line, or its first 80 bytes: for a body of
// crashBody, the line that names the URL it belongs to.
func firstLine(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return string(b[:i])
	}
	if len(b) > 80 {
		b = b[:80]
	}
	return string(b)
}
