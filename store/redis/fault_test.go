//go:build unix

package redis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/notmod/notmod/store"
)

// failMargin is what a failing call may take beyond the timeouts it is
// bounded by (dial, write and read), for scheduling on a loaded machine.
const failMargin = 750 * time.Millisecond

// recoveryTimeout bounds the wait for a store to see a restarted server:
// about a second in practice (the connection pool retries dialing once a
// second, the store probes twice a second).
const recoveryTimeout = 15 * time.Second

// ops returns one call of each kind the store makes, for the fault tests.
func ops(s *Store) map[string]func(ctx context.Context) error {
	return map[string]func(ctx context.Context) error{
		"Get": func(ctx context.Context) error {
			_, err := s.Get(ctx, "k")
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("Get reported a miss, not a failure: %w", err)
			}
			return err
		},
		"Set":       func(ctx context.Context) error { return s.Set(ctx, "k", []byte("v"), time.Minute) },
		"Set large": func(ctx context.Context) error { return s.Set(ctx, "big", make([]byte, 1<<20), 0) },
		"Delete":    func(ctx context.Context) error { return s.Delete(ctx, "k") },
		"Keys": func(ctx context.Context) error {
			return s.Keys(ctx, "", func(string) bool { return true })
		},
		"Publish": func(ctx context.Context) error { return s.Publish(ctx, []byte("purge")) },
		"TryLease": func(ctx context.Context) error {
			ok, release, err := s.TryLease(ctx, "lease", time.Minute)
			release()
			if ok {
				return errors.New("TryLease granted a lease")
			}
			return err
		},
		"Ping": s.Ping,
	}
}

// wantFailFast runs every op and checks that each returns an error within
// the store's timeouts.
func wantFailFast(t *testing.T, s *Store) {
	t.Helper()
	bound := s.callTimeout + failMargin
	for name, op := range ops(s) {
		start := time.Now()
		err := op(t.Context())
		d := time.Since(start)
		t.Logf("%s failed in %v: %v", name, d.Round(time.Millisecond), err)
		if err == nil {
			t.Errorf("%s succeeded with the server unavailable", name)
		}
		if d > bound {
			t.Errorf("%s took %v to fail, more than %v", name, d, bound)
		}
	}
}

// stateRecorder returns an OnStateChange that sends each change on the
// returned channel.
func stateRecorder() (func(State, error), chan stateChange) {
	ch := make(chan stateChange, 100)
	return func(st State, err error) { ch <- stateChange{st, err} }, ch
}

// wantState waits for the next reported change and checks it is st.
func wantState(t *testing.T, ch chan stateChange, st State, d time.Duration) {
	t.Helper()
	c := wait(t, ch, d, "state change to "+st.String())
	if c.state != st {
		t.Fatalf("state changed to %v (%v), want %v", c.state, c.err, st)
	}
	if (c.err != nil) != (st == StateDown) {
		t.Errorf("state %v reported with error %v", c.state, c.err)
	}
}

// TestServerDown kills redis-server: every call fails fast, the store
// says it is down, and it comes back by itself when the server returns.
func TestServerDown(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	onChange, changes := stateRecorder()
	s := newStore(t, srv, Options{OnStateChange: onChange})
	if err := s.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if s.State() != StateUp {
		t.Fatalf("state %v, want up", s.State())
	}

	srv.stop()
	wantFailFast(t, s)
	wantState(t, changes, StateDown, recoveryTimeout)
	if s.State() != StateDown {
		t.Errorf("State() = %v, want down", s.State())
	}
	// Still failing fast on the second round, with the pool's dial
	// errors cached.
	wantFailFast(t, s)

	srv.start()
	// Without any call, the store's probe sees the server back.
	wantState(t, changes, StateUp, recoveryTimeout)
	if err := s.Set(ctx, "k", []byte("again"), 0); err != nil {
		t.Fatalf("Set after recovery: %v", err)
	}
	if v, err := s.Get(ctx, "k"); err != nil || string(v) != "again" {
		t.Fatalf("Get after recovery: %q, %v", v, err)
	}
	select {
	case c := <-changes:
		t.Errorf("unexpected state change to %v (%v)", c.state, c.err)
	default:
	}
}

// TestServerHangs stops redis-server with SIGSTOP, so that it accepts
// connections and commands but never answers: every call fails within the
// timeouts. With SIGCONT the store recovers.
func TestServerHangs(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	onChange, changes := stateRecorder()
	s := newStore(t, srv, Options{OnStateChange: onChange})
	// A key that no op touches: the commands sent while the server hangs
	// (a Delete of "k" among them) failed for the store, yet the server
	// may carry them out when it resumes.
	if err := s.Set(ctx, "untouched", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	srv.signal(syscall.SIGSTOP)
	wantFailFast(t, s)
	wantState(t, changes, StateDown, recoveryTimeout)

	srv.signal(syscall.SIGCONT)
	wantState(t, changes, StateUp, recoveryTimeout)
	if v, err := s.Get(ctx, "untouched"); err != nil || string(v) != "v" {
		t.Fatalf("Get after the server resumed: %q, %v", v, err)
	}
}

// TestCallerDeadline checks that a caller's deadline shorter than the
// store's timeouts bounds a call to a hung server, and that a call the
// caller gave up on does not mark the store down.
func TestCallerDeadline(t *testing.T) {
	srv := startServer(t)
	s := newStore(t, srv, Options{ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	if err := s.Set(t.Context(), "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	srv.signal(syscall.SIGSTOP)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Get(ctx, "k")
	if d := time.Since(start); err == nil || d > 100*time.Millisecond+failMargin {
		t.Errorf("Get with a 100ms deadline on a hung server: %v after %v", err, d)
	}
	if s.State() != StateUp {
		t.Errorf("State() = %v after a call the caller gave up on, want up", s.State())
	}
}

// TestRestartUnderLoad restarts redis-server twice while goroutines call
// the store: no call hangs or panics, no call returns a wrong value, and
// calls succeed again after each restart.
func TestRestartUnderLoad(t *testing.T) {
	srv := startServer(t)
	s := newStore(t, srv, Options{})
	ctx := t.Context()
	done := make(chan struct{})
	var successes, failures atomic.Int64
	// progress gets a token after each successful Set and Get.
	progress := make(chan struct{}, 1)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			key := fmt.Sprintf("load/%d", g)
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				val := fmt.Appendf(nil, "%s=%d", key, i)
				start := time.Now()
				err := s.Set(ctx, key, val, time.Minute)
				if err == nil {
					var got []byte
					got, err = s.Get(ctx, key)
					if err == nil && !bytes.HasPrefix(got, []byte(key+"=")) {
						t.Errorf("Get(%q) = %q: another key's value", key, got)
					}
				}
				if d := time.Since(start); d > 2*(s.callTimeout+failMargin) {
					t.Errorf("a Set and a Get took %v", d)
				}
				if err != nil {
					failures.Add(1)
					continue
				}
				successes.Add(1)
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		})
	}
	// awaitSuccesses waits until n more calls have succeeded.
	awaitSuccesses := func(n int64, what string) {
		t.Helper()
		target := successes.Load() + n
		for successes.Load() < target {
			wait(t, progress, recoveryTimeout, what)
		}
	}
	awaitSuccesses(100, "calls succeeding before the restarts")
	for round := range 2 {
		srv.restart()
		awaitSuccesses(100, fmt.Sprintf("calls succeeding after restart %d", round+1))
	}
	close(done)
	wg.Wait()
	t.Logf("%d Set+Get pairs succeeded, %d failed across two restarts", successes.Load(), failures.Load())
}

// TestAfterClose checks that every call fails, without panicking, once
// the store is closed.
func TestAfterClose(t *testing.T) {
	srv := startServer(t)
	s := newStore(t, srv, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, op := range ops(s) {
		if err := op(t.Context()); err == nil {
			t.Errorf("%s succeeded after Close", name)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
