package proxy_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/proxy"
	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/disk"
	"github.com/notmod/notmod/store/memory"
	"github.com/notmod/notmod/store/tier"
)

// BenchmarkStreamLarge measures the memory the proxy needs to store and
// to serve large content, over loopback sockets, in one process with its
// origin and client:
//
//	go test -run '^$' -bench StreamLarge -benchtime 3x -benchmem ./proxy
//
// disk is notmod serve -store disk: a memory tier in front of a disk
// store, content past 1 MiB streamed; memory is the memory store, which
// holds content whole. store fetches a new URL each time (a miss, stored);
// hit serves a stored one. peak-heap-B is the most heap in use above the
// level before the loop, sampled every millisecond: with streaming it
// does not grow with the content's size (memory/store keeps every
// response it stores in the heap, so its peak adds up over the loop).
// B/op counts every allocation, garbage included: storing on disk, it is
// dominated by the page buffers bbolt allocates at each commit (one per
// 64 KiB chunk); serving from disk, by the read transaction of each
// chunk, about 0.8 KB per 64 KiB; all of it collected as it goes.
func BenchmarkStreamLarge(b *testing.B) {
	for _, st := range []string{"disk", "memory"} {
		for _, op := range []string{"store", "hit"} {
			for _, size := range []int{8 << 20, 32 << 20} {
				name := st + "/" + op + "/" + strconv.Itoa(size>>20) + "MiB"
				b.Run(name, func(b *testing.B) { benchStreamLarge(b, st, op, size) })
			}
		}
	}
}

func benchStreamLarge(b *testing.B, kind, op string, size int) {
	// The origin repeats a block, so that the process holds no copy of
	// the content but the cache's.
	block := make([]byte, 64<<10)
	for i := range block {
		block[i] = byte(i * 7)
	}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for n := 0; n < size; n += len(block) {
			if _, err := w.Write(block[:min(len(block), size-n)]); err != nil {
				return
			}
		}
	}))
	defer origin.Close()

	mem := memory.Must(memory.Options{MaxBytes: 256 << 20})
	var st store.Store = mem
	if kind == "disk" {
		d, err := disk.New(disk.Options{Path: filepath.Join(b.TempDir(), "cache.db"), MaxBytes: 4 << 30, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		if st, err = tier.New(tier.Options{Front: mem, Back: d, FrontTTL: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
	c := httpcache.Must(httpcache.Options{Store: st, MaxObjectSize: 64 << 20})
	u, _ := url.Parse(origin.URL)
	p, err := proxy.New(proxy.Options{Origin: u, Cache: c})
	if err != nil {
		b.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	get := func(path string) {
		resp, err := client.Get(front.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != int64(size) {
			b.Fatalf("GET %s: %d bytes, %v", path, n, err)
		}
	}
	if op == "hit" {
		get("/big")
	}

	var peak peakHeap
	peak.start()
	i := 0
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		path := "/big"
		if op == "store" {
			i++
			path = "/big?" + strconv.Itoa(i)
		}
		get(path)
	}
	b.ReportMetric(float64(peak.stop()), "peak-heap-B")
}

// peakHeap samples the heap in use (live and not yet collected objects)
// every millisecond, and keeps the most above the level at start.
type peakHeap struct {
	done chan struct{}
	wg   sync.WaitGroup
	base uint64
	max  uint64
}

const heapObjects = "/memory/classes/heap/objects:bytes"

func heapInUse() uint64 {
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func (p *peakHeap) start() {
	runtime.GC()
	p.base, p.max = heapInUse(), 0
	p.done = make(chan struct{})
	p.wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				p.max = max(p.max, heapInUse())
			}
		}
	})
}

// stop ends the sampling and returns the peak above the level at start.
func (p *peakHeap) stop() uint64 {
	close(p.done)
	p.wg.Wait()
	if p.max < p.base {
		return 0
	}
	return p.max - p.base
}
