package disk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/storetest"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	nanos atomic.Int64
}

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.nanos.Store(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.nanos.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.nanos.Add(int64(d)) }

// quiet is a logger that drops everything, for tests that log on purpose.
var quiet = slog.New(slog.DiscardHandler)

// open opens a store on path with o's other options and closes it when
// the test ends.
func open(t testing.TB, path string, o Options) *Store {
	t.Helper()
	o.Path = path
	if o.Logger == nil {
		o.Logger = quiet
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func tempPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "cache.db")
}

func TestConformance(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, tempPath(t), Options{Clock: clock.Now})
	}, storetest.Options{Advance: clock.Advance})
}

// TestConformanceSmallBound runs the suite on a store just large enough for
// what the suite promises to keep at once.
func TestConformanceSmallBound(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, tempPath(t), Options{
			// Weight counts a value's bytes at most twice.
			MaxBytes: 2*storetest.LiveBytes + storetest.LiveEntries*EntryOverhead,
			Clock:    clock.Now,
		})
	}, storetest.Options{Advance: clock.Advance})
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "not-a-db")
	if err := os.WriteFile(notDB, bytes.Repeat([]byte("not a database "), 1024), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		o       Options
		wantMax int64 // 0: New fails
	}{
		"zero MaxBytes means the default": {Options{Path: filepath.Join(dir, "a.db")}, DefaultMaxBytes},
		"missing directories are made":    {Options{Path: filepath.Join(dir, "x", "y", "b.db")}, DefaultMaxBytes},
		"room for one empty entry":        {Options{Path: filepath.Join(dir, "c.db"), MaxBytes: EntryOverhead + 1}, EntryOverhead + 1},
		"no path":                         {Options{}, 0},
		"negative MaxBytes":               {Options{Path: filepath.Join(dir, "d.db"), MaxBytes: -1}, 0},
		"no room beyond overhead":         {Options{Path: filepath.Join(dir, "e.db"), MaxBytes: EntryOverhead}, 0},
		"not a database file":             {Options{Path: notDB}, 0},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			tt.o.Logger = quiet
			s, err := New(tt.o)
			if tt.wantMax == 0 {
				if err == nil || !strings.HasPrefix(err.Error(), "disk: ") {
					t.Fatalf("New(%+v) error = %v, want a disk: error", tt.o, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer s.Close()
			if got := s.MaxBytes(); got != tt.wantMax {
				t.Errorf("MaxBytes() = %d, want %d", got, tt.wantMax)
			}
		})
	}
	// The file that is not a database is left as it was.
	if b, err := os.ReadFile(notDB); err != nil || !bytes.HasPrefix(b, []byte("not a database")) {
		t.Errorf("New changed a file that is not a database: %v", err)
	}
}

func TestNewWhileHeld(t *testing.T) {
	path := tempPath(t)
	open(t, path, Options{})
	start := time.Now()
	_, err := New(Options{Path: path, Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "held by another store") {
		t.Fatalf("second New on a held file: %v, want a held-by-another-store error", err)
	}
	if d := time.Since(start); d > 10*lockTimeout {
		t.Errorf("second New took %v to fail", d)
	}
}

func TestMustPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Must(Options{}) did not panic")
		}
	}()
	Must(Options{})
}

func TestClosed(t *testing.T) {
	ctx := t.Context()
	s := open(t, tempPath(t), Options{})
	if err := s.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	checks := map[string]error{
		"Get":    func() error { _, err := s.Get(ctx, "k"); return err }(),
		"Set":    s.Set(ctx, "k", []byte("v"), 0),
		"Delete": s.Delete(ctx, "k"),
		"Keys":   s.Keys(ctx, "", func(string) bool { return true }),
		"Open":   func() error { _, err := s.Open(ctx, "k"); return err }(),
		"Create": func() error { _, err := s.Create(ctx, "k", 0); return err }(),
	}
	for name, err := range checks {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

// TestRestart writes entries, closes the store, opens the same file again
// and finds them, with their expiry and the counters.
func TestRestart(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	path := tempPath(t)
	s := open(t, path, Options{Clock: clock.Now})
	want := map[string][]byte{
		"GET https://example.com/":       []byte("<html>home</html>"),
		"GET https://example.com/empty":  {},
		"GET https://example.com/big":    bytes.Repeat([]byte("0123456789abcdef"), 300_000), // 4.6 MiB, 74 chunks
		"GET https://example.com/\x00\n": []byte("binary key"),
	}
	for k, v := range want {
		if err := s.Set(ctx, k, v, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Set(ctx, "short-lived", []byte("gone after restart"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "deleted", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "deleted"); err != nil {
		t.Fatal(err)
	}
	before := s.Stats()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	clock.Advance(2 * time.Minute)
	s = open(t, path, Options{Clock: clock.Now})
	for k, v := range want {
		got, err := s.Get(ctx, k)
		if err != nil || !bytes.Equal(got, v) {
			t.Errorf("after restart, Get(%q) = %d bytes, %v; want %d bytes", k, len(got), err, len(v))
		}
	}
	for _, k := range []string{"short-lived", "deleted"} {
		if _, err := s.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after restart, Get(%q): %v, want ErrNotFound", k, err)
		}
	}
	after := s.Stats()
	if after.Entries != before.Entries || after.Bytes != before.Bytes {
		t.Errorf("after restart, %d entries of %d bytes; before, %d of %d", after.Entries, after.Bytes, before.Entries, before.Bytes)
	}
	// A write after the restart does not reuse an id from before it.
	if err := s.Set(ctx, "new", []byte("new"), 0); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if got, err := s.Get(ctx, k); err != nil || !bytes.Equal(got, v) {
			t.Errorf("after a new write, Get(%q) = %d bytes, %v", k, len(got), err)
		}
	}
}

// TestMaxBytesLowered opens a file with a lower bound than it was
// written with: New evicts down to the new bound.
func TestMaxBytesLowered(t *testing.T) {
	ctx := t.Context()
	path := tempPath(t)
	s := open(t, path, Options{})
	for i := range 100 {
		if err := s.Set(ctx, fmt.Sprintf("k%03d", i), make([]byte, 1000), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	bound := int64(10 * Weight(4, 1000))
	s = open(t, path, Options{MaxBytes: bound})
	st := s.Stats()
	if st.Bytes > bound || st.Entries != 10 || st.Evicted != 90 {
		t.Errorf("after reopening with MaxBytes %d: %+v; want 10 entries and 90 evicted", bound, st)
	}
	// The newest entries are the ones kept.
	if _, err := s.Get(ctx, "k099"); err != nil {
		t.Errorf("Get(k099): %v", err)
	}
	if _, err := s.Get(ctx, "k000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(k000): %v, want ErrNotFound", err)
	}
}

// TestByteBound writes far more than the bound and checks that the total
// weight never exceeds it, that it equals the sum of the weights of the
// entries left, and that the newest entries are kept.
func TestByteBound(t *testing.T) {
	tests := map[string]struct {
		maxBytes int64
		count    int
		size     func(i int) int
	}{
		"1 KiB values":          {64 << 10, 1000, func(int) int { return 1 << 10 }},
		"mixed sizes":           {512 << 10, 500, func(i int) int { return i * 7919 % (100 << 10) }},
		"tiny values":           {32 << 10, 3000, func(i int) int { return i % 16 }},
		"values near the bound": {200 << 10, 30, func(int) int { return 150 << 10 }},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			s := open(t, tempPath(t), Options{MaxBytes: tt.maxBytes})
			for i := range tt.count {
				key := fmt.Sprintf("k%05d", i)
				if err := s.Set(ctx, key, bytes.Repeat([]byte{byte(i)}, tt.size(i)), 0); err != nil {
					t.Fatal(err)
				}
				if b := s.Bytes(); b > tt.maxBytes {
					t.Fatalf("after write %d: %d bytes, bound %d", i, b, tt.maxBytes)
				}
				// The entry just written is always kept.
				if got, err := s.Get(ctx, key); err != nil || len(got) != tt.size(i) {
					t.Fatalf("Get(%q) right after Set: %d bytes, %v", key, len(got), err)
				}
			}
			var sum, n int64
			err := s.Keys(ctx, "", func(k string) bool {
				v, err := s.Get(ctx, k)
				if err != nil {
					t.Errorf("Keys passed %q, Get: %v", k, err)
					return false
				}
				sum += Weight(len(k), int64(len(v)))
				n++
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			st := s.Stats()
			if st.Bytes != sum || st.Entries != n {
				t.Errorf("Stats say %d entries of %d bytes; Keys found %d of %d", st.Entries, st.Bytes, n, sum)
			}
			if st.Evicted != int64(tt.count)-n {
				t.Errorf("Evicted = %d, want %d", st.Evicted, int64(tt.count)-n)
			}
			if sum+Weight(6, int64(tt.size(tt.count-1))) <= tt.maxBytes/2 {
				t.Errorf("only %d bytes kept of a bound of %d: eviction removed too much", sum, tt.maxBytes)
			}
		})
	}
}

// TestFileBound writes four times the bound, in values of mixed sizes, and
// checks that the file stays near the bound: the pages in use follow the
// weight, the high-water mark of the pages stays within 1.4 times the
// bound (1.15 to 1.25 measured: a run of free pages is not always where a
// value's chunks need one), and the file is no larger than that plus two
// growth steps.
func TestFileBound(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 32 MiB")
	}
	ctx := t.Context()
	path := tempPath(t)
	const maxBytes = 8 << 20
	s := open(t, path, Options{MaxBytes: maxBytes})
	rng := rand.New(rand.NewPCG(1, 2))
	for written := 0; written < 4*maxBytes; {
		size := int(rng.ExpFloat64() * 20_000)
		written += size
		if err := s.Set(ctx, fmt.Sprintf("GET https://example.com/%016x", rng.Uint64()), make([]byte, size), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	var highWater int64
	if err := s.db.View(func(tx *bolt.Tx) error { highWater = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	st := s.db.Stats()
	used := highWater - int64(st.FreePageN+st.PendingPageN)*pageSize
	t.Logf("weight %d, pages in use %d, high-water mark %d, bound %d", s.Bytes(), used, highWater, maxBytes)
	if s.Bytes() > maxBytes || float64(used) > 1.05*float64(s.Bytes()) {
		t.Errorf("weight %d, pages in use %d bytes; want both within the bound %d", s.Bytes(), used, maxBytes)
	}
	if highWater > maxBytes*14/10 {
		t.Errorf("high-water mark of the file %d bytes, want at most 1.4 × %d", highWater, maxBytes)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if limit := highWater + 2<<20; fi.Size() > limit {
		t.Errorf("file of %d bytes, want at most %d", fi.Size(), limit)
	}
}

// TestSecondChance checks that an entry read since it was written
// outlives the entries written around it that were not read.
func TestSecondChance(t *testing.T) {
	ctx := t.Context()
	s := open(t, tempPath(t), Options{MaxBytes: 20 * Weight(4, 1000)})
	set := func(key string) {
		t.Helper()
		if err := s.Set(ctx, key, make([]byte, 1000), 0); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		set(fmt.Sprintf("k%03d", i))
	}
	if _, err := s.Get(ctx, "k000"); err != nil {
		t.Fatal(err)
	}
	for i := 20; i < 35; i++ {
		set(fmt.Sprintf("k%03d", i))
	}
	if _, err := s.Get(ctx, "k000"); err != nil {
		t.Errorf("the entry read was evicted: %v", err)
	}
	if _, err := s.Get(ctx, "k001"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an older entry never read is still there: %v", err)
	}
}

// TestExpiredRemoved checks that expired entries leave the file, counted,
// as later writes come, and before any live entry is evicted.
func TestExpiredRemoved(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	s := open(t, tempPath(t), Options{Clock: clock.Now, MaxBytes: 100 * Weight(4, 1000)})
	for i := range 50 {
		if err := s.Set(ctx, fmt.Sprintf("n%03d", i), make([]byte, 1000), 0); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 40 {
		if err := s.Set(ctx, fmt.Sprintf("e%03d", i), make([]byte, 1000), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Hour)
	for i := range 20 {
		if err := s.Set(ctx, fmt.Sprintf("m%03d", i), make([]byte, 1000), 0); err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.Expired != 40 || st.Evicted != 0 || st.Entries != 70 {
		t.Errorf("Stats = %+v, want 40 expired, none evicted, 70 entries", st)
	}
}

func TestTooLarge(t *testing.T) {
	ctx := t.Context()
	s := open(t, tempPath(t), Options{MaxBytes: 64 << 10})
	if err := s.Set(ctx, "k", []byte("old"), 0); err != nil {
		t.Fatal(err)
	}
	err := s.Set(ctx, "k", make([]byte, 64<<10), 0)
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("Set of a value larger than the bound: %v, want ErrTooLarge", err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the old value outlived a refused Set: %v", err)
	}
	if err := s.Set(ctx, strings.Repeat("k", maxKeyLen+1), nil, 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Set of a key longer than %d bytes: %v, want ErrTooLarge", maxKeyLen, err)
	}
	if _, err := s.Get(ctx, strings.Repeat("k", maxKeyLen+1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of a key too long to store: %v, want ErrNotFound", err)
	}
	long := strings.Repeat("k", maxKeyLen)
	if err := s.Set(ctx, long, []byte("v"), 0); err != nil {
		t.Errorf("Set of a %d-byte key: %v", len(long), err)
	}
	if v, err := s.Get(ctx, long); err != nil || string(v) != "v" {
		t.Errorf("Get of a %d-byte key: %q, %v", len(long), v, err)
	}
}

// damage flips bytes of the stored chunk i of key's value, writing the
// file through bbolt, as a disk fault would leave it. The store must be
// closed.
func damage(t *testing.T, path, key string, i int64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		r, err := decodeRecord(key, tx.Bucket(bucketEntries).Get(append([]byte{entryPrefix}, key...)))
		if err != nil {
			return err
		}
		var ck [12]byte
		putChunkKey(ck[:], r.id, i)
		c := bytes.Clone(tx.Bucket(bucketChunks).Get(ck[:]))
		c[len(c)/2] ^= 0x55
		return tx.Bucket(bucketChunks).Put(ck[:], c)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// damageRecord flips a byte of the record of key, through bbolt.
func damageRecord(t *testing.T, path, key string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		ek := append([]byte{entryPrefix}, key...)
		rec := bytes.Clone(tx.Bucket(bucketEntries).Get(ek))
		rec[len(rec)-9] ^= 1
		return tx.Bucket(bucketEntries).Put(ek, rec)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCorruptValue damages stored values and records on disk: a damaged
// entry is never returned, is dropped and counted, and its neighbours are
// untouched.
func TestCorruptValue(t *testing.T) {
	ctx := t.Context()
	path := tempPath(t)
	s := open(t, path, Options{})
	big := bytes.Repeat([]byte("abcdefgh"), 40_000) // 5 chunks
	values := map[string][]byte{
		"small":      []byte("a small value"),
		"big":        big,
		"big-stream": big,
		"record":     []byte("its record will be damaged"),
		"intact":     []byte("never damaged"),
	}
	for k, v := range values {
		if err := s.Set(ctx, k, v, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	damage(t, path, "small", 0)
	damage(t, path, "big", 3)
	damage(t, path, "big-stream", 2)
	damageRecord(t, path, "record")

	s = open(t, path, Options{})
	// New found the damaged record.
	if got := s.Stats().Corrupt; got != 1 {
		t.Errorf("after New, Corrupt = %d, want 1 (the damaged record)", got)
	}
	for _, k := range []string{"small", "big", "record"} {
		if v, err := s.Get(ctx, k); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%q) of a damaged entry = %d bytes, %v; want ErrNotFound", k, len(v), err)
		}
	}
	if got := s.Stats().Corrupt; got != 3 {
		t.Errorf("after the Gets, Corrupt = %d, want 3", got)
	}
	// A Reader returns the chunks before the damaged one, then ErrCorrupt.
	r, err := s.Open(ctx, "big-stream")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if !errors.Is(err, ErrCorrupt) || !bytes.Equal(got, big[:2*chunkSize]) {
		t.Errorf("reading a value whose chunk 2 is damaged: %d bytes, %v; want %d bytes and ErrCorrupt", len(got), err, 2*chunkSize)
	}
	st := s.Stats()
	if st.Corrupt != 4 || st.Entries != 1 {
		t.Errorf("Stats = %+v, want 4 corrupt and 1 entry", st)
	}
	// Dropped entries stay dropped, even after a restart; the intact one
	// is there.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, Options{})
	for k, v := range values {
		got, err := s.Get(ctx, k)
		if k == "intact" {
			if err != nil || !bytes.Equal(got, v) {
				t.Errorf("Get(%q) = %q, %v", k, got, err)
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after restart, Get(%q) = %d bytes, %v; want ErrNotFound", k, len(got), err)
		}
	}
	if st := s.Stats(); st.Corrupt != 0 || st.Entries != 1 {
		t.Errorf("after restart, Stats = %+v, want 1 entry and nothing corrupt", st)
	}
	// The damaged record's chunks were swept: only the intact entry's
	// chunk is left.
	if n := countChunks(t, s); n != 1 {
		t.Errorf("%d chunks in the file, want 1", n)
	}
}

// countChunks returns the number of chunks in the file.
func countChunks(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketChunks).Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStream(t *testing.T) {
	ctx := t.Context()
	clock := newFakeClock()
	path := tempPath(t)
	s := open(t, path, Options{Clock: clock.Now})
	sizes := map[string]int{
		"empty":                0,
		"one byte":             1,
		"one chunk":            chunkSize,
		"one flush":            streamFlush,
		"flush and a bit":      streamFlush + 7,
		"several flushes, odd": 3*streamFlush + chunkSize/3,
	}
	for name, size := range sizes {
		t.Run(name, func(t *testing.T) {
			want := make([]byte, size)
			for i := range want {
				want[i] = byte(i * 31 / 7)
			}
			w, err := s.Create(ctx, name, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			// Odd-sized writes, to cross chunk and flush boundaries.
			for rest := want; len(rest) > 0; {
				n := min(len(rest), 12345)
				if _, err := w.Write(rest[:n]); err != nil {
					t.Fatal(err)
				}
				rest = rest[n:]
			}
			if _, err := s.Get(ctx, name); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get before Commit: %v, want ErrNotFound", err)
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got, err := s.Get(ctx, name); err != nil || !bytes.Equal(got, want) {
				t.Errorf("Get after Commit: %d bytes, %v; want %d bytes", len(got), err, len(want))
			}
			r, err := s.Open(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if r.Size() != int64(size) {
				t.Errorf("Size() = %d, want %d", r.Size(), size)
			}
			var out bytes.Buffer
			if _, err := io.Copy(&out, r); err != nil || !bytes.Equal(out.Bytes(), want) {
				t.Errorf("io.Copy from Open: %d bytes, %v; want %d bytes", out.Len(), err, len(want))
			}
			r.Close()
			// io.Copy into a Writer goes through ReadFrom.
			w, err = s.Create(ctx, name+"/copy", 0)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := io.Copy(w, bytes.NewReader(want)); err != nil || n != int64(size) {
				t.Fatalf("io.Copy into a Writer: %d, %v", n, err)
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			if got, err := s.Get(ctx, name+"/copy"); err != nil || !bytes.Equal(got, want) {
				t.Errorf("Get after io.Copy: %d bytes, %v", len(got), err)
			}
		})
	}
	clock.Advance(2 * time.Minute)
	if _, err := s.Open(ctx, "one byte"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Open of an expired entry: %v, want ErrNotFound", err)
	}
}

// TestStreamAbort checks that a stream closed without Commit, or cut
// short by a crash, leaves nothing behind, and does not disturb the old
// value of its key.
func TestStreamAbort(t *testing.T) {
	ctx := t.Context()
	path := tempPath(t)
	s := open(t, path, Options{})
	if err := s.Set(ctx, "k", []byte("old"), 0); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 3*streamFlush)
	w, err := s.Create(ctx, "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(big); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "k"); err != nil || string(got) != "old" {
		t.Errorf("Get during a stream: %q, %v; want the old value", got, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}
	if err := w.Commit(); err == nil {
		t.Error("Commit after Close succeeded")
	}
	if got, err := s.Get(ctx, "k"); err != nil || string(got) != "old" {
		t.Errorf("Get after an aborted stream: %q, %v; want the old value", got, err)
	}
	if n := countChunks(t, s); n != 1 {
		t.Errorf("%d chunks after the abort, want 1", n)
	}

	// A stream never closed, as if the process died: the next New
	// deletes its chunks.
	w, err = s.Create(ctx, "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(big); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, Options{})
	if got, err := s.Get(ctx, "k"); err != nil || string(got) != "old" {
		t.Errorf("Get after a stream cut short: %q, %v; want the old value", got, err)
	}
	if n := countChunks(t, s); n != 1 {
		t.Errorf("%d chunks after reopening, want 1", n)
	}
}

func TestStreamTooLarge(t *testing.T) {
	ctx := t.Context()
	s := open(t, tempPath(t), Options{MaxBytes: 3 * streamFlush})
	w, err := s.Create(ctx, "k", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var werr error
	for range 4 {
		if _, werr = w.Write(make([]byte, streamFlush)); werr != nil {
			break
		}
	}
	if !errors.Is(werr, ErrTooLarge) {
		t.Fatalf("Write past the bound: %v, want ErrTooLarge", werr)
	}
	if err := w.Commit(); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Commit after ErrTooLarge: %v", err)
	}
	w.Close()
	if n := countChunks(t, s); n != 0 {
		t.Errorf("%d chunks left by a stream that was too large", n)
	}
}

// TestReaderChanged checks that a Reader whose entry is overwritten
// midway fails with ErrChanged rather than mixing two values.
func TestReaderChanged(t *testing.T) {
	ctx := t.Context()
	s := open(t, tempPath(t), Options{})
	if err := s.Set(ctx, "k", bytes.Repeat([]byte("a"), 3*chunkSize), 0); err != nil {
		t.Fatal(err)
	}
	r, err := s.Open(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, chunkSize)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "k", bytes.Repeat([]byte("b"), 3*chunkSize), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, buf); !errors.Is(err, ErrChanged) {
		t.Errorf("Read after an overwrite: %v, want ErrChanged", err)
	}
	if s.Stats().Corrupt != 0 {
		t.Errorf("an overwrite was counted as corruption")
	}
}

// TestSetContext checks what a done context does to a write.
func TestSetContext(t *testing.T) {
	s := open(t, tempPath(t), Options{})
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Set(cancelled, "k", []byte("v"), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Set with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := s.Get(t.Context(), "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a Set refused for its context took effect: %v", err)
	}
}

// TestExpireRestart checks that Expire moves an entry's expiry on disk:
// the new expiry holds after a restart, and the entry is removed when it
// passes.
func TestExpireRestart(t *testing.T) {
	clock := newFakeClock()
	path := tempPath(t)
	s := open(t, path, Options{Clock: clock.Now})
	ctx := t.Context()
	if err := s.Set(ctx, "k", []byte("value"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.Expire(ctx, "k", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	s = open(t, path, Options{Clock: clock.Now})
	if v, err := s.Get(ctx, "k"); err != nil || string(v) != "value" {
		t.Fatalf("after Expire and a restart, a minute on: %q, %v", v, err)
	}
	clock.Advance(time.Hour)
	if _, err := s.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("past the new expiry: %v, want store.ErrNotFound", err)
	}
	// The next commit reaps it, through the expiry index Expire moved.
	if err := s.Set(ctx, "other", nil, 0); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Expired != 1 || st.Entries != 1 {
		t.Errorf("after the next commit: %+v, want 1 expired and 1 entry", st)
	}
}
