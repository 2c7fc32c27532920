//go:build unix

package redis

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchSizes are the value sizes of the benchmarks: a small API response
// and a page with its assets inlined.
var benchSizes = []int{1 << 10, 100 << 10}

func sizeName(n int) string {
	return strconv.Itoa(n>>10) + "KiB"
}

// BenchmarkGet measures a hit, one goroutine and many, against a local
// redis-server on a unix socket.
func BenchmarkGet(b *testing.B) {
	srv := startServer(b)
	s := newStore(b, srv, Options{})
	ctx := b.Context()
	for _, size := range benchSizes {
		key := "GET https://example.com/bench/" + sizeName(size)
		value := bytes.Repeat([]byte{'x'}, size)
		if err := s.Set(ctx, key, value, time.Hour); err != nil {
			b.Fatal(err)
		}
		b.Run(sizeName(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if v, err := s.Get(ctx, key); err != nil || len(v) != size {
					b.Fatalf("Get: %d bytes, %v", len(v), err)
				}
			}
		})
		b.Run(sizeName(size)+"/parallel", func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if v, err := s.Get(ctx, key); err != nil || len(v) != size {
						b.Errorf("Get: %d bytes, %v", len(v), err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkSet measures a write with a ttl, one goroutine and many.
func BenchmarkSet(b *testing.B) {
	srv := startServer(b)
	s := newStore(b, srv, Options{})
	ctx := b.Context()
	for _, size := range benchSizes {
		key := "GET https://example.com/bench/" + sizeName(size)
		value := bytes.Repeat([]byte{'x'}, size)
		b.Run(sizeName(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Set(ctx, key, value, time.Hour); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(sizeName(size)+"/parallel", func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.Set(ctx, key, value, time.Hour); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkOverhead reports what Redis spends per entry beyond the value's
// bytes, for entries under keys shaped like notmod's (about 50 bytes) with
// a ttl. Each iteration empties the database and stores a batch of
// entries; the figures are from the last batch: by MEMORY USAGE (the key's
// own accounting: key name, object headers, dictionary entry, allocator
// rounding), the same without the key name's bytes, and by the growth of
// used_memory (which adds the expiry table and the hash tables' slack).
func BenchmarkOverhead(b *testing.B) {
	srv := startServer(b)
	admin := srv.admin(0)
	s := newStore(b, srv, Options{})
	ctx := b.Context()
	for _, bc := range []struct {
		size, entries int
	}{{100, 5000}, {1 << 10, 5000}, {100 << 10, 200}} {
		name := strconv.Itoa(bc.size) + "B"
		if bc.size >= 1<<10 {
			name = sizeName(bc.size)
		}
		b.Run(name, func(b *testing.B) {
			value := bytes.Repeat([]byte{'x'}, bc.size)
			key := func(i int) string { return fmt.Sprintf("GET https://example.com/assets/%08d.js", i) }
			var usage, keyBytes, used int64
			for b.Loop() {
				if err := admin.FlushDB(ctx).Err(); err != nil {
					b.Fatal(err)
				}
				before := usedMemory(b, srv)
				for i := range bc.entries {
					if err := s.Set(ctx, key(i), value, time.Hour); err != nil {
						b.Fatal(err)
					}
				}
				used = usedMemory(b, srv) - before
				usage, keyBytes = 0, 0
				for i := range bc.entries {
					u, err := admin.MemoryUsage(ctx, s.prefix+key(i), 0).Result()
					if err != nil {
						b.Fatal(err)
					}
					usage += u
					keyBytes += int64(len(s.prefix + key(i)))
				}
			}
			n := float64(bc.entries)
			b.ReportMetric(float64(usage)/n-float64(bc.size), "usage-B/entry")
			b.ReportMetric(float64(usage-keyBytes)/n-float64(bc.size), "usage-nokey-B/entry")
			b.ReportMetric(float64(used)/n-float64(bc.size), "used_memory-B/entry")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// usedMemory returns the server's used_memory.
func usedMemory(b *testing.B, srv *server) int64 {
	info, err := srv.admin(0).Info(b.Context(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("no used_memory in INFO memory")
	return 0
}
