package httpcache

import (
	"context"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/notmod/notmod/store/memory"
)

// inProcessLease is a lease table shared by the caches of one test, as a
// Redis lease is shared by the nodes of a fleet.
type inProcessLease struct {
	mu   sync.Mutex
	held map[string]bool
}

func (p *inProcessLease) take(_ context.Context, key string) (bool, func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held[key] {
		return false, nil
	}
	p.held[key] = true
	var once sync.Once
	return true, func() {
		once.Do(func() { p.mu.Lock(); delete(p.held, key); p.mu.Unlock() })
	}
}

// TestFleetLease checks that while one node of a fleet fetches a URL, the
// other waits for the response to appear in the shared store instead of
// fetching it too, and then serves it as collapsed.
func TestFleetLease(t *testing.T) {
	clock := newTestClock()
	shared := memory.Must(memory.Options{Clock: clock.Now})
	lease := &inProcessLease{held: map[string]bool{}}
	newNode := func() *Cache {
		return Must(Options{Store: shared, Now: clock.Now, Lease: lease.take, LeasePoll: time.Millisecond, LeaseWait: 5 * time.Second})
	}
	a, b := newNode(), newNode()

	la := a.Lookup(newRequest(http.MethodGet, "/x"))
	if la.Decision != Forward || la.leaseRelease == nil {
		t.Fatalf("node a: %v, lease %v; want forward with the lease", la.Decision, la.leaseRelease != nil)
	}
	lb := b.Lookup(newRequest(http.MethodGet, "/x"))
	if lb.Decision != Wait || !lb.remote {
		t.Fatalf("node b: %v remote %v; want to wait for node a", lb.Decision, lb.remote)
	}
	waited := make(chan error, 1)
	go func() { waited <- lb.Wait(context.Background()) }()

	h := header("Cache-Control", "max-age=60", "Date", httpDate(clock.Now()))
	resp, err := la.Receive(newResponse(newRequest(http.MethodGet, "/x"), 200, h, "from a"))
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	la.Release()

	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("node b still waiting after node a stored the response")
	}
	again := lb.Retry()
	defer again.Release()
	if again.Decision != Serve || !again.Status.Collapsed {
		t.Fatalf("node b after waiting: %v %q; want a collapsed serve", again.Decision, again.AppendCacheStatus(nil))
	}
	if _, body := again.Reply(); string(body) != "from a" {
		t.Fatalf("node b served %q", body)
	}
	if ok, release := lease.take(context.Background(), "lease "+again.primaryKey()); !ok {
		t.Fatal("the lease was not released")
	} else {
		release()
	}
}
