//go:build unix

package redis

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLeaseExclusive(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	a := newStore(t, srv, Options{})
	b := newStore(t, srv, Options{})

	okA, releaseA, err := a.TryLease(ctx, "GET https://example.com/", time.Minute)
	if err != nil || !okA {
		t.Fatalf("node A: TryLease = %v, %v; want the lease", okA, err)
	}
	okB, releaseB, err := b.TryLease(ctx, "GET https://example.com/", time.Minute)
	if err != nil || okB {
		t.Fatalf("node B while A holds it: TryLease = %v, %v; want no lease", okB, err)
	}
	releaseB() // a no-op: B holds nothing
	if ok, _, _ := b.TryLease(ctx, "GET https://example.com/", time.Minute); ok {
		t.Fatal("node B's no-op release ended A's lease")
	}
	// Another name is another lease.
	if ok, release, err := b.TryLease(ctx, "GET https://example.com/other", time.Minute); err != nil || !ok {
		t.Fatalf("node B, another name: TryLease = %v, %v", ok, err)
	} else {
		release()
	}

	releaseA()
	releaseA() // twice is harmless
	okB, releaseB, err = b.TryLease(ctx, "GET https://example.com/", time.Minute)
	if err != nil || !okB {
		t.Fatalf("node B after A released: TryLease = %v, %v; want the lease", okB, err)
	}
	// A's second release, after B took the lease, leaves B's alone.
	releaseA()
	if ok, _, _ := a.TryLease(ctx, "GET https://example.com/", time.Minute); ok {
		t.Fatal("a late release by A ended B's lease")
	}
	releaseB()
}

// TestLeaseExpiry lets a lease expire, on the server's clock, while its
// holder still has it: another node may take it then, and the first
// holder's late release must not end the new holder's lease.
func TestLeaseExpiry(t *testing.T) {
	srv := startServer(t)
	admin := srv.admin(0)
	ctx := t.Context()
	if err := admin.ConfigSet(ctx, "notify-keyspace-events", "Ex").Err(); err != nil {
		t.Fatal(err)
	}
	events := admin.Subscribe(ctx, "__keyevent@0__:expired")
	t.Cleanup(func() { _ = events.Close() })
	if _, err := events.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	a := newStore(t, srv, Options{})
	b := newStore(t, srv, Options{})

	ok, releaseA, err := a.TryLease(ctx, "k", 50*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("TryLease: %v, %v", ok, err)
	}
	m := wait(t, events.Channel(), deliveryTimeout, "expiry of the lease")
	if m.Payload != a.lease+"k" {
		t.Fatalf("expired %q, want the lease %q", m.Payload, a.lease+"k")
	}
	ok, releaseB, err := b.TryLease(ctx, "k", time.Minute)
	if err != nil || !ok {
		t.Fatalf("node B after A's lease expired: %v, %v; want the lease", ok, err)
	}
	releaseA()
	if ok, _, _ := a.TryLease(ctx, "k", time.Minute); ok {
		t.Fatal("A's release after its lease expired ended B's lease")
	}
	releaseB()
}

// TestLeaseContention has many goroutines on two nodes race for one lease:
// exactly one wins.
func TestLeaseContention(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	nodes := []*Store{newStore(t, srv, Options{}), newStore(t, srv, Options{})}
	for round := range 20 {
		var won atomic.Int32
		var errs atomic.Int32
		var wg sync.WaitGroup
		var mu sync.Mutex
		var releases []func()
		for g := range 16 {
			wg.Go(func() {
				ok, release, err := nodes[g%2].TryLease(ctx, "contended", time.Minute)
				if err != nil {
					errs.Add(1)
					return
				}
				if ok {
					won.Add(1)
				}
				mu.Lock()
				releases = append(releases, release)
				mu.Unlock()
			})
		}
		wg.Wait()
		if won.Load() != 1 || errs.Load() != 0 {
			t.Fatalf("round %d: %d winners, %d errors; want exactly 1 winner", round, won.Load(), errs.Load())
		}
		for _, r := range releases {
			r()
		}
	}
}

func TestLeaseBadTTL(t *testing.T) {
	srv := startServer(t)
	s := newStore(t, srv, Options{})
	for _, ttl := range []time.Duration{0, -time.Second} {
		ok, release, err := s.TryLease(t.Context(), "k", ttl)
		if err == nil || ok || release == nil {
			t.Errorf("TryLease(ttl %v) = %v, %v; want an error and a no-op release", ttl, ok, err)
		}
		release()
	}
}
