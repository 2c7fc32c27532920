package storebench

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/disk"
	"github.com/notmod/notmod/store/memory"
	"github.com/notmod/notmod/store/redis"
)

// startRedis runs a redis-server on a unix socket in a temporary directory
// until the benchmark ends.
func startRedis(b *testing.B) string {
	b.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			b.Fatal("redis-server is not installed")
		}
		b.Skip("redis-server is not installed")
	}
	dir, err := os.MkdirTemp("", "nm-rb")
	if err != nil {
		b.Fatal(err)
	}
	sock := filepath.Join(dir, "r.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700", "--save", "", "--appendonly", "no")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); os.RemoveAll(dir) })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(strings.ToLower(sc.Text()), "ready to accept connections") {
				close(ready)
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		b.Fatal("redis-server did not start")
	}
	return "unix://" + sock
}

func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	backends := map[string]func(b *testing.B) store.Store{
		"memory": func(b *testing.B) store.Store { return memory.Must(memory.Options{}) },
		"disk": func(b *testing.B) store.Store {
			d := disk.Must(disk.Options{Path: filepath.Join(b.TempDir(), "cache.db")})
			b.Cleanup(func() { d.Close() })
			return d
		},
		"redis": func(b *testing.B) store.Store {
			r, err := redis.New(ctx, redis.Options{URL: startRedis(b)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { r.Close() })
			return r
		},
	}
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"100KiB", 100 << 10}} {
		for _, name := range []string{"memory", "disk", "redis"} {
			b.Run(size.name+"/"+name, func(b *testing.B) {
				s := backends[name](b)
				value := make([]byte, size.n)
				if err := s.Set(ctx, "k", value, time.Hour); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.SetBytes(int64(size.n))
				for b.Loop() {
					v, err := s.Get(ctx, "k")
					if err != nil || len(v) != size.n {
						b.Fatalf("Get: %d bytes, %v", len(v), err)
					}
				}
			})
		}
	}
}
