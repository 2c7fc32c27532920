package tier

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/memory"
	"github.com/notmod/notmod/store/storetest"
)

type clock struct{ nanos atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.nanos.Load()) }
func (c *clock) Advance(d time.Duration) { c.nanos.Add(int64(d)) }

func TestConformance(t *testing.T) {
	c := &clock{}
	c.nanos.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := New(Options{
			Front:    memory.Must(memory.Options{Clock: c.Now}),
			Back:     memory.Must(memory.Options{Clock: c.Now}),
			FrontTTL: time.Hour,
			Now:      c.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, storetest.Options{Advance: c.Advance})
}

// node is one member of a fleet in one process: its own front, the shared
// back, the shared bus.
func node(t *testing.T, back store.Store, bus Bus, id string) (*Store, store.Store) {
	t.Helper()
	front := memory.Must(memory.Options{})
	s, err := New(Options{Front: front, Back: back, Bus: bus, NodeID: id, FrontTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, front
}

// waitSubscribers waits until n subscriptions were made on the bus.
func waitSubscribers(t *testing.T, bus *LocalBus, n int) {
	t.Helper()
	joined := bus.joinedChan()
	for i := 0; i < n; i++ {
		select {
		case <-joined:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d subscribers", i)
		}
	}
}

func TestFleet(t *testing.T) {
	ctx := context.Background()
	back := memory.Must(memory.Options{})
	bus := &LocalBus{}
	a, frontA := node(t, back, bus, "a")
	b, frontB := node(t, back, bus, "b")
	waitSubscribers(t, bus, 2)

	// A value stored through one node is found through the other.
	if err := a.Set(ctx, "k", []byte("v1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Get(ctx, "k"); err != nil || string(v) != "v1" {
		t.Fatalf("b.Get = %q, %v", v, err)
	}
	if v, err := frontB.Get(ctx, "k"); err != nil || string(v) != "v1" {
		t.Fatalf("b did not keep a copy: %q, %v", v, err)
	}
	// A replacement through A drops B's copy, so B reads the new value.
	if err := a.Set(ctx, "k", []byte("v2"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := frontB.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("b's copy survived a change on a: %v", err)
	}
	if v, _ := b.Get(ctx, "k"); string(v) != "v2" {
		t.Fatalf("b.Get after change = %q", v)
	}
	// A delete through B reaches A's front and the back.
	if err := b.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]store.Store{"front a": frontA, "front b": frontB, "back": back} {
		if _, err := s.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s still holds k: %v", name, err)
		}
	}
}

// downStore is a store/memory whose answers can be turned into errors, as
// a shared store does when its server stops.
type downStore struct {
	store.Store
	down atomic.Bool
}

var errDown = errors.New("connection refused")

func (d *downStore) Get(ctx context.Context, k string) ([]byte, error) {
	if d.down.Load() {
		return nil, errDown
	}
	return d.Store.Get(ctx, k)
}

func (d *downStore) Set(ctx context.Context, k string, v []byte, ttl time.Duration) error {
	if d.down.Load() {
		return errDown
	}
	return d.Store.Set(ctx, k, v, ttl)
}

func TestBackDown(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	back := &downStore{Store: memory.Must(memory.Options{})}
	var mu sync.Mutex
	var states []error
	s, err := New(Options{Front: memory.Must(memory.Options{}), Back: back, Now: c.Now, Cooldown: time.Second,
		OnBackState: func(err error) { mu.Lock(); states = append(states, err); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	back.down.Store(true)
	// No error reaches the caller; the value is kept in front.
	if err := s.Set(ctx, "k", []byte("v"), time.Hour); err != nil {
		t.Fatalf("Set with back down: %v", err)
	}
	if v, err := s.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("Get with back down = %q, %v", v, err)
	}
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("miss with back down: %v", err)
	}
	back.down.Store(false)
	// Still cooling down: back is not asked yet.
	back.Store.Set(ctx, "only-back", []byte("b"), time.Hour)
	if _, err := s.Get(ctx, "only-back"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("back asked during cooldown: %v", err)
	}
	c.Advance(2 * time.Second)
	if v, err := s.Get(ctx, "only-back"); err != nil || string(v) != "b" {
		t.Fatalf("back not asked after cooldown: %q, %v", v, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(states) != 2 || states[0] == nil || states[1] != nil {
		t.Fatalf("state changes = %v, want [down, up]", states)
	}
}

// A value too large for the front tier still reaches the back, and is
// read from there.
func TestFrontTooSmall(t *testing.T) {
	ctx := context.Background()
	back := memory.Must(memory.Options{})
	s, err := New(Options{Front: memory.Must(memory.Options{MaxBytes: 1024}), Back: back})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 4096)
	if err := s.Set(ctx, "big", big, time.Hour); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if v, err := back.Get(ctx, "big"); err != nil || len(v) != len(big) {
		t.Fatalf("back holds %d bytes, %v", len(v), err)
	}
	if v, err := s.Get(ctx, "big"); err != nil || len(v) != len(big) {
		t.Fatalf("Get = %d bytes, %v", len(v), err)
	}
}

// downRanger is a downStore over a memory store that lists its keys.
type downRanger struct {
	downStore
	m *memory.Store
}

func newDownRanger() *downRanger {
	m := memory.Must(memory.Options{})
	return &downRanger{downStore: downStore{Store: m}, m: m}
}

func (d *downRanger) Keys(ctx context.Context, prefix string, fn func(string) bool) error {
	return d.m.Keys(ctx, prefix, fn)
}

// TestKeysFrontOnly checks that Keys lists a value set while Back was
// down, which Front alone holds, once, beside Back's: a purge by prefix
// walks Keys, and must not leave such a copy to be served.
func TestKeysFrontOnly(t *testing.T) {
	ctx := context.Background()
	c := &clock{}
	back := newDownRanger()
	s, err := New(Options{Front: memory.Must(memory.Options{}), Back: back, Now: c.Now, Cooldown: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "p/both", []byte("1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	back.down.Store(true)
	_ = s.Set(ctx, "p/front", []byte("2"), time.Hour) // Back fails: Front holds it
	back.down.Store(false)
	c.Advance(2 * time.Second) // past the cooldown
	if err := s.Set(ctx, "q/other", []byte("3"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := back.m.Get(ctx, "p/front"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Back holds p/front (%v): the test needs it in Front alone", err)
	}
	var keys []string
	if err := s.Keys(ctx, "p/", func(k string) bool { keys = append(keys, k); return true }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"p/both", "p/front"}) {
		t.Errorf("Keys(p/) = %q, want p/both and p/front, once each", keys)
	}
	// fn returning false stops the walk.
	n := 0
	_ = s.Keys(ctx, "p/", func(string) bool { n++; return false })
	if n != 1 {
		t.Errorf("fn called %d times after it returned false", n)
	}
}
