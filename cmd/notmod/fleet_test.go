//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// fleetHost is the Host every client of the fleet sends, whichever node it
// reaches: the nodes sit behind one name, and the cache keys responses by
// Host and path.
const fleetHost = "fleet.test"

// purgeChannel is the Redis pub/sub channel of the nodes' announcements,
// under the default key prefix.
const purgeChannel = "notmod:purge"

// fleetOrigin is the origin of the fleet tests. It counts unconditional
// and conditional (If-None-Match) requests per path. Every path is fresh
// for an hour, except those under /stale/, whose first response is stale at once
// (max-age=0, with an ETag) and whose 304 makes it fresh for an hour.
type fleetOrigin struct {
	mu     sync.Mutex
	uncond map[string]int
	cond   map[string]int
	// revalidations are the start and end of each conditional request
	// for a /stale/ path, in the order they started.
	revalidations map[string][][2]time.Time
}

func fleetBody(path string) []byte {
	return fmt.Appendf(nil, "fleet body of %s\n%s\n", path, strings.Repeat(path, 40))
}

func (o *fleetOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	inm := r.Header.Get("If-None-Match")
	o.mu.Lock()
	if inm != "" {
		o.cond[r.URL.Path]++
	} else {
		o.uncond[r.URL.Path]++
	}
	o.mu.Unlock()
	h := w.Header()
	h.Set("ETag", `"v1"`)
	if strings.HasPrefix(r.URL.Path, "/stale/") {
		if strings.Contains(inm, `"v1"`) {
			start := time.Now()
			h.Set("Cache-Control", "public, max-age=3600")
			w.WriteHeader(http.StatusNotModified)
			o.mu.Lock()
			o.revalidations[r.URL.Path] = append(o.revalidations[r.URL.Path], [2]time.Time{start, time.Now()})
			o.mu.Unlock()
			return
		}
		h.Set("Cache-Control", "public, max-age=0")
	} else {
		h.Set("Cache-Control", "public, max-age=3600")
	}
	h.Set("Content-Type", "text/plain")
	_, _ = w.Write(fleetBody(r.URL.Path))
}

// revalidationsOf returns the start and end of each conditional request for
// path.
func (o *fleetOrigin) revalidationsOf(path string) [][2]time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.revalidations[path])
}

// counts returns the unconditional and conditional requests for path.
func (o *fleetOrigin) counts(path string) (uncond, cond int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.uncond[path], o.cond[path]
}

// fleet is two "notmod serve" processes sharing one redis-server, and
// their origin.
type fleet struct {
	redis  *redisServer
	origin *fleetOrigin
	a, b   *node
	rdb    *goredis.Client
}

// startFleet starts a redis-server, an origin and two nodes on it, and
// waits until both nodes listen on the announcement channel.
func startFleet(t *testing.T) *fleet {
	t.Helper()
	f := &fleet{redis: startRedis(t), origin: &fleetOrigin{uncond: map[string]int{}, cond: map[string]int{}, revalidations: map[string][][2]time.Time{}}}
	srv := httptest.NewServer(f.origin)
	t.Cleanup(srv.Close)
	args := []string{"-origin", srv.URL, "-store", f.redis.url()}
	f.a = startNode(t, "node A", args...)
	f.b = startNode(t, "node B", args...)
	f.rdb = goredis.NewClient(&goredis.Options{Network: "unix", Addr: f.redis.sock, MaxRetries: -1})
	t.Cleanup(func() { _ = f.rdb.Close() })
	f.waitSubscribed(t)
	return f
}

// waitSubscribed waits until both nodes are subscribed to the
// announcement channel (PUBSUB NUMSUB), so that no purge is lost.
func (f *fleet) waitSubscribed(t *testing.T) {
	t.Helper()
	poll(t, 15*time.Second, "both nodes subscribed to "+purgeChannel, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := f.rdb.PubSubNumSub(ctx, purgeChannel).Result()
		return err == nil && n[purgeChannel] == 2
	})
}

// TestServeFleet runs two nodes on one redis-server. A response fetched
// through node A is a hit through node B without an origin request, and
// every hit B serves from what it copied out of Redis is the URL's own
// response; a purge through B's admin listener removes it from A's memory
// tier too (the delay is measured), also when A is copying it from Redis at
// the moment of the purge; 50 concurrent requests for one stale response,
// spread over both nodes, make exactly one conditional request to the
// origin (RFC 9111 §4.3.1, §4.3.4).
func TestServeFleet(t *testing.T) {
	f := startFleet(t)

	t.Run("hit through the other node", func(t *testing.T) {
		first := mustFetch(t, f.a.base+"/shared", fleetHost)
		if first.status != 200 || !strings.Contains(first.cacheStatus(), "fwd=uri-miss") || !strings.Contains(first.cacheStatus(), "stored") {
			t.Fatalf("through A: %d %q", first.status, first.cacheStatus())
		}
		r := mustFetch(t, f.b.base+"/shared", fleetHost)
		if !r.hit() || !bytes.Equal(r.body, fleetBody("/shared")) {
			t.Fatalf("through B: Cache-Status %q, body intact %v; want a hit", r.cacheStatus(), bytes.Equal(r.body, fleetBody("/shared")))
		}
		if u, c := f.origin.counts("/shared"); u != 1 || c != 0 {
			t.Fatalf("the origin had %d+%d requests, want 1", u, c)
		}
	})

	t.Run("many responses through the other node", func(t *testing.T) {
		// Node B fills its memory tier from Redis for every key: each
		// hit must still be the key's own response.
		const n = 200
		path := func(i int) string { return fmt.Sprintf("/many/%03d", i) }
		for i := range n {
			if r := mustFetch(t, f.a.base+path(i), fleetHost); r.status != 200 {
				t.Fatalf("through A, %s: %d", path(i), r.status)
			}
		}
		wrong := 0
		for pass := range 2 {
			for i := range n {
				r := mustFetch(t, f.b.base+path(i), fleetHost)
				if !bytes.Equal(r.body, fleetBody(path(i))) {
					if wrong++; wrong <= 5 {
						t.Errorf("pass %d through B, %s: Cache-Status %q, body of another URL: %q", pass, path(i), r.cacheStatus(), firstLine(r.body))
					}
				} else if !r.hit() {
					t.Errorf("pass %d through B, %s: not a hit: %q", pass, path(i), r.cacheStatus())
				}
			}
		}
		if wrong > 0 {
			t.Errorf("%d of %d responses through B carried another URL's body", wrong, 2*n)
		}
	})

	t.Run("purge through the other node", func(t *testing.T) {
		const rounds = 20
		delays := make([]time.Duration, 0, rounds)
		staleHits := 0
		for i := range rounds {
			p := fmt.Sprintf("/purge/%d", i)
			mustFetch(t, f.a.base+p, fleetHost)
			if r := mustFetch(t, f.a.base+p, fleetHost); !r.hit() {
				t.Fatalf("%s through A before the purge: %q, want a hit", p, r.cacheStatus())
			}
			at := f.b.purge(url.Values{"url": {"http://" + fleetHost + p}})
			// Poll A with only-if-cached (RFC 9111 §5.2.1.7): a hit while
			// it still holds the response, a 504 once it does not, and no
			// request to the origin either way.
			var gone time.Time
			for deadline := at.Add(5 * time.Second); gone.IsZero(); {
				r := mustFetch(t, f.a.base+p, fleetHost, "Cache-Control", "only-if-cached")
				switch {
				case r.status == http.StatusGatewayTimeout:
					gone = time.Now()
				case !r.hit():
					t.Fatalf("%s through A after the purge: %d %q", p, r.status, r.cacheStatus())
				case time.Now().After(deadline):
					t.Fatalf("%s: node A still serves it 5 s after the purge through B", p)
				default:
					staleHits++
				}
			}
			delays = append(delays, gone.Sub(at))
			if i == 0 {
				r := mustFetch(t, f.a.base+p, fleetHost)
				if !strings.Contains(r.cacheStatus(), "fwd=uri-miss") {
					t.Errorf("%s through A after the purge: %q, want fwd=uri-miss", p, r.cacheStatus())
				}
				if u, _ := f.origin.counts(p); u != 2 {
					t.Errorf("the origin had %d requests for %s, want 2", u, p)
				}
			}
		}
		slices.Sort(delays)
		t.Logf("purge through B until A stops serving it (purge's 200 to A's first 504, %d rounds): median %v, max %v; hits served by A after the 200: %d",
			rounds, delays[len(delays)/2], delays[len(delays)-1], staleHits)
	})

	t.Run("purge while the other node reads", func(t *testing.T) {
		// Node A copies from Redis into its memory tier while B purges:
		// whichever comes first, once the purge has propagated A must not
		// serve the purged response.
		const rounds, readers = 40, 6
		survived := 0
		played := 0
		for round := range rounds {
			if survived == 3 {
				break // enough to show it, and each costs a second
			}
			played++
			p := fmt.Sprintf("/race/%d", round)
			mustFetch(t, f.b.base+p, fleetHost) // stored in Redis; A has no copy
			start := make(chan struct{})
			var wg sync.WaitGroup
			for range readers {
				wg.Go(func() {
					<-start
					_, _ = fetch(f.a.base+p, fleetHost, "Cache-Control", "only-if-cached")
				})
			}
			close(start)
			at := f.b.purge(url.Values{"url": {"http://" + fleetHost + p}})
			wg.Wait()
			// Propagation takes about a millisecond (see the subtest
			// above); allow a second.
			for deadline := at.Add(time.Second); ; {
				r := mustFetch(t, f.a.base+p, fleetHost, "Cache-Control", "only-if-cached")
				if !r.hit() {
					break
				}
				if time.Now().After(deadline) {
					survived++
					t.Errorf("%s: node A still serves it from its memory tier 1 s after the purge through B: %q", p, r.cacheStatus())
					break
				}
			}
		}
		if survived > 0 {
			t.Errorf("in %d of %d rounds a purged response survived in node A's memory tier", survived, played)
		}
	})

	t.Run("one conditional request for a stale key", func(t *testing.T) {
		// Several rounds, each on a key of its own, since the nodes race
		// for the lease differently each time.
		const rounds, n = 8, 50
		for round := range rounds {
			p := fmt.Sprintf("/stale/%d", round)
			// The first response is stale at once (max-age=0) and has
			// an ETag: every later request must revalidate it.
			first := mustFetch(t, f.a.base+p, fleetHost)
			if !strings.Contains(first.cacheStatus(), "stored") {
				t.Fatalf("%s: the stale response was not stored: %q", p, first.cacheStatus())
			}
			start := make(chan struct{})
			results := make([]reply, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				base := f.a.base
				if i%2 == 1 {
					base = f.b.base
				}
				wg.Go(func() {
					<-start
					results[i], errs[i] = fetch(base+p, fleetHost)
				})
			}
			close(start)
			wg.Wait()
			statuses := map[string]int{}
			for i, r := range results {
				if errs[i] != nil {
					t.Errorf("%s, request %d: %v", p, i, errs[i])
					continue
				}
				if r.status != 200 || !bytes.Equal(r.body, fleetBody(p)) {
					t.Errorf("%s, request %d: %d, %q", p, i, r.status, firstLine(r.body))
				}
				statuses[[]string{"A", "B"}[i%2]+": "+r.cacheStatus()]++
			}
			u, c := f.origin.counts(p)
			if u != 1 || c != 1 {
				t.Errorf("%s: the origin had %d unconditional and %d conditional requests; want 1 and 1 (%d requests over 2 nodes make one revalidation); Cache-Status by node: %v", p, u, c, n, statuses)
				for i, iv := range f.origin.revalidationsOf(p) {
					t.Logf("%s: conditional request %d came at %v and was answered in %v", p, i, iv[0].Sub(f.origin.revalidationsOf(p)[0][0]), iv[1].Sub(iv[0]))
				}
			}
		}
	})
}

// TestServeFleetRedisDown kills redis-server while both nodes serve
// requests, and starts it again on the same socket: no client sees a 5xx
// (the origin is up throughout), and once Redis is back a response stored
// through node A, which B can only find in Redis, is a hit through B.
func TestServeFleetRedisDown(t *testing.T) {
	f := startFleet(t)
	const warm = 20
	warmPath := func(i int) string { return fmt.Sprintf("/warm/%d", i) }
	for i := range warm {
		mustFetch(t, f.a.base+warmPath(i), fleetHost)
		if r := mustFetch(t, f.b.base+warmPath(i), fleetHost); !r.hit() {
			t.Fatalf("%s through B before the fault: %q, want a hit from Redis", warmPath(i), r.cacheStatus())
		}
	}

	// The load: two clients on each node, asking for the warm keys and
	// for new ones (misses that are stored, through the store under
	// test), until told to stop.
	var (
		stop  = make(chan struct{})
		wg    sync.WaitGroup
		total atomic.Int64
		mu    sync.Mutex
		// failures counts the failed requests by kind: "5xx", "error"
		// (no response) and "wrong body"; failLines are the first few.
		failures  = map[string]int{}
		failLines []string
	)
	fail := func(kind, line string) {
		mu.Lock()
		failures[kind]++
		if len(failLines) < 12 {
			failLines = append(failLines, line)
		}
		mu.Unlock()
	}
	for g := range 4 {
		n := f.a
		if g%2 == 1 {
			n = f.b
		}
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				p := warmPath(i % warm)
				if i%2 == 1 {
					p = fmt.Sprintf("/load/%d/%d", g, i)
				}
				r, err := fetch(n.base+p, fleetHost)
				total.Add(1)
				switch {
				case err != nil:
					fail("error", fmt.Sprintf("%s %s: %v", n.name, p, err))
				case r.status >= 500:
					fail("5xx", fmt.Sprintf("%s %s: %d %q", n.name, p, r.status, r.cacheStatus()))
				case r.status != 200 || !bytes.Equal(r.body, fleetBody(p)):
					fail("wrong body", fmt.Sprintf("%s %s: %d %q, the body of another URL: %q", n.name, p, r.status, r.cacheStatus(), firstLine(r.body)))
				}
			}
		})
	}
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()
	phase := func(d time.Duration) {
		timer := time.NewTimer(d)
		defer timer.Stop()
		<-timer.C
	}
	upMetric := func(n *node, want string) func() bool {
		return func() bool {
			m, err := n.metricsText()
			return err == nil && strings.Contains(m, "\nnotmod_shared_store_up "+want+"\n")
		}
	}

	phase(time.Second) // load with Redis up
	before := total.Load()
	f.redis.kill()
	killed := time.Now()
	poll(t, 5*time.Second, "node A reports the shared store down", upMetric(f.a, "0"))
	poll(t, 5*time.Second, "node B reports the shared store down", upMetric(f.b, "0"))
	noticed := time.Since(killed)
	phase(3*time.Second - time.Since(killed)) // load with Redis down
	during := total.Load() - before
	f.redis.start()
	restarted := time.Now()
	poll(t, 10*time.Second, "node A reports the shared store up", upMetric(f.a, "1"))
	poll(t, 10*time.Second, "node B reports the shared store up", upMetric(f.b, "1"))
	f.waitSubscribed(t)
	back := time.Since(restarted)
	phase(time.Second) // load with Redis back
	close(stop)
	wg.Wait()
	t.Logf("%d requests in all, %d while Redis was down; both nodes reported Redis down %v after it was killed, and up and resubscribed %v after its restart",
		total.Load(), during, noticed.Round(time.Millisecond), back.Round(time.Millisecond))
	if len(failures) > 0 {
		t.Errorf("of %d requests, failed %v (the origin was up throughout); the first:\n%s", total.Load(), failures, strings.Join(failLines, "\n"))
	}

	// Hits from Redis again: stored through A, so that B has no copy of
	// its own, then a hit through B with no second origin request.
	resumed := false
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; !resumed; i++ {
		if time.Now().After(deadline) {
			t.Fatal("no response stored through A was a hit through B within 10 s of Redis's return")
		}
		p := fmt.Sprintf("/after/%d", i)
		if r := mustFetch(t, f.a.base+p, fleetHost); r.status != 200 {
			t.Fatalf("%s through A: %d %q", p, r.status, r.cacheStatus())
		}
		r := mustFetch(t, f.b.base+p, fleetHost)
		if r.status != 200 || !bytes.Equal(r.body, fleetBody(p)) {
			t.Fatalf("%s through B: %d %q", p, r.status, r.cacheStatus())
		}
		if r.hit() {
			resumed = true
			if u, c := f.origin.counts(p); u+c != 1 {
				t.Errorf("the origin had %d requests for %s, want 1", u+c, p)
			}
			t.Logf("a response stored through A was a hit through B %v after Redis's restart (try %d)", time.Since(restarted).Round(time.Millisecond), i+1)
		}
	}
}
