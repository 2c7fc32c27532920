// Package metrics exports what notmod's cache decides as Prometheus
// metrics. It is the only package that imports the Prometheus client.
package metrics

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/notmod/notmod/httpcache"
)

// Sizer is implemented by stores that can tell how many objects and bytes
// they hold, such as store/memory.
type Sizer interface {
	Len() int
	Bytes() int64
}

// Metrics holds the cache's collectors in their own registry. Observe is
// safe for concurrent use.
type Metrics struct {
	reg          *prometheus.Registry
	responses    *prometheus.CounterVec
	hits         prometheus.Counter // responses{result="hit",fwd_status=""}, resolved once
	notModified  prometheus.Counter
	staleServed  prometheus.Counter
	revalidated  prometheus.Counter
	notStored    *prometheus.CounterVec
	bytesSaved   prometheus.Counter
	storeErrors  prometheus.Counter
	invalidation prometheus.Counter
	sharedUp     prometheus.Gauge
}

// New returns metrics registered in a fresh registry, with Go runtime and
// process collectors; size, when not nil, reports the store's contents.
func New(size Sizer) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notmod_cache_responses_total",
			Help: "Responses by what the cache did: hit, or the fwd reason of RFC 9211, with the origin's status class.",
		}, []string{"result", "fwd_status"}),
		notModified: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notmod_cache_not_modified_total",
			Help: "304 responses the cache sent to clients from what it stored.",
		}),
		staleServed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notmod_cache_stale_served_total",
			Help: "Stale responses served (stale-while-revalidate, stale-if-error, unreachable origin).",
		}),
		revalidated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notmod_cache_revalidated_total",
			Help: "Stored responses refreshed by a 304 from the origin.",
		}),
		notStored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notmod_cache_not_stored_total",
			Help: "Origin responses not stored, by reason.",
		}, []string{"reason"}),
		bytesSaved: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notmod_cache_origin_bytes_saved_total",
			Help: "Content bytes served from the cache or kept by a revalidation instead of fetched from the origin.",
		}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notmod_store_errors_total",
			Help: "Store operations that failed.",
		}),
		invalidation: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notmod_cache_invalidations_total",
			Help: "Invalidations by unsafe methods and purges.",
		}),
	}
	m.sharedUp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "notmod_shared_store_up",
		Help: "1 while the shared or persistent store answers, 0 while the cache runs without it.",
	})
	m.sharedUp.Set(1)
	m.reg.MustRegister(m.sharedUp, m.responses, m.notModified, m.staleServed, m.revalidated, m.notStored,
		m.bytesSaved, m.storeErrors, m.invalidation,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if size != nil {
		m.reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "notmod_store_objects", Help: "Objects in the store."},
				func() float64 { return float64(size.Len()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "notmod_store_bytes", Help: "Bytes held by the store."},
				func() float64 { return float64(size.Bytes()) }),
		)
	}
	m.hits = m.responses.WithLabelValues("hit", "")
	return m
}

// SharedStoreUp records whether the shared (or disk) store answers.
func (m *Metrics) SharedStoreUp(up bool) {
	if up {
		m.sharedUp.Set(1)
	} else {
		m.sharedUp.Set(0)
	}
}

// Registry returns the registry, for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Observe records one event of the cache; pass it as
// httpcache.Options.Observe.
func (m *Metrics) Observe(e httpcache.Event) {
	switch {
	case e.StoreError != nil:
		m.storeErrors.Inc()
		return
	case e.Invalidation:
		m.invalidation.Inc()
		return
	}
	if e.NotStored != httpcache.Storable {
		m.notStored.WithLabelValues(e.NotStored.String()).Inc()
	}
	if e.Revalidated {
		m.revalidated.Inc()
	}
	if e.NotModified {
		m.notModified.Inc()
	}
	if e.ServedStale {
		m.staleServed.Inc()
	}
	if e.BytesSaved > 0 {
		m.bytesSaved.Add(float64(e.BytesSaved))
	}
	if e.Status.Hit && e.Status.FwdStatus == 0 {
		m.hits.Inc()
		return
	}
	result := "hit"
	if !e.Status.Hit {
		result = e.Status.Fwd.String()
		if result == "" {
			result = "other"
		}
	}
	m.responses.WithLabelValues(result, statusClass(e.Status.FwdStatus)).Inc()
}

func statusClass(code int) string {
	if code < 100 || code > 599 {
		return ""
	}
	return strconv.Itoa(code/100) + "xx"
}
