package storetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notmod/notmod/store"
)

// LiveBytes is the most bytes of keys and values that Run keeps in one
// store at any one time. A size-bounded backend must hold this much (plus
// its own per-entry overhead for [LiveEntries] entries) without evicting.
const LiveBytes = 2 << 20

// LiveEntries is the most entries that Run keeps in one store at any one
// time.
const LiveEntries = 10_100

// Options tells [Run] what a backend can do. The zero value runs every test
// except the ones that need time to pass.
type Options struct {
	// Advance, when not nil, moves forward by d the clock that every store
	// returned by newStore reads to decide expiry. Run calls it only from
	// the test's goroutine, between store operations. When nil, the tests
	// that need an entry's ttl to pass are skipped.
	Advance func(d time.Duration)
}

// Run runs the conformance suite as subtests of t. It calls newStore once
// for each subtest, which should return an empty store; newStore may call
// t.Cleanup to release it. The package documentation lists what the suite
// demands.
func Run(t *testing.T, newStore func(t *testing.T) store.Store, o Options) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store, o Options)
	}{
		{"GetMissing", testGetMissing},
		{"RoundTrip", testRoundTrip},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"ReturnedValueStable", testReturnedValueStable},
		{"Expiry", testExpiry},
		{"NoExpiry", testNoExpiry},
		{"ManyKeys", testManyKeys},
		{"Concurrent", testConcurrent},
		{"Ranger", testRanger},
		{"CancelledContext", testCancelledContext},
		{"StreamRoundTrip", testStreamRoundTrip},
		{"StreamAbort", testStreamAbort},
		{"StreamWhole", testStreamWhole},
		{"StreamReaderChanged", testStreamReaderChanged},
		{"StreamExpire", testStreamExpire},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newStore(t), o)
		})
	}
}

func testGetMissing(t *testing.T, s store.Store, _ Options) {
	for _, key := range []string{"storetest/missing", "", "storetest/missing/\x00\xff"} {
		wantMissing(t, s, key)
	}
	// A key that is a prefix of a stored key, or has a stored key as its
	// prefix, is still missing.
	mustSet(t, s, "storetest/missing/ab", []byte("v"), 0)
	wantMissing(t, s, "storetest/missing/a")
	wantMissing(t, s, "storetest/missing/abc")
}

func testRoundTrip(t *testing.T, s store.Store, _ Options) {
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	values := map[string][]byte{
		"nil":          nil,
		"empty":        {},
		"one zero":     {0},
		"all bytes":    allBytes,
		"invalid utf8": []byte("\xff\xfe\xc3\x28 \r\n\x00"),
		"1 MiB":        randomBytes(1<<20, 1),
	}
	keys := map[string]string{
		"plain":   "storetest/roundtrip/plain",
		"empty":   "",
		"binary":  "storetest/roundtrip/\x00\x01\xff\n\r\t ",
		"utf8":    "storetest/roundtrip/ключ/键",
		"glob":    "storetest/roundtrip/*?[a-z]\\",
		"1 KiB":   "storetest/roundtrip/" + strings.Repeat("k", 1024-len("storetest/roundtrip/")),
		"spaces":  " storetest roundtrip ",
		"percent": "storetest/roundtrip/%s%d%%",
	}
	for vname, value := range values {
		t.Run("value="+vname, func(t *testing.T) {
			key := "storetest/roundtrip/value/" + vname
			want := bytes.Clone(value)
			mustSet(t, s, key, value, 0)
			wantValue(t, s, key, want)
			// A second Get returns the same bytes.
			wantValue(t, s, key, want)
			mustDelete(t, s, key)
		})
	}
	for kname, key := range keys {
		t.Run("key="+kname, func(t *testing.T) {
			value := []byte("value of " + kname)
			mustSet(t, s, key, value, 0)
			wantValue(t, s, key, value)
		})
	}
	// Every key still holds its own value: none overwrote another.
	for kname, key := range keys {
		wantValue(t, s, key, []byte("value of "+kname))
	}
}

func testOverwrite(t *testing.T, s store.Store, _ Options) {
	const key = "storetest/overwrite"
	steps := [][]byte{
		[]byte("first"),
		[]byte("a longer second value"),
		[]byte("3rd"),
		{},
		randomBytes(64<<10, 2),
		[]byte("last"),
	}
	for i, v := range steps {
		mustSet(t, s, key, v, 0)
		if got, err := s.Get(t.Context(), key); err != nil || !bytes.Equal(got, v) {
			t.Fatalf("step %d: Get after overwrite: %s", i, describe(got, err, v))
		}
	}
	// An overwrite of one key leaves a neighbour alone.
	mustSet(t, s, key+"/other", []byte("other"), 0)
	mustSet(t, s, key, []byte("again"), 0)
	wantValue(t, s, key+"/other", []byte("other"))
	wantValue(t, s, key, []byte("again"))
}

func testDelete(t *testing.T, s store.Store, _ Options) {
	const key = "storetest/delete"
	mustSet(t, s, key, []byte("doomed"), 0)
	mustSet(t, s, key+"/kept", []byte("kept"), 0)
	mustDelete(t, s, key)
	wantMissing(t, s, key)
	wantValue(t, s, key+"/kept", []byte("kept"))

	// Deleting a key twice, or one that never existed, is not an error.
	mustDelete(t, s, key)
	mustDelete(t, s, "storetest/delete/never-set")
	mustDelete(t, s, "")

	// A deleted key can be set again.
	mustSet(t, s, key, []byte("reborn"), 0)
	wantValue(t, s, key, []byte("reborn"))
}

// testReturnedValueStable checks the promise that a slice returned by Get
// stays unchanged after the key is overwritten or deleted.
func testReturnedValueStable(t *testing.T, s store.Store, _ Options) {
	const key = "storetest/stable"
	first := randomBytes(4096, 3)
	want := bytes.Clone(first)
	mustSet(t, s, key, first, 0)
	got, err := s.Get(t.Context(), key)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Get: %s", describe(got, err, want))
	}
	check := func(after string) {
		t.Helper()
		if !bytes.Equal(got, want) {
			t.Fatalf("slice returned by Get changed after %s: %s", after, describe(got, nil, want))
		}
	}
	// Same length, so a backend reusing the buffer in place would show.
	mustSet(t, s, key, randomBytes(4096, 4), 0)
	check("an overwrite of the same length")
	mustSet(t, s, key, randomBytes(100, 5), 0)
	check("a shorter overwrite")
	mustDelete(t, s, key)
	check("a delete")
	for i := range 64 {
		mustSet(t, s, fmt.Sprintf("%s/%d", key, i), randomBytes(4096, uint64(6+i)), 0)
	}
	mustSet(t, s, key, randomBytes(4096, 99), 0)
	check("other writes and a new value under the key")
}

func testExpiry(t *testing.T, s store.Store, o Options) {
	if o.Advance == nil {
		t.Skip("storetest: Options.Advance is nil, so the store's clock cannot be moved; skipping the tests that wait for a ttl to pass")
	}
	v1, v2 := []byte("one"), []byte("two")
	tests := map[string]func(t *testing.T, key string){
		"value expires after its ttl": func(t *testing.T, key string) {
			mustSet(t, s, key, v1, 10*time.Second)
			wantValue(t, s, key, v1)
			o.Advance(9 * time.Second)
			wantValue(t, s, key, v1)
			o.Advance(2 * time.Second)
			wantMissing(t, s, key)
		},
		"overwrite restarts the ttl": func(t *testing.T, key string) {
			mustSet(t, s, key, v1, 10*time.Second)
			o.Advance(6 * time.Second)
			mustSet(t, s, key, v2, 10*time.Second)
			o.Advance(6 * time.Second)
			wantValue(t, s, key, v2)
			o.Advance(5 * time.Second)
			wantMissing(t, s, key)
		},
		"overwrite without ttl removes the expiry": func(t *testing.T, key string) {
			mustSet(t, s, key, v1, 10*time.Second)
			mustSet(t, s, key, v2, 0)
			o.Advance(24 * time.Hour)
			wantValue(t, s, key, v2)
		},
		"overwrite with a ttl adds an expiry": func(t *testing.T, key string) {
			mustSet(t, s, key, v1, 0)
			mustSet(t, s, key, v2, 10*time.Second)
			o.Advance(11 * time.Second)
			wantMissing(t, s, key)
		},
		"overwrite with a shorter ttl shortens it": func(t *testing.T, key string) {
			mustSet(t, s, key, v1, time.Hour)
			mustSet(t, s, key, v2, 10*time.Second)
			o.Advance(11 * time.Second)
			wantMissing(t, s, key)
		},
		"expired key can be set again": func(t *testing.T, key string) {
			mustSet(t, s, key, v1, 10*time.Second)
			o.Advance(11 * time.Second)
			wantMissing(t, s, key)
			mustSet(t, s, key, v2, 10*time.Second)
			wantValue(t, s, key, v2)
			o.Advance(9 * time.Second)
			wantValue(t, s, key, v2)
		},
		"delete of an expired key is not an error": func(t *testing.T, key string) {
			mustSet(t, s, key, v1, 10*time.Second)
			o.Advance(11 * time.Second)
			mustDelete(t, s, key)
			wantMissing(t, s, key)
		},
		"each key has its own ttl": func(t *testing.T, key string) {
			mustSet(t, s, key+"/short", v1, 10*time.Second)
			mustSet(t, s, key+"/long", v2, 20*time.Second)
			mustSet(t, s, key+"/none", v2, 0)
			o.Advance(15 * time.Second)
			wantMissing(t, s, key+"/short")
			wantValue(t, s, key+"/long", v2)
			o.Advance(10 * time.Second)
			wantMissing(t, s, key+"/long")
			wantValue(t, s, key+"/none", v2)
		},
		"ttl beyond a year": func(t *testing.T, key string) {
			mustSet(t, s, key, v1, 400*24*time.Hour)
			o.Advance(399 * 24 * time.Hour)
			wantValue(t, s, key, v1)
			o.Advance(2 * 24 * time.Hour)
			wantMissing(t, s, key)
		},
	}
	for name, run := range tests {
		t.Run(name, func(t *testing.T) {
			run(t, "storetest/expiry/"+name)
		})
	}
}

func testNoExpiry(t *testing.T, s store.Store, o Options) {
	ttls := map[string]time.Duration{
		"zero":     0,
		"negative": -time.Second,
		"min":      time.Duration(-1 << 63),
	}
	for name, ttl := range ttls {
		mustSet(t, s, "storetest/noexpiry/"+name, []byte(name), ttl)
	}
	if o.Advance != nil {
		o.Advance(10 * 365 * 24 * time.Hour)
	}
	for name := range ttls {
		wantValue(t, s, "storetest/noexpiry/"+name, []byte(name))
	}
}

func testManyKeys(t *testing.T, s store.Store, _ Options) {
	n := 10_000
	if testing.Short() {
		n = 2_000
	}
	key := func(i int) string { return fmt.Sprintf("storetest/many/%05d", i) }
	for i := range n {
		mustSet(t, s, key(i), sealed(key(i), uint64(i), i%64), 0)
	}
	for i := range n {
		got, err := s.Get(t.Context(), key(i))
		if err != nil {
			t.Fatalf("Get(%q): %v", key(i), err)
		}
		if seq, err := unseal(key(i), got); err != nil || seq != uint64(i) {
			t.Fatalf("Get(%q): seq %d, err %v; want seq %d", key(i), seq, err, i)
		}
	}
	for i := 0; i < n; i += 2 {
		mustDelete(t, s, key(i))
	}
	for i := range n {
		_, err := s.Get(t.Context(), key(i))
		switch {
		case i%2 == 0 && !errors.Is(err, store.ErrNotFound):
			t.Fatalf("Get(%q) after Delete: err %v, want store.ErrNotFound", key(i), err)
		case i%2 == 1 && err != nil:
			t.Fatalf("Get(%q): %v", key(i), err)
		}
	}
	if r, ok := s.(store.Ranger); ok {
		var odd []string
		for i := 1; i < n; i += 2 {
			odd = append(odd, key(i))
		}
		wantKeys(t, r, "storetest/many/", odd)
	}
}

// testConcurrent runs goroutines that Set, Get and Delete a few shared keys
// and one private key each. Every value is sealed: it names its key and
// ends in a checksum, so a torn or mixed value is caught. Slices returned by
// Get are checked again once all goroutines are done, since the store
// promised they would not change.
func testConcurrent(t *testing.T, s store.Store, _ Options) {
	const (
		goroutines = 8
		sharedKeys = 16
		kept       = 32
	)
	ops := 2_000
	if testing.Short() {
		ops = 300
	}
	type keptValue struct {
		key   string
		value []byte
		want  []byte
	}
	keptValues := make([][]keptValue, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			private := fmt.Sprintf("storetest/concurrent/private/%d", g)
			ctx := t.Context()
			for i := range ops {
				seq := uint64(g)<<32 | uint64(i)
				key := fmt.Sprintf("storetest/concurrent/shared/%02d", rng.IntN(sharedKeys))
				switch op := rng.IntN(10); {
				case op < 5:
					got, err := s.Get(ctx, key)
					if errors.Is(err, store.ErrNotFound) {
						continue
					}
					if err != nil {
						t.Errorf("goroutine %d: Get(%q): %v", g, key, err)
						return
					}
					if _, err := unseal(key, got); err != nil {
						t.Errorf("goroutine %d: Get(%q): %v", g, key, err)
						return
					}
					if len(keptValues[g]) < kept {
						keptValues[g] = append(keptValues[g], keptValue{key, got, bytes.Clone(got)})
					}
				case op < 8:
					if err := s.Set(ctx, key, sealed(key, seq, rng.IntN(1024)), 0); err != nil {
						t.Errorf("goroutine %d: Set(%q): %v", g, key, err)
						return
					}
				case op < 9:
					if err := s.Delete(ctx, key); err != nil {
						t.Errorf("goroutine %d: Delete(%q): %v", g, key, err)
						return
					}
				default:
					// Nobody else writes the private key, so a Get
					// right after a Set must see exactly that write.
					want := sealed(private, seq, rng.IntN(1024))
					if err := s.Set(ctx, private, bytes.Clone(want), 0); err != nil {
						t.Errorf("goroutine %d: Set(%q): %v", g, private, err)
						return
					}
					got, err := s.Get(ctx, private)
					if err != nil || !bytes.Equal(got, want) {
						t.Errorf("goroutine %d: Get(%q) after own Set: %s", g, private, describe(got, err, want))
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for g, values := range keptValues {
		for _, kv := range values {
			if !bytes.Equal(kv.value, kv.want) {
				t.Errorf("goroutine %d: slice returned by Get(%q) changed later: %s", g, kv.key, describe(kv.value, nil, kv.want))
			}
		}
	}
	// Every shared key that is present still holds a sound value.
	for i := range sharedKeys {
		key := fmt.Sprintf("storetest/concurrent/shared/%02d", i)
		got, err := s.Get(t.Context(), key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			t.Errorf("Get(%q): %v", key, err)
			continue
		}
		if _, err := unseal(key, got); err != nil {
			t.Errorf("Get(%q) after the goroutines: %v", key, err)
		}
	}
}

func testRanger(t *testing.T, s store.Store, _ Options) {
	r, ok := s.(store.Ranger)
	if !ok {
		t.Skip("storetest: the store does not implement store.Ranger")
	}
	keys := []string{
		"storetest/ranger/",
		"storetest/ranger/a",
		"storetest/ranger/a/b",
		"storetest/ranger/a*b",
		"storetest/ranger/a?b",
		"storetest/ranger/[a]",
		"storetest/ranger/\x00\xff",
		"storetest/rangerX",
		"storetest/range",
		"x/storetest/ranger/a",
		"STORETEST/RANGER/A",
	}
	for _, k := range keys {
		mustSet(t, s, k, []byte(k), 0)
	}
	matching := func(prefix string) []string {
		var want []string
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		return want
	}
	prefixes := map[string]string{
		"directory":              "storetest/ranger/",
		"whole key":              "storetest/ranger/a/b",
		"star is plain":          "storetest/ranger/a*",
		"question mark is plain": "storetest/ranger/a?",
		"bracket is plain":       "storetest/ranger/[",
		"binary":                 "storetest/ranger/\x00",
		"no separator":           "storetest/ranger",
		"case sensitive":         "STORETEST/",
		"no match":               "storetest/nothing/",
	}
	for name, prefix := range prefixes {
		t.Run(name, func(t *testing.T) {
			wantKeys(t, r, prefix, matching(prefix))
		})
	}

	t.Run("empty prefix lists every key", func(t *testing.T) {
		seen := map[string]int{}
		if err := r.Keys(t.Context(), "", func(k string) bool { seen[k]++; return true }); err != nil {
			t.Fatalf("Keys: %v", err)
		}
		for _, k := range keys {
			if seen[k] != 1 {
				t.Errorf("Keys(\"\") passed %q %d times, want once", k, seen[k])
			}
		}
	})

	t.Run("stops when fn returns false", func(t *testing.T) {
		calls := 0
		err := r.Keys(t.Context(), "storetest/ranger/", func(string) bool { calls++; return false })
		if err != nil {
			t.Fatalf("Keys: %v", err)
		}
		if calls != 1 {
			t.Errorf("fn called %d times after returning false, want 1", calls)
		}
	})

	t.Run("deleted and overwritten keys", func(t *testing.T) {
		mustDelete(t, s, "storetest/ranger/a/b")
		mustSet(t, s, "storetest/ranger/a", []byte("new"), 0)
		var want []string
		for _, k := range matching("storetest/ranger/") {
			if k != "storetest/ranger/a/b" {
				want = append(want, k)
			}
		}
		wantKeys(t, r, "storetest/ranger/", want)
	})

	t.Run("fn may delete the key it is given", func(t *testing.T) {
		ctx := t.Context()
		for i := range 200 {
			mustSet(t, s, fmt.Sprintf("storetest/purge/%03d", i), []byte("v"), 0)
		}
		mustSet(t, s, "storetest/purgeX", []byte("kept"), 0)
		var purged int
		var delErr error
		err := r.Keys(ctx, "storetest/purge/", func(k string) bool {
			if delErr = s.Delete(ctx, k); delErr != nil {
				return false
			}
			purged++
			return true
		})
		if err != nil || delErr != nil {
			t.Fatalf("Keys: %v; Delete: %v", err, delErr)
		}
		if purged != 200 {
			t.Errorf("purged %d keys, want 200", purged)
		}
		wantKeys(t, r, "storetest/purge/", nil)
		wantValue(t, s, "storetest/purgeX", []byte("kept"))
	})
}

func testCancelledContext(t *testing.T, s store.Store, _ Options) {
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	v1, v2 := []byte("old"), []byte("new")

	t.Run("Get of a present key", func(t *testing.T) {
		const key = "storetest/cancelled/get"
		mustSet(t, s, key, v1, 0)
		got, err := s.Get(cancelled, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			t.Errorf("Get with a cancelled context reported a present key missing: %v", err)
		case err == nil && !bytes.Equal(got, v1):
			t.Errorf("Get with a cancelled context: %s", describe(got, err, v1))
		}
	})

	t.Run("Get of a missing key", func(t *testing.T) {
		got, err := s.Get(cancelled, "storetest/cancelled/missing")
		if err == nil {
			t.Errorf("Get of a missing key with a cancelled context returned %q and no error", got)
		}
	})

	t.Run("Set", func(t *testing.T) {
		const key = "storetest/cancelled/set"
		mustSet(t, s, key, v1, 0)
		err := s.Set(cancelled, key, bytes.Clone(v2), 0)
		got, gerr := s.Get(t.Context(), key)
		switch {
		case err == nil && (gerr != nil || !bytes.Equal(got, v2)):
			t.Errorf("Set with a cancelled context returned nil, then Get: %s", describe(got, gerr, v2))
		case err != nil && gerr == nil && !bytes.Equal(got, v1) && !bytes.Equal(got, v2):
			t.Errorf("Set with a cancelled context failed (%v) and left %q, want %q, %q or nothing", err, got, v1, v2)
		case err != nil && gerr != nil && !errors.Is(gerr, store.ErrNotFound):
			t.Errorf("Get after a failed Set: %v", gerr)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		const key = "storetest/cancelled/delete"
		mustSet(t, s, key, v1, 0)
		err := s.Delete(cancelled, key)
		got, gerr := s.Get(t.Context(), key)
		switch {
		case err == nil && !errors.Is(gerr, store.ErrNotFound):
			t.Errorf("Delete with a cancelled context returned nil, then Get: %s", describe(got, gerr, nil))
		case err != nil && gerr == nil && !bytes.Equal(got, v1):
			t.Errorf("Delete with a cancelled context failed (%v) and left %q, want %q or nothing", err, got, v1)
		case err != nil && gerr != nil && !errors.Is(gerr, store.ErrNotFound):
			t.Errorf("Get after a failed Delete: %v", gerr)
		}
	})

	t.Run("Keys", func(t *testing.T) {
		r, ok := s.(store.Ranger)
		if !ok {
			t.Skip("storetest: the store does not implement store.Ranger")
		}
		var want []string
		for i := range 50 {
			k := fmt.Sprintf("storetest/cancelled/keys/%02d", i)
			mustSet(t, s, k, v1, 0)
			want = append(want, k)
		}
		mustSet(t, s, "storetest/cancelled/keysX", v1, 0)
		var got []string
		err := r.Keys(cancelled, "storetest/cancelled/keys/", func(k string) bool {
			got = append(got, k)
			return true
		})
		for _, k := range got {
			if !slices.Contains(want, k) {
				t.Errorf("Keys with a cancelled context passed %q, which does not match or does not exist", k)
			}
		}
		if err == nil {
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("Keys with a cancelled context returned nil after passing %d keys, want all %d", len(got), len(want))
			}
		}
	})
}

// mustSet stores value under key or fails the test.
func mustSet(t *testing.T, s store.Store, key string, value []byte, ttl time.Duration) {
	t.Helper()
	if err := s.Set(t.Context(), key, value, ttl); err != nil {
		t.Fatalf("Set(%q, %d bytes, %v): %v", key, len(value), ttl, err)
	}
}

// mustDelete deletes key or fails the test.
func mustDelete(t *testing.T, s store.Store, key string) {
	t.Helper()
	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete(%q): %v", key, err)
	}
}

// wantValue fails the test unless key holds want.
func wantValue(t *testing.T, s store.Store, key string, want []byte) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Get(%q): %s", key, describe(got, err, want))
	}
}

// wantMissing fails the test unless Get of key returns store.ErrNotFound.
func wantMissing(t *testing.T, s store.Store, key string) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%q) = %d bytes, %v; want store.ErrNotFound", key, len(got), err)
	}
}

// wantKeys fails the test unless Keys passes exactly want, each once.
func wantKeys(t *testing.T, r store.Ranger, prefix string, want []string) {
	t.Helper()
	var got []string
	if err := r.Keys(t.Context(), prefix, func(k string) bool {
		got = append(got, k)
		return true
	}); err != nil {
		t.Fatalf("Keys(%q): %v", prefix, err)
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("Keys(%q) passed %q, want %q", prefix, got, want)
	}
}

// describe explains how a Get result differs from want without printing
// large values whole.
func describe(got []byte, err error, want []byte) string {
	if err != nil {
		return fmt.Sprintf("error %v, want %d bytes", err, len(want))
	}
	if len(got) != len(want) {
		return fmt.Sprintf("got %d bytes, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("byte %d of %d is %#02x, want %#02x", i, len(got), got[i], want[i])
		}
	}
	return "values are equal"
}

// randomBytes returns n bytes drawn from a generator seeded with seed, so
// a failure can be reproduced.
func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], rng.Uint64())
		copy(b[i:], w[:])
	}
	return b
}

// sealed returns a value that names key and seq, carries size bytes of
// filler derived from seq, and ends in a CRC-32 of everything before it, so
// that [unseal] catches a value that is torn, mixed with another or stored
// under another key.
func sealed(key string, seq uint64, size int) []byte {
	b := make([]byte, 0, 2*binary.MaxVarintLen64+len(key)+size+4)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, seq)
	for i := range size {
		b = append(b, byte(seq*0x9e3779b97f4a7c15>>56)^byte(i*131))
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// unseal checks a value made by [sealed] for key and returns its seq.
func unseal(key string, v []byte) (uint64, error) {
	if len(v) < 4 {
		return 0, fmt.Errorf("value of %d bytes is too short to be sealed", len(v))
	}
	body, sum := v[:len(v)-4], binary.BigEndian.Uint32(v[len(v)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return 0, fmt.Errorf("value of %d bytes fails its checksum: torn or mixed", len(v))
	}
	n, w := binary.Uvarint(body)
	if w <= 0 || uint64(len(body)-w) < n {
		return 0, errors.New("sealed value has a bad key length")
	}
	if got := string(body[w : w+int(n)]); got != key {
		return 0, fmt.Errorf("value sealed for key %q found under %q", got, key)
	}
	seq, w2 := binary.Uvarint(body[w+int(n):])
	if w2 <= 0 {
		return 0, errors.New("sealed value has a bad seq")
	}
	return seq, nil
}
