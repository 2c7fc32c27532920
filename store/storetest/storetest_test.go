package storetest_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/storetest"
)

// mapStore is the plainest store that keeps every promise: a mutex around
// a map, expiry read from an injected clock. It exists so that the suite
// itself is shown to pass on a correct store.
type mapStore struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]mapEntry
}

type mapEntry struct {
	value   []byte
	expires time.Time // zero: never
}

func (m *mapStore) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || (!e.expires.IsZero() && !m.now().Before(e.expires)) {
		return nil, store.ErrNotFound
	}
	return e.value, nil
}

func (m *mapStore) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	e := mapEntry{value: value}
	if ttl > 0 {
		e.expires = m.now().Add(ttl)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries[key] = e
	return nil
}

func (m *mapStore) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, key)
	return nil
}

func (m *mapStore) Keys(ctx context.Context, prefix string, fn func(string) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	var keys []string
	now := m.now()
	for k, e := range m.entries {
		if strings.HasPrefix(k, prefix) && (e.expires.IsZero() || now.Before(e.expires)) {
			keys = append(keys, k)
		}
	}
	m.mu.Unlock()
	for _, k := range keys {
		if !fn(k) {
			return nil
		}
	}
	return nil
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestRunOnMapStore(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	storetest.Run(t, func(t *testing.T) store.Store {
		return &mapStore{now: clock.Now, entries: map[string]mapEntry{}}
	}, storetest.Options{Advance: clock.Advance})
}

// plainStore hides the Keys method, to run the suite on a store that is not
// a store.Ranger and without a clock to move.
type plainStore struct{ s *mapStore }

func (p plainStore) Get(ctx context.Context, key string) ([]byte, error) { return p.s.Get(ctx, key) }
func (p plainStore) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	return p.s.Set(ctx, key, v, ttl)
}
func (p plainStore) Delete(ctx context.Context, key string) error { return p.s.Delete(ctx, key) }

func TestRunWithoutRangerOrClock(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return plainStore{&mapStore{now: time.Now, entries: map[string]mapEntry{}}}
	}, storetest.Options{})
}

// streamMapStore adds store.Streamer to mapStore the plainest way: a
// writer collects the value and commits it with Set; a reader reads the
// slice the key held when it was opened.
type streamMapStore struct{ *mapStore }

type mapWriter struct {
	s    *mapStore
	key  string
	ttl  time.Duration
	buf  []byte
	done bool
}

func (w *mapWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("mapWriter: done")
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *mapWriter) Commit() error {
	if w.done {
		return errors.New("mapWriter: done")
	}
	w.done = true
	return w.s.Set(context.Background(), w.key, w.buf, w.ttl)
}

func (w *mapWriter) Close() error { w.done = true; return nil }

type mapReader struct{ *bytes.Reader }

func (mapReader) Close() error { return nil }

func (m streamMapStore) CreateStream(_ context.Context, key string, ttl time.Duration) (store.StreamWriter, error) {
	return &mapWriter{s: m.mapStore, key: key, ttl: ttl}, nil
}

func (m streamMapStore) OpenStream(ctx context.Context, key string) (store.StreamReader, error) {
	v, err := m.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return mapReader{bytes.NewReader(v)}, nil
}

func (m streamMapStore) Expire(ctx context.Context, key string, ttl time.Duration) error {
	v, err := m.Get(ctx, key)
	if err != nil {
		return err
	}
	return m.Set(ctx, key, v, ttl)
}

func TestRunOnStreamMapStore(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	storetest.Run(t, func(t *testing.T) store.Store {
		return streamMapStore{&mapStore{now: clock.Now, entries: map[string]mapEntry{}}}
	}, storetest.Options{Advance: clock.Advance})
}
