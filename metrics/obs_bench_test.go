package metrics

import (
	"testing"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/store/memory"
)

// BenchmarkObserveHit measures what a hit costs the metrics:
// go test -run '^$' -bench ObserveHit -benchmem ./metrics
func BenchmarkObserveHit(b *testing.B) {
	m := New(memory.Must(memory.Options{}))
	e := httpcache.Event{Status: httpcache.Status{Hit: true}, BytesSaved: 1024, NotModified: true}
	b.ReportAllocs()
	for b.Loop() {
		m.Observe(e)
	}
}
