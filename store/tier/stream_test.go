package tier

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/disk"
	"github.com/notmod/notmod/store/memory"
	"github.com/notmod/notmod/store/storetest"
)

// openDisk opens a disk store in the test's directory.
func openDisk(t *testing.T, now func() time.Time) *disk.Store {
	t.Helper()
	d, err := disk.New(disk.Options{Path: filepath.Join(t.TempDir(), "back.db"), Clock: now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// TestConformanceDiskBack runs the suite, streaming cases included, on a
// memory tier in front of a disk store, as notmod serve -store disk runs.
func TestConformanceDiskBack(t *testing.T) {
	c := &clock{}
	c.nanos.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := New(Options{
			Front:    memory.Must(memory.Options{Clock: c.Now}),
			Back:     openDisk(t, c.Now),
			FrontTTL: time.Hour,
			Now:      c.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		if !s.CanStream() {
			t.Fatal("a tier in front of a disk store cannot stream")
		}
		return s
	}, storetest.Options{Advance: c.Advance})
}

// TestStreamFleet checks that a streamed value goes to the back store
// only, and that its commit is announced like a Set: the other node's
// copy of the key is dropped.
func TestStreamFleet(t *testing.T) {
	ctx := context.Background()
	back := openDisk(t, nil)
	bus := &LocalBus{}
	a, frontA := node(t, back, bus, "a")
	b, frontB := node(t, back, bus, "b")
	waitSubscribers(t, bus, 2)

	if err := a.Set(ctx, "k", []byte("v1"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Get(ctx, "k"); err != nil || string(v) != "v1" {
		t.Fatalf("b.Get = %q, %v", v, err)
	}
	value := bytes.Repeat([]byte("streamed "), 300_000)
	w, err := a.CreateStream(ctx, "k", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := io.Copy(w, bytes.NewReader(value)); err != nil {
		t.Fatal(err)
	}
	// Until the commit, both nodes still see the old value.
	if v, _ := b.Get(ctx, "k"); string(v) != "v1" {
		t.Fatalf("b.Get before the commit = %q", v)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]store.Store{"front a": frontA, "front b": frontB} {
		if _, err := f.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s holds k after the stream's commit: %v", name, err)
		}
	}
	r, err := b.OpenStream(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	r.Close()
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("b reads %d bytes, %v; want the %d streamed", len(got), err, len(value))
	}
	if _, err := frontB.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reading the stream copied it into b's front: %v", err)
	}
	if err := b.Expire(ctx, "k", time.Minute); err != nil {
		t.Fatalf("Expire: %v", err)
	}
	// A delete through b removes the streamed value from the back.
	if err := b.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.OpenStream(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a.OpenStream after b.Delete: %v", err)
	}
}

// TestStreamUnsupported checks that a tier whose back store cannot
// stream says so, and that the cache can tell.
func TestStreamUnsupported(t *testing.T) {
	s, err := New(Options{Front: memory.Must(memory.Options{}), Back: memory.Must(memory.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	if s.CanStream() {
		t.Error("CanStream with a memory back store")
	}
	if _, ok := store.StreamerOf(s); ok {
		t.Error("store.StreamerOf reports a tier over memory as a Streamer")
	}
	if _, err := s.CreateStream(t.Context(), "k", 0); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("CreateStream = %v, want errors.ErrUnsupported", err)
	}
	// Reading a Set value as a stream still works.
	if err := s.Set(t.Context(), "k", []byte("whole"), 0); err != nil {
		t.Fatal(err)
	}
	r, err := s.OpenStream(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(r); string(got) != "whole" {
		t.Errorf("OpenStream read %q", got)
	}
}

// TestStreamBackFails checks that the streaming methods never report a
// back store that fails (here a disk store that was closed), or that is
// left alone after a failure, as holding no value: a cache takes
// store.ErrNotFound for content that is gone, and drops the entry that
// names it, when the content may only be out of reach for a moment.
func TestStreamBackFails(t *testing.T) {
	ctx := t.Context()
	c := &clock{}
	c.nanos.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	value := bytes.Repeat([]byte("streamed "), 100_000)
	cases := map[string]struct {
		back func(d *disk.Store) store.Store
		// calls are made in turn, each first while Back fails, then
		// while it is left alone.
		calls map[string]func(s *Store) error
	}{
		"back streams": {
			back: func(d *disk.Store) store.Store { return d },
			calls: map[string]func(s *Store) error{
				"OpenStream": func(s *Store) error {
					r, err := s.OpenStream(ctx, "k")
					if err == nil {
						r.Close()
					}
					return err
				},
				"Expire": func(s *Store) error { return s.Expire(ctx, "k", time.Hour) },
				"CreateStream": func(s *Store) error {
					w, err := s.CreateStream(ctx, "k", time.Hour)
					if err == nil {
						w.Close()
					}
					return err
				},
			},
		},
		// A back store seen only as a store.Store: OpenStream reads the
		// value whole.
		"back does not stream": {
			back: func(d *disk.Store) store.Store { return struct{ store.Store }{d} },
			calls: map[string]func(s *Store) error{
				"OpenStream": func(s *Store) error {
					r, err := s.OpenStream(ctx, "k")
					if err == nil {
						r.Close()
					}
					return err
				},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			d := openDisk(t, c.Now)
			var states []error
			s, err := New(Options{
				Front: memory.Must(memory.Options{Clock: c.Now}), Back: tc.back(d),
				Now: c.Now, Cooldown: time.Minute,
				OnBackState: func(err error) { states = append(states, err) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Set(ctx, "k", value, time.Hour); err != nil {
				t.Fatal(err)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			for call, f := range tc.calls {
				c.Advance(2 * time.Minute) // past the cooldown: Back is tried
				if err := f(s); !errors.Is(err, disk.ErrClosed) || errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s while Back fails = %v, want its error", call, err)
				}
				if err := f(s); !errors.Is(err, errBackDown) || errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s while Back is left alone = %v, want errBackDown", call, err)
				}
			}
			if len(states) == 0 || states[0] == nil {
				t.Errorf("state changes %v, want Back reported down", states)
			}
			// Get degrades to a miss, as documented.
			if _, err := s.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get while Back is down = %v, want store.ErrNotFound", err)
			}
		})
	}
}

// stallingDisk is a disk store whose streams cannot be opened while down
// is set, as when the disk stalls past the tier's BackTimeout.
type stallingDisk struct {
	*disk.Store
	down atomic.Bool
}

func (d *stallingDisk) OpenStream(ctx context.Context, key string) (store.StreamReader, error) {
	if d.down.Load() {
		return nil, errDown
	}
	return d.Store.OpenStream(ctx, key)
}

// TestStreamBackDown checks that OpenStream, when Back fails and while it
// is left alone afterwards, fails with an error other than
// store.ErrNotFound: the value may well be in Back, and a cache takes
// ErrNotFound for content lost and drops the response that names it.
func TestStreamBackDown(t *testing.T) {
	ctx := t.Context()
	c := &clock{}
	back := &stallingDisk{Store: openDisk(t, c.Now)}
	s, err := New(Options{Front: memory.Must(memory.Options{}), Back: back, Now: c.Now, Cooldown: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.CreateStream(ctx, "k", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("content")); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Close()

	back.down.Store(true)
	for _, when := range []string{"Back fails", "cooling down"} {
		if _, err := s.OpenStream(ctx, "k"); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: OpenStream = %v, want an error other than store.ErrNotFound", when, err)
		}
		back.down.Store(false) // still left alone until the cooldown ends
	}
	c.Advance(2 * time.Second)
	r, err := s.OpenStream(ctx, "k")
	if err != nil {
		t.Fatalf("after the cooldown: %v", err)
	}
	if got, _ := io.ReadAll(r); string(got) != "content" {
		t.Errorf("after the cooldown: read %q", got)
	}
	r.Close()
	if _, err := s.OpenStream(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("OpenStream of a missing key = %v, want store.ErrNotFound", err)
	}
}
