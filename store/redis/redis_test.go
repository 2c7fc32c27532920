//go:build unix

package redis

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/storetest"
)

// conformanceTimeout is the read and write timeout of the stores the
// conformance suite runs on: it checks correctness, not speed, on a
// machine that the race detector and other tests may slow down.
const conformanceTimeout = 5 * time.Second

// advanceScript moves the expiry of KEYS[1] ARGV[1] milliseconds nearer,
// deleting the key if that reaches it: what the passing of that much time
// would do to the key.
const advanceScript = `local ttl = redis.call("PTTL", KEYS[1])
if ttl < 0 then return 0 end
if ttl <= tonumber(ARGV[1]) then
	redis.call("DEL", KEYS[1])
	return 1
end
redis.call("PEXPIRE", KEYS[1], ttl - tonumber(ARGV[1]))
return 2`

// TestConformance runs the storetest suite on a real redis-server.
func TestConformance(t *testing.T) {
	srv := startServer(t)
	n := 0
	runConformance(t, srv.admin(0), func(t *testing.T) *Store {
		n++
		return newStore(t, srv, Options{
			KeyPrefix:    fmt.Sprintf("conformance%d:", n),
			ReadTimeout:  conformanceTimeout,
			WriteTimeout: conformanceTimeout,
		})
	})
}

// runConformance runs the storetest suite on the stores newStore returns,
// emptying the database with admin before each. Redis expires keys on its
// own clock, which a test cannot move, so the suite's Advance moves the
// keys instead: it shortens the ttl of every key by d (PTTL, then PEXPIRE
// or DEL, in one script). The expiry on Redis's own clock is tested with
// real, short ttls in TestExpiryOnServerClock.
func runConformance(t *testing.T, admin *goredis.Client, newStore func(t *testing.T) *Store) {
	t.Helper()
	advance := goredis.NewScript(advanceScript)
	var cur *testing.T // the running subtest, for Advance to fail
	storetest.Run(t, func(t *testing.T) store.Store {
		cur = t
		if err := admin.FlushDB(t.Context()).Err(); err != nil {
			t.Fatalf("FLUSHDB: %v", err)
		}
		return newStore(t)
	}, storetest.Options{Advance: func(d time.Duration) {
		ctx := cur.Context()
		var keys []string
		iter := admin.Scan(ctx, 0, "*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			cur.Fatalf("Advance: SCAN: %v", err)
		}
		for _, k := range keys {
			if err := advance.Run(ctx, admin, []string{k}, d.Milliseconds()).Err(); err != nil {
				cur.Fatalf("Advance(%v) of %q: %v", d, k, err)
			}
		}
	}})
}

// TestExpiryOnServerClock lets short ttls pass on the server's clock and
// waits for the key's expiry event (keyspace notifications), not for a
// fixed time.
func TestExpiryOnServerClock(t *testing.T) {
	srv := startServer(t)
	admin := srv.admin(0)
	ctx := t.Context()
	if err := admin.ConfigSet(ctx, "notify-keyspace-events", "Ex").Err(); err != nil {
		t.Fatal(err)
	}
	events := admin.Subscribe(ctx, "__keyevent@0__:expired")
	t.Cleanup(func() { _ = events.Close() })
	if _, err := events.Receive(ctx); err != nil { // the confirmation
		t.Fatal(err)
	}
	s := newStore(t, srv, Options{})

	const ttl = 300 * time.Millisecond
	start := time.Now()
	if err := s.Set(ctx, "short", []byte("v"), ttl); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "short")
	if elapsed := time.Since(start); elapsed < ttl/2 && (err != nil || string(got) != "v") {
		t.Fatalf("Get %v after Set with ttl %v: %q, %v", elapsed, ttl, got, err)
	}
	pttl, err := admin.PTTL(ctx, s.prefix+"short").Result()
	if err != nil || pttl <= 0 || pttl > ttl {
		t.Fatalf("PTTL = %v, %v; want within (0, %v]", pttl, err, ttl)
	}

	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case m := <-events.Channel():
			if m.Payload != s.prefix+"short" {
				continue
			}
		case <-deadline.C:
			t.Fatal("no expiry event within 10s")
		}
		break
	}
	if elapsed := time.Since(start); elapsed < ttl {
		t.Errorf("key expired %v after Set, before its ttl of %v", elapsed, ttl)
	}
	if _, err := s.Get(ctx, "short"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after expiry: %v, want store.ErrNotFound", err)
	}
}

// noTTL is the PTTL of a key without expiry.
const noTTL = -time.Millisecond

// TestSetTTL checks the expiry each Set leaves on the Redis key.
func TestSetTTL(t *testing.T) {
	srv := startServer(t)
	admin := srv.admin(0)
	s := newStore(t, srv, Options{})
	const year = 365 * 24 * time.Hour
	tests := map[string]struct {
		before   time.Duration // a Set with this ttl first; 0: none
		ttl      time.Duration
		min, max time.Duration // the PTTL wanted, to the millisecond
	}{
		"no ttl":                          {ttl: 0, min: noTTL, max: noTTL},
		"negative ttl":                    {ttl: -time.Second, min: noTTL, max: noTTL},
		"minimum duration":                {ttl: math.MinInt64, min: noTTL, max: noTTL},
		"overwrite without ttl clears it": {before: time.Hour, ttl: 0, min: noTTL, max: noTTL},
		"overwrite with negative clears":  {before: time.Hour, ttl: -1, min: noTTL, max: noTTL},
		"a ttl":                           {ttl: time.Minute, min: 50 * time.Second, max: time.Minute},
		"overwrite shortens a ttl":        {before: time.Hour, ttl: time.Minute, min: 50 * time.Second, max: time.Minute},
		"overwrite lengthens a ttl":       {before: time.Minute, ttl: time.Hour, min: 59 * time.Minute, max: time.Hour},
		"overwrite of a persistent key":   {before: -1, ttl: time.Minute, min: 50 * time.Second, max: time.Minute},
		"sub-millisecond rounds up":       {ttl: time.Microsecond, min: 0, max: time.Millisecond},
		"milliseconds are kept":           {ttl: 1500*time.Millisecond + time.Microsecond, min: time.Second, max: 1501 * time.Millisecond},
		"beyond a year":                   {ttl: 400 * 24 * time.Hour, min: 399 * 24 * time.Hour, max: 400 * 24 * time.Hour},
		"maximum duration has an expiry":  {ttl: math.MaxInt64, min: 290 * year, max: math.MaxInt64},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			key := "ttl/" + name
			if tt.before != 0 {
				if err := s.Set(ctx, key, []byte("before"), tt.before); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Set(ctx, key, []byte("v"), tt.ttl); err != nil {
				t.Fatal(err)
			}
			// PTTL in plain milliseconds: go-redis's Duration would
			// overflow for the longest ttls.
			pttl, err := admin.Do(ctx, "pttl", s.prefix+key).Int64()
			if err != nil {
				t.Fatal(err)
			}
			if pttl == -2 && tt.min == 0 {
				return // a sub-millisecond ttl may be over already
			}
			maxMs := tt.max.Milliseconds()
			if tt.max > 0 {
				maxMs = millis(tt.max) // rounded up, as Set does
			}
			if pttl < tt.min.Milliseconds() || pttl > maxMs {
				t.Errorf("PTTL after Set(ttl %v) = %dms, want within [%v, %v]", tt.ttl, pttl, tt.min, tt.max)
			}
		})
	}
}

func TestMaxEntryBytes(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	s := newStore(t, srv, Options{MaxEntryBytes: 1024})

	if err := s.Set(ctx, "k", make([]byte, 1024), 0); err != nil {
		t.Fatalf("Set of exactly MaxEntryBytes: %v", err)
	}
	err := s.Set(ctx, "k", make([]byte, 1025), 0)
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, store.ErrTooLarge) {
		t.Fatalf("Set of MaxEntryBytes+1: %v, want ErrTooLarge", err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after a refused overwrite: %v, want store.ErrNotFound (the old value removed)", err)
	}

	// The default bound refuses a value before sending it.
	d := newStore(t, srv, Options{KeyPrefix: "default:"})
	if d.maxEntry != DefaultMaxEntryBytes {
		t.Errorf("default bound %d, want %d", d.maxEntry, DefaultMaxEntryBytes)
	}
	if err := d.Set(ctx, "big", make([]byte, DefaultMaxEntryBytes+1), 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Set of DefaultMaxEntryBytes+1: %v, want ErrTooLarge", err)
	}

	// With the server gone the refusal is still recognisable.
	srv.stop()
	err = s.Set(ctx, "k", make([]byte, 2048), 0)
	if !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("Set of a too large value with the server down: %v, want ErrTooLarge among the errors", err)
	}
}

// TestKeysGlobCharacters stores keys full of glob characters and checks
// that prefixes, and key prefixes, match as plain bytes.
func TestKeysGlobCharacters(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	keys := []string{
		"a*b", "aXb", "a?c", "abc", "a", "[ab]x", "ax", "bx", `a\b`, `a\`, "a]b", "a[", "^x", "a-b", "*", "?", "",
	}
	for _, kp := range []string{"", "glob*[?]\\:"} {
		t.Run("KeyPrefix="+kp, func(t *testing.T) {
			s := newStore(t, srv, Options{KeyPrefix: kp})
			// A neighbour whose Redis keys the escaped pattern of s must
			// not match, and would if '*' or '?' were left special.
			other := newStore(t, srv, Options{KeyPrefix: "globXYZ:"})
			for _, k := range keys {
				if err := s.Set(ctx, k, []byte(k), 0); err != nil {
					t.Fatal(err)
				}
				if err := other.Set(ctx, k, []byte("other"), 0); err != nil {
					t.Fatal(err)
				}
			}
			prefixes := []string{"a*", "a?", "[ab]", "[", "]", "a[", `a\`, `\`, "a", "*", "?", "^", "a-", "nothing", ""}
			for _, prefix := range prefixes {
				var want []string
				for _, k := range keys {
					if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
						want = append(want, k)
					}
				}
				var got []string
				if err := s.Keys(ctx, prefix, func(k string) bool { got = append(got, k); return true }); err != nil {
					t.Fatalf("Keys(%q): %v", prefix, err)
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("Keys(%q) = %q, want %q", prefix, got, want)
				}
			}
		})
	}
}

func TestEscapeGlob(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain":         {"notmod:d:GET https://a/b", "notmod:d:GET https://a/b"},
		"star":          {"a*b", `a\*b`},
		"question mark": {"a?b", `a\?b`},
		"brackets":      {"[a-z]", `\[a-z\]`},
		"backslash":     {`a\b`, `a\\b`},
		"caret and dash are plain outside brackets": {"^a-b", "^a-b"},
		"binary":  {"\x00\xff*", "\x00\xff\\*"},
		"empty":   {"", ""},
		"all":     {`*?[]\`, `\*\?\[\]\\`},
		"escaped": {`\*`, `\\\*`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := escapeGlob(tt.in); got != tt.want {
				t.Errorf("escapeGlob(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMillis(t *testing.T) {
	tests := map[string]struct {
		in   time.Duration
		want int64
	}{
		"one nanosecond":     {1, 1},
		"one millisecond":    {time.Millisecond, 1},
		"just over":          {time.Millisecond + 1, 2},
		"seconds":            {90 * time.Second, 90_000},
		"maximum duration":   {math.MaxInt64, math.MaxInt64/int64(time.Millisecond) + 1},
		"just under a milli": {time.Millisecond - 1, 1},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if got := millis(tt.in); got != tt.want {
				t.Errorf("millis(%v) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

// TestOptions checks how Options become go-redis options, without a
// server.
func TestOptions(t *testing.T) {
	type want struct {
		addrs             []string
		db                int
		user, pass        string
		tls               bool
		dial, read, write time.Duration
		pool              int
	}
	defaults := want{addrs: []string{DefaultAddr}, dial: DefaultDialTimeout, read: DefaultReadTimeout, write: DefaultWriteTimeout}
	with := func(f func(*want)) want {
		w := defaults
		f(&w)
		return w
	}
	tests := map[string]struct {
		o    Options
		want want   // checked when err is empty
		err  string // a substring of the error New returns
	}{
		"zero value": {o: Options{}, want: defaults},
		"addrs": {o: Options{Addrs: []string{"/run/redis.sock"}, DB: 2, PoolSize: 7},
			want: with(func(w *want) { w.addrs = []string{"/run/redis.sock"}; w.db = 2; w.pool = 7 })},
		"redis URL": {o: Options{URL: "redis://u:p@cache.internal:6380/3"},
			want: with(func(w *want) { w.addrs = []string{"cache.internal:6380"}; w.db = 3; w.user = "u"; w.pass = "p" })},
		"redis URL default port": {o: Options{URL: "redis://cache.internal"},
			want: with(func(w *want) { w.addrs = []string{"cache.internal:6379"} })},
		"rediss URL is TLS": {o: Options{URL: "rediss://cache.internal:6380"},
			want: with(func(w *want) { w.addrs = []string{"cache.internal:6380"}; w.tls = true })},
		"unix URL": {o: Options{URL: "unix:///run/redis/redis.sock?db=5"},
			want: with(func(w *want) { w.addrs = []string{"/run/redis/redis.sock"}; w.db = 5 })},
		"URL timeouts and pool": {o: Options{URL: "redis://h:1?dial_timeout=1s&read_timeout=2s&write_timeout=3s&pool_size=4"},
			want: with(func(w *want) {
				w.addrs = []string{"h:1"}
				w.dial, w.read, w.write, w.pool = time.Second, 2*time.Second, 3*time.Second, 4
			})},
		"options override the URL": {o: Options{URL: "redis://u:p@h:1/3?read_timeout=2s", DB: 4, Password: "q", ReadTimeout: time.Second},
			want: with(func(w *want) {
				w.addrs = []string{"h:1"}
				w.db, w.user, w.pass, w.read = 4, "u", "q", time.Second
			})},
		"cluster seeds":            {o: Options{Addrs: []string{"a:1", "b:1"}}, want: with(func(w *want) { w.addrs = []string{"a:1", "b:1"} })},
		"both addrs and URL":       {o: Options{Addrs: []string{"a:1"}, URL: "redis://b:1"}, err: "both Addrs and URL"},
		"unknown URL parameter":    {o: Options{URL: "redis://h:1?max_retries=9"}, err: `unsupported parameter "max_retries"`},
		"unknown URL scheme":       {o: Options{URL: "http://h:1"}, err: "invalid URL scheme"},
		"bad URL database":         {o: Options{URL: "redis://h:1/x"}, err: "invalid database"},
		"negative DB":              {o: Options{DB: -1}, err: "DB is negative"},
		"DB on a cluster":          {o: Options{Addrs: []string{"a:1", "b:1"}, DB: 1}, err: "Cluster has only database 0"},
		"DB on a one-seed cluster": {o: Options{Addrs: []string{"a:1"}, Cluster: true, DB: 1}, err: "Cluster has only database 0"},
		"DB on sentinel is fine":   {o: Options{Addrs: []string{"a:1", "b:1"}, MasterName: "m", DB: 1}, want: with(func(w *want) { w.addrs = []string{"a:1", "b:1"}; w.db = 1 })},
		"cluster and sentinel":     {o: Options{Addrs: []string{"a:1"}, Cluster: true, MasterName: "m"}, err: "both Cluster and MasterName"},
		"negative pool":            {o: Options{PoolSize: -1}, err: "PoolSize is negative"},
		"negative read timeout":    {o: Options{ReadTimeout: -1}, err: "timeout is negative"},
		"negative dial timeout":    {o: Options{DialTimeout: -1}, err: "timeout is negative"},
		"negative write timeout":   {o: Options{WriteTimeout: -1}, err: "timeout is negative"},
		"negative MaxEntryBytes":   {o: Options{MaxEntryBytes: -1}, err: "MaxEntryBytes is negative"},
		"empty unix socket":        {o: Options{URL: "unix://"}, err: "empty unix socket path"},
		"unreachable server":       {o: Options{Addrs: []string{"/nonexistent/notmod-test.sock"}}, err: "/nonexistent/notmod-test.sock"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if tt.err != "" {
				start := time.Now()
				s, err := New(t.Context(), tt.o)
				if err == nil {
					_ = s.Close()
					t.Fatalf("New succeeded, want an error containing %q", tt.err)
				}
				if !bytes.Contains([]byte(err.Error()), []byte(tt.err)) || !bytes.HasPrefix([]byte(err.Error()), []byte("redis: ")) {
					t.Errorf("New: %v, want an error starting with %q and containing %q", err, "redis: ", tt.err)
				}
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("New took %v to fail", d)
				}
				return
			}
			uo, err := tt.o.universal()
			if err != nil {
				t.Fatal(err)
			}
			got := want{
				addrs: uo.Addrs, db: uo.DB, user: uo.Username, pass: uo.Password, tls: uo.TLSConfig != nil,
				dial: uo.DialTimeout, read: uo.ReadTimeout, write: uo.WriteTimeout, pool: uo.PoolSize,
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if uo.MaxRetries != -1 || uo.PoolTimeout != uo.ReadTimeout {
				t.Errorf("MaxRetries %d, PoolTimeout %v: want no retries and a pool wait of ReadTimeout", uo.MaxRetries, uo.PoolTimeout)
			}
		})
	}
}

// TestURLUnixSocket connects with a unix:// URL and checks the database it
// selects.
func TestURLUnixSocket(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	s, err := New(ctx, Options{URL: "unix://" + srv.sock + "?db=3", KeyPrefix: "url:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Set(ctx, "k", []byte("in db 3"), 0); err != nil {
		t.Fatal(err)
	}
	if v, err := srv.admin(3).Get(ctx, "url:d:k").Result(); err != nil || v != "in db 3" {
		t.Errorf("key in database 3: %q, %v", v, err)
	}
	if n, err := srv.admin(0).Exists(ctx, "url:d:k").Result(); err != nil || n != 0 {
		t.Errorf("key in database 0: %d, %v; want none", n, err)
	}
}

// TestKeyLayout checks the Redis keys a store writes under its prefix, and
// that two prefixes keep apart.
func TestKeyLayout(t *testing.T) {
	srv := startServer(t)
	admin := srv.admin(0)
	ctx := t.Context()
	a := newStore(t, srv, Options{KeyPrefix: "a:"})
	b := newStore(t, srv, Options{KeyPrefix: "b:"})
	if err := a.Set(ctx, "GET https://example.com/", []byte("A"), 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(ctx, "GET https://example.com/", []byte("B"), 0); err != nil {
		t.Fatal(err)
	}
	ok, release, err := a.TryLease(ctx, "GET https://example.com/", time.Minute)
	if err != nil || !ok {
		t.Fatalf("TryLease: %v, %v", ok, err)
	}
	defer release()
	keys, err := admin.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	want := []string{"a:d:GET https://example.com/", "a:l:GET https://example.com/", "b:d:GET https://example.com/"}
	if !slices.Equal(keys, want) {
		t.Errorf("Redis keys %q, want %q", keys, want)
	}
	var listed []string
	if err := a.Keys(ctx, "", func(k string) bool { listed = append(listed, k); return true }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(listed, []string{"GET https://example.com/"}) {
		t.Errorf("a.Keys(\"\") = %q: want only a's entry, not its lease or b's entry", listed)
	}
	if v, err := b.Get(ctx, "GET https://example.com/"); err != nil || string(v) != "B" {
		t.Errorf("b.Get = %q, %v", v, err)
	}
}

// TestKeysManyPages walks more keys than one SCAN page holds while fn
// deletes them.
func TestKeysManyPages(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	s := newStore(t, srv, Options{})
	const n = 5 * scanCount
	pipe := s.c.Pipeline()
	for i := range n {
		pipe.Set(ctx, s.prefix+"page/"+strconv.Itoa(i), "v", 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	err := s.Keys(ctx, "page/", func(k string) bool {
		seen[k]++
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Errorf("Keys passed %d distinct keys, want %d", len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("Keys passed %q %d times", k, c)
		}
	}
}
