package disk

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/memory"
)

var benchSizes = []struct {
	name string
	size int
}{
	{"1KiB", 1 << 10},
	{"100KiB", 100 << 10},
}

func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("GET https://example.com/bench/%06d", i)
	}
	return keys
}

// BenchmarkGet measures hits on 256 keys, from the disk store and, for
// comparison in the same run, from the memory store.
func BenchmarkGet(b *testing.B) {
	for _, sz := range benchSizes {
		backends := map[string]func(b *testing.B) store.Store{
			"disk":   func(b *testing.B) store.Store { return open(b, tempPath(b), Options{}) },
			"memory": func(b *testing.B) store.Store { return memory.Must(memory.Options{}) },
		}
		for name, newStore := range backends {
			b.Run(name+"/"+sz.name, func(b *testing.B) {
				s := newStore(b)
				ctx := context.Background()
				keys := benchKeys(256)
				for _, k := range keys {
					if err := s.Set(ctx, k, make([]byte, sz.size), 0); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(sz.size))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, err := s.Get(ctx, keys[i%len(keys)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run(name+"/"+sz.name+"/parallel", func(b *testing.B) {
				s := newStore(b)
				ctx := context.Background()
				keys := benchKeys(256)
				for _, k := range keys {
					if err := s.Set(ctx, k, make([]byte, sz.size), 0); err != nil {
						b.Fatal(err)
					}
				}
				b.SetBytes(int64(sz.size))
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						if _, err := s.Get(ctx, keys[i%len(keys)]); err != nil {
							b.Error(err)
							return
						}
						i++
					}
				})
			})
		}
	}
}

// BenchmarkSet measures writes, each returning once it is on disk: one
// writer at a time, and 16 writers at once, whose writes share commits.
func BenchmarkSet(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			s := open(b, tempPath(b), Options{})
			ctx := context.Background()
			keys := benchKeys(1024)
			value := make([]byte, sz.size)
			b.SetBytes(int64(sz.size))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := s.Set(ctx, keys[i%len(keys)], value, time.Hour); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(sz.name+"/parallel16", func(b *testing.B) {
			s := open(b, tempPath(b), Options{})
			ctx := context.Background()
			keys := benchKeys(1024)
			value := make([]byte, sz.size)
			b.SetBytes(int64(sz.size))
			b.ReportAllocs()
			b.SetParallelism(8) // 8 × GOMAXPROCS goroutines
			var next atomicCounter
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.Set(ctx, keys[next.add()%len(keys)], value, time.Hour); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkOverhead writes b.N entries of a known size to a new store, in
// the random key order of a real cache, and reports the file space each
// takes beyond its key and value (overhead-B/entry, from the pages in
// use), the same figure as [Weight] estimates it (weight-B/entry), and
// the file's size per entry (file-B/entry, which bbolt grows ahead of
// use).
func BenchmarkOverhead(b *testing.B) {
	for _, size := range []int{0, 100, 1 << 10, 4 << 10, 10 << 10, 100 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("value=%d", size), func(b *testing.B) {
			path := tempPath(b)
			s := open(b, path, Options{MaxBytes: 1 << 50})
			ctx := context.Background()
			value := make([]byte, size)
			rng := rand.New(rand.NewPCG(1, 2))
			used0 := usedBytes(b, s)
			keyLen := 0
			i := 0
			for b.Loop() {
				key := fmt.Sprintf("GET https://example.com/overhead/%016x", rng.Uint64())
				keyLen = len(key)
				if err := s.Set(ctx, key, value, time.Hour); err != nil {
					b.Fatal(err)
				}
				i++
			}
			used := usedBytes(b, s)
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			payload := float64(keyLen + size)
			b.ReportMetric(float64(used-used0)/float64(i)-payload, "overhead-B/entry")
			b.ReportMetric(float64(Weight(keyLen, int64(size)))-payload, "weight-B/entry")
			b.ReportMetric(float64(fi.Size())/float64(i), "file-B/entry")
		})
	}
}

// usedBytes returns the bytes of the file's pages in use: its high-water
// mark less its free pages.
func usedBytes(b *testing.B, s *Store) int64 {
	b.Helper()
	var used int64
	err := s.db.View(func(tx *bolt.Tx) error {
		used = tx.Size()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	st := s.db.Stats()
	return used - int64(st.FreePageN+st.PendingPageN)*int64(s.db.Info().PageSize)
}

// atomicCounter hands out 0, 1, 2, ... to concurrent callers.
type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) add() int { return int(c.n.Add(1) - 1) }
