package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

func TestConformance(t *testing.T) {
	clock := newFakeClock()
	storetest.Run(t, func(t *testing.T) store.Store {
		return Must(Options{Clock: clock.Now})
	}, storetest.Options{Advance: clock.Advance})
}

func TestConformanceZeroOptions(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return Must(Options{})
	}, storetest.Options{})
}

// TestConformanceSmallBound runs the suite on a store just large enough for
// what the suite promises to keep at once.
func TestConformanceSmallBound(t *testing.T) {
	clock := newFakeClock()
	storetest.Run(t, func(t *testing.T) store.Store {
		return Must(Options{
			MaxBytes: storetest.LiveBytes + storetest.LiveEntries*EntryOverhead,
			Clock:    clock.Now,
		})
	}, storetest.Options{Advance: clock.Advance})
}

func TestNew(t *testing.T) {
	tests := map[string]struct {
		maxBytes int64
		wantMax  int64 // 0: New fails
	}{
		"zero means the default":     {0, DefaultMaxBytes},
		"negative":                   {-1, 0},
		"no room beyond overhead":    {EntryOverhead, 0},
		"room for one empty entry":   {EntryOverhead + 1, EntryOverhead + 1},
		"beyond 32-bit entry weight": {5 << 30, 5 << 30},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := New(Options{MaxBytes: tt.maxBytes})
			if tt.wantMax == 0 {
				if err == nil || !strings.HasPrefix(err.Error(), "memory: ") {
					t.Fatalf("New(MaxBytes %d) error = %v, want a memory: error", tt.maxBytes, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(MaxBytes %d): %v", tt.maxBytes, err)
			}
			if got := s.MaxBytes(); got != tt.wantMax {
				t.Errorf("MaxBytes() = %d, want %d", got, tt.wantMax)
			}
			if s.maxEntry > math.MaxUint32 {
				t.Errorf("maxEntry %d does not fit otter's 32-bit weight", s.maxEntry)
			}
		})
	}
}

func TestMustPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Must(MaxBytes -1) did not panic")
		}
	}()
	Must(Options{MaxBytes: -1})
}

// TestByteBound fills stores far past their bound and checks that, once
// the pending evictions are applied, the total weight is within the bound
// and equals the sum of the documented weights of the entries left.
func TestByteBound(t *testing.T) {
	tests := map[string]struct {
		maxBytes int64
		count    int
		size     func(rng *rand.Rand) int
	}{
		"1 KiB values":          {64 << 10, 1000, func(*rand.Rand) int { return 1 << 10 }},
		"mixed sizes":           {256 << 10, 500, func(r *rand.Rand) int { return r.IntN(16 << 10) }},
		"tiny values":           {32 << 10, 5000, func(r *rand.Rand) int { return r.IntN(16) }},
		"values near the bound": {64 << 10, 20, func(*rand.Rand) int { return 40 << 10 }},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var evicted atomic.Int64
			s := Must(Options{
				MaxBytes: tt.maxBytes,
				OnEvict: func(_ string, reason EvictReason) {
					if reason == EvictSize {
						evicted.Add(1)
					}
				},
			})
			rng := rand.New(rand.NewPCG(1, 2))
			ctx := t.Context()
			for i := range tt.count {
				if err := s.Set(ctx, fmt.Sprintf("key/%05d", i), make([]byte, tt.size(rng)), 0); err != nil {
					t.Fatalf("Set %d: %v", i, err)
				}
				if i%100 == 99 {
					s.cache.CleanUp()
					if got := s.Bytes(); got > tt.maxBytes {
						t.Fatalf("after %d writes and a clean-up, Bytes() = %d > MaxBytes %d", i+1, got, tt.maxBytes)
					}
				}
			}
			s.cache.CleanUp()
			total := s.Bytes()
			if total > tt.maxBytes || total <= 0 {
				t.Fatalf("Bytes() = %d, want within (0, %d]", total, tt.maxBytes)
			}
			var sum int64
			var n int
			err := s.Keys(ctx, "", func(k string) bool {
				v, err := s.Get(ctx, k)
				if err != nil {
					t.Errorf("Get(%q) of a listed key: %v", k, err)
					return false
				}
				sum += int64(len(k) + len(v) + EntryOverhead)
				n++
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			if sum != total {
				t.Errorf("sum of entry weights = %d, Bytes() = %d", sum, total)
			}
			if got := s.Len(); got != n {
				t.Errorf("Len() = %d, Keys listed %d", got, n)
			}
			if got, want := evicted.Load(), int64(tt.count-n); got != want {
				t.Errorf("OnEvict(EvictSize) called %d times, want %d (written %d, left %d)", got, want, tt.count, n)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	const maxBytes = 4096
	tests := map[string]struct {
		keyLen, valueLen int
		wantErr          bool
	}{
		"exactly the bound":   {1, maxBytes - 1 - EntryOverhead, false},
		"one byte over":       {1, maxBytes - EntryOverhead, true},
		"the key counts":      {maxBytes - EntryOverhead - len("previous"), len("previous") + 1, true},
		"far over":            {1, 1 << 20, true},
		"empty key and value": {0, 0, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s := Must(Options{MaxBytes: maxBytes})
			ctx := t.Context()
			key := strings.Repeat("k", tt.keyLen)
			if err := s.Set(ctx, key, []byte("previous"), 0); err != nil {
				t.Fatal(err)
			}
			value := bytes.Repeat([]byte{'v'}, tt.valueLen)
			err := s.Set(ctx, key, value, 0)
			got, gerr := s.Get(ctx, key)
			if !tt.wantErr {
				if err != nil || gerr != nil || !bytes.Equal(got, value) {
					t.Fatalf("Set: %v; Get: %d bytes, %v; want the value stored", err, len(got), gerr)
				}
				return
			}
			if !errors.Is(err, ErrTooLarge) || !strings.HasPrefix(err.Error(), "memory: entry too large: ") {
				t.Fatalf("Set error = %v, want one wrapping ErrTooLarge", err)
			}
			// The refused write removed the value it was meant to replace.
			if !errors.Is(gerr, store.ErrNotFound) {
				t.Fatalf("Get after a refused Set = %q, %v; want store.ErrNotFound", got, gerr)
			}
		})
	}
}

func TestEvictExpired(t *testing.T) {
	clock := newFakeClock()
	var mu sync.Mutex
	evictions := map[string]EvictReason{}
	s := Must(Options{Clock: clock.Now, OnEvict: func(key string, reason EvictReason) {
		mu.Lock()
		defer mu.Unlock()
		evictions[key] = reason
	}})
	ctx := t.Context()
	for key, ttl := range map[string]time.Duration{"short": time.Second, "long": time.Hour, "none": 0} {
		if err := s.Set(ctx, key, []byte(key), ttl); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "none"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	if _, err := s.Get(ctx, "short"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get of an expired entry: %v, want store.ErrNotFound", err)
	}
	s.cache.CleanUp()
	mu.Lock()
	defer mu.Unlock()
	want := map[string]EvictReason{"short": EvictExpired}
	if fmt.Sprint(evictions) != fmt.Sprint(want) {
		t.Errorf("OnEvict saw %v, want %v (a Delete is not an eviction)", evictions, want)
	}
	if got, want := s.Bytes(), int64(len("long")*2+EntryOverhead); got != want {
		t.Errorf("Bytes() = %d, want %d", got, want)
	}
	if got := s.Len(); got != 1 {
		t.Errorf("Len() = %d, want 1", got)
	}
}

func TestKeysStopsWhenContextEnds(t *testing.T) {
	s := Must(Options{})
	const n = 5 * keysCheckEvery
	for i := range n {
		if err := s.Set(t.Context(), fmt.Sprint(i), nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	err := s.Keys(ctx, "", func(string) bool {
		calls++
		cancel()
		return true
	})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "memory: keys: ") {
		t.Errorf("Keys error = %v, want memory: keys: wrapping context.Canceled", err)
	}
	if calls > keysCheckEvery {
		t.Errorf("fn called %d times after the context ended, want at most %d", calls, keysCheckEvery)
	}
}

func TestLoggerGetsCallbackPanics(t *testing.T) {
	var buf syncBuffer
	s := Must(Options{
		MaxBytes: 4 << 10,
		OnEvict:  func(string, EvictReason) { panic("boom") },
		Logger:   slog.New(slog.NewTextHandler(&buf, nil)),
	})
	for i := range 100 {
		if err := s.Set(t.Context(), fmt.Sprint(i), make([]byte, 512), 0); err != nil {
			t.Fatal(err)
		}
	}
	s.cache.CleanUp()
	if got := s.Bytes(); got > 4<<10 {
		t.Errorf("Bytes() = %d after panicking evictions, want at most %d", got, 4<<10)
	}
	if out := buf.String(); !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "boom") {
		t.Errorf("log = %q, want an ERROR record naming the panic", out)
	}
}

func TestEvictReasonString(t *testing.T) {
	tests := map[EvictReason]string{EvictSize: "size", EvictExpired: "expired", 0: "EvictReason(0)"}
	for r, want := range tests {
		if got := r.String(); got != want {
			t.Errorf("EvictReason(%d).String() = %q, want %q", int(r), got, want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
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

func BenchmarkGet(b *testing.B) {
	s := Must(Options{})
	ctx := context.Background()
	keys := benchKeys(1024)
	for _, k := range keys {
		if err := s.Set(ctx, k, make([]byte, 4096), time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Get(ctx, keys[i&1023]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkGetParallel(b *testing.B) {
	s := Must(Options{})
	ctx := context.Background()
	keys := benchKeys(1024)
	for _, k := range keys {
		if err := s.Set(ctx, k, make([]byte, 4096), time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := s.Get(ctx, keys[i&1023]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

func BenchmarkGetMiss(b *testing.B) {
	s := Must(Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, "absent"); !errors.Is(err, store.ErrNotFound) {
			b.Fatal(err)
		}
	}
}

func BenchmarkSet(b *testing.B) {
	s := Must(Options{})
	ctx := context.Background()
	keys := benchKeys(1024)
	value := make([]byte, 4096)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := s.Set(ctx, keys[i&1023], value, time.Hour); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("https://example.com/path/%d|accept-encoding=gzip", i)
	}
	return keys
}
