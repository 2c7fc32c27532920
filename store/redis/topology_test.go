//go:build unix

package redis

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// freePort returns a loopback TCP port that is free as the kernel hands
// it out, and whose cluster bus port (10000 higher) exists.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if port+10000 <= 65535 {
			return port
		}
	}
	t.Fatal("no loopback port below 55536 found")
	return 0
}

// TestCluster runs the store on a Redis Cluster of one node, which
// exercises the Cluster client: slots loaded from the seed, SCAN on each
// primary, the lease script routed by key, pub/sub. A cluster node needs a
// TCP port (its clients learn it from CLUSTER SLOTS); it listens on
// 127.0.0.1 at a port the kernel picked.
func TestCluster(t *testing.T) {
	port := freePort(t)
	srv := startServer(t,
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--cluster-enabled", "yes",
		"--cluster-config-file", "nodes.conf",
	)
	admin := srv.admin(0)
	ctx := t.Context()
	if err := admin.Do(ctx, "cluster", "addslotsrange", 0, 16383).Err(); err != nil {
		t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
	}
	// The node takes a moment to call its state ok; there is no event
	// to wait on, so poll, bounded.
	deadline := time.Now().Add(serverStartTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := admin.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster state not ok after %v: %q, %v", serverStartTimeout, info, err)
		}
		<-tick.C
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	newCluster := func(t *testing.T) *Store {
		s, err := New(t.Context(), Options{
			Addrs:        []string{addr},
			Cluster:      true,
			ReadTimeout:  conformanceTimeout,
			WriteTimeout: conformanceTimeout,
			Logger:       testLogger(t),
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		if _, ok := s.c.(*goredis.ClusterClient); !ok {
			t.Fatalf("client is a %T, want a *ClusterClient", s.c)
		}
		return s
	}
	t.Run("conformance", func(t *testing.T) {
		runConformance(t, admin, newCluster)
	})
	t.Run("lease, pub/sub and ping", func(t *testing.T) {
		testFleet(t, newCluster(t), newCluster(t))
	})
}

// TestSentinel runs the store through a Sentinel that knows the primary,
// in database 2. The primary listens on 127.0.0.1 at a port the kernel
// picked, since a Sentinel names primaries by host and port; the Sentinel
// itself on a unix socket.
func TestSentinel(t *testing.T) {
	port := freePort(t)
	primary := startServer(t, "--port", strconv.Itoa(port), "--bind", "127.0.0.1")
	sentinel := startSentinel(t, "127.0.0.1:"+strconv.Itoa(port))
	admin := primary.admin(2)
	newFailover := func(t *testing.T) *Store {
		s, err := New(t.Context(), Options{
			Addrs:        []string{sentinel.sock},
			MasterName:   "mymaster",
			DB:           2,
			ReadTimeout:  conformanceTimeout,
			WriteTimeout: conformanceTimeout,
			Logger:       testLogger(t),
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	t.Run("conformance", func(t *testing.T) {
		runConformance(t, admin, newFailover)
	})
	t.Run("primary's database 2", func(t *testing.T) {
		s := newFailover(t)
		if err := s.Set(t.Context(), "where", []byte("primary"), 0); err != nil {
			t.Fatal(err)
		}
		if v, err := admin.Get(t.Context(), s.prefix+"where").Result(); err != nil || v != "primary" {
			t.Errorf("key on the primary, database 2: %q, %v", v, err)
		}
	})
	t.Run("lease, pub/sub and ping", func(t *testing.T) {
		testFleet(t, newFailover(t), newFailover(t))
	})
}

// testFleet checks Ping, leases and pub/sub between two stores on the
// same Redis.
func testFleet(t *testing.T, a, b *Store) {
	ctx := t.Context()
	if err := a.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	ok, release, err := a.TryLease(ctx, "k", time.Minute)
	if err != nil || !ok {
		t.Fatalf("TryLease: %v, %v", ok, err)
	}
	if ok, _, err := b.TryLease(ctx, "k", time.Minute); err != nil || ok {
		t.Fatalf("second TryLease: %v, %v; want no lease", ok, err)
	}
	release()
	if ok, release, err := b.TryLease(ctx, "k", time.Minute); err != nil || !ok {
		t.Fatalf("TryLease after release: %v, %v", ok, err)
	} else {
		release()
	}

	fn, got := collect()
	sub := b.Subscribe(ctx, fn)
	wait(t, sub.Ready(), deliveryTimeout, "subscription")
	if err := a.Publish(ctx, []byte("purge")); err != nil {
		t.Fatal(err)
	}
	if m := wait(t, got, deliveryTimeout, "message"); string(m) != "purge" {
		t.Errorf("got %q", m)
	}
}
