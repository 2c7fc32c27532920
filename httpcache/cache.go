package httpcache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notmod/notmod/cachecontrol"
	"github.com/notmod/notmod/internal/httplex"
	"github.com/notmod/notmod/store"
)

// Defaults for the zero fields of [Options].
const (
	DefaultName              = "notmod"
	DefaultMaxObjectSize     = 16 << 20
	DefaultStreamThreshold   = 1 << 20
	DefaultHeuristicFraction = 0.1
	DefaultMaxHeuristic      = 24 * time.Hour
	DefaultKeepStale         = time.Hour
	DefaultStoreTimeout      = 250 * time.Millisecond
	DefaultLeaseWait         = 5 * time.Second
	DefaultLeasePoll         = 20 * time.Millisecond
)

// Options configures a [Cache]. Every zero field has a working default.
type Options struct {
	// Store keeps the entries. It is required.
	Store store.Store

	// Name identifies this cache in Cache-Status (RFC 9211 §2). Empty
	// means DefaultName.
	Name string

	// Private makes this a private cache (RFC 9111 §1): it stores
	// responses marked private and to requests with Authorization, and
	// ignores s-maxage. The zero value is a shared cache.
	Private bool

	// MaxObjectSize is the largest content stored, in bytes; larger
	// responses pass through unstored. Zero means DefaultMaxObjectSize.
	MaxObjectSize int64

	// HeuristicFraction is the fraction of the time since Last-Modified
	// used as a heuristic freshness lifetime (RFC 9111 §4.2.2), at most
	// MaxHeuristic. Zero means DefaultHeuristicFraction; a negative value
	// disables heuristic freshness.
	HeuristicFraction float64
	MaxHeuristic      time.Duration

	// KeepStale is how long a response with validators is kept after it
	// goes stale, so that it can be revalidated with a 304 rather than
	// fetched again. Zero means DefaultKeepStale.
	KeepStale time.Duration

	// StripSetCookie makes a shared cache store responses that carry
	// Set-Cookie, without the Set-Cookie. By default such responses are
	// not stored, so that no user is given another's cookie.
	StripSetCookie bool

	// TargetedFields lists the targeted cache-control fields this cache
	// obeys in place of Cache-Control, first match wins (RFC 9213). Nil
	// means {"CDN-Cache-Control"}; an empty non-nil slice obeys none.
	TargetedFields []string

	// IgnoreSurrogateControl makes the cache ignore Surrogate-Control
	// (W3C Edge Architecture 1.0). By default a shared cache obeys the
	// Surrogate-Control directives addressed to it, or to every surrogate,
	// in place of Cache-Control, announces itself to the origin with
	// Surrogate-Capability, and removes Surrogate-Control from what it
	// sends to clients.
	IgnoreSurrogateControl bool

	// StoreTimeout bounds the store writes the cache makes (storing,
	// updating, deleting), which outlive the client's request. Reads use
	// the request's context: a store that can be slow bounds its own reads
	// (store/redis and store/tier do). Zero means DefaultStoreTimeout.
	StoreTimeout time.Duration

	// Transport carries the requests the cache makes by itself to the
	// origin: background revalidation (stale-while-revalidate) and the
	// full request that follows a 304 naming no stored response. Nil
	// means those are not made: stale-while-revalidate then serves stale
	// without revalidating, and such a 304 becomes a 502.
	Transport http.RoundTripper

	// Lease, when set, makes one node of a fleet at a time fetch or
	// revalidate a URL: the node that cannot take the lease for key waits
	// until the stored response it needs appears in the shared store
	// (polling every LeasePoll, at most LeaseWait), then goes on. Lease
	// must answer true when it cannot tell (a store that is down), and
	// release must be safe to call once.
	// LeaseWait also bounds how long a request collapsed behind another
	// on this node waits before it goes to the origin itself.
	Lease     func(ctx context.Context, key string) (acquired bool, release func())
	LeaseWait time.Duration // zero means DefaultLeaseWait
	LeasePoll time.Duration // zero means DefaultLeasePoll

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// Logger receives store errors and other events. Nil discards them.
	Logger *slog.Logger

	// Observe, when set, is called once for every response the cache
	// decided about, with its Cache-Status, for metrics. It must be safe
	// for concurrent use and quick.
	Observe func(Event)

	// StreamThreshold is the content length above which a response is
	// stored as a stream, when Store can write streams (see
	// store.StreamerOf; store/disk can): its content is written to the
	// store as it passes to the client, and read back a chunk at a time
	// when served, never held whole in memory. A response whose length is
	// not declared is held in memory until it grows past the threshold,
	// then streamed. MaxObjectSize still bounds what is stored. Zero means
	// DefaultStreamThreshold; a negative value stores every response
	// whole (responses already stored as streams are still served).
	StreamThreshold int64
}

// Event reports one decision of the cache to [Options.Observe].
type Event struct {
	Status       Status
	NotStored    NotStoredReason // when the response was not stored
	Revalidated  bool            // a 304 from the origin refreshed a stored response
	BytesSaved   int64           // content not fetched from the origin thanks to the cache
	StoreError   error           // the store failed
	NotModified  bool            // the client got a 304 from the cache
	ServedStale  bool            // a stale response was served
	Invalidation bool            // stored responses were invalidated
}

// Cache is an HTTP cache (RFC 9111) over a byte-level [store.Store]. It
// decides, for each request, whether a stored response can be used, and
// stores and updates responses from the origin. It holds no connection to
// any server: package proxy and package transport carry requests.
// A Cache is safe for concurrent use.
type Cache struct {
	opts    Options
	mu      sync.Mutex
	flights map[string]*flight
	keys    sync.Pool // of *[]byte, for building keys without allocating
	looks   sync.Pool // of *Lookup
	heads   [headSlots]atomic.Pointer[head]

	// streams is the store as a Streamer, when it streams values; nil
	// otherwise. noStreams is set when it turned out unable to.
	streams   store.Streamer
	noStreams atomic.Bool
}

// New returns a cache with the given options.
func New(o Options) (*Cache, error) {
	if o.Store == nil {
		return nil, errors.New("httpcache: no store")
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if !isSFToken(o.Name) {
		return nil, fmt.Errorf("httpcache: cache name %q is not a token", o.Name)
	}
	if o.MaxObjectSize < 0 || o.KeepStale < 0 || o.MaxHeuristic < 0 || o.StoreTimeout < 0 {
		return nil, errors.New("httpcache: negative size or duration")
	}
	if o.MaxObjectSize == 0 {
		o.MaxObjectSize = DefaultMaxObjectSize
	}
	if o.StreamThreshold == 0 {
		o.StreamThreshold = DefaultStreamThreshold
	}
	if o.HeuristicFraction == 0 {
		o.HeuristicFraction = DefaultHeuristicFraction
	}
	if o.HeuristicFraction < 0 {
		o.HeuristicFraction = 0
	}
	if o.MaxHeuristic == 0 {
		o.MaxHeuristic = DefaultMaxHeuristic
	}
	if o.KeepStale == 0 {
		o.KeepStale = DefaultKeepStale
	}
	if o.TargetedFields == nil {
		o.TargetedFields = []string{"CDN-Cache-Control"}
	}
	for i, f := range o.TargetedFields {
		o.TargetedFields[i] = http.CanonicalHeaderKey(f)
	}
	if o.StoreTimeout == 0 {
		o.StoreTimeout = DefaultStoreTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LeaseWait <= 0 {
		o.LeaseWait = DefaultLeaseWait
	}
	if o.LeasePoll <= 0 {
		o.LeasePoll = DefaultLeasePoll
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Cache{opts: o, flights: map[string]*flight{}}
	c.streams, _ = store.StreamerOf(o.Store)
	return c, nil
}

// Must is like [New] but panics on an error; for options known to be good.
func Must(o Options) *Cache {
	c, err := New(o)
	if err != nil {
		panic(err)
	}
	return c
}

// Name returns the name this cache uses in Cache-Status.
func (c *Cache) Name() string { return c.opts.Name }

// Now returns the cache's current time.
func (c *Cache) Now() time.Time { return c.opts.Now() }

// MaxObjectSize returns the largest content the cache stores.
func (c *Cache) MaxObjectSize() int64 { return c.opts.MaxObjectSize }

// responseDirectives returns the cache directives of a response that apply
// to this cache: those of the first targeted field present and valid
// (RFC 9213 §2.2), else the Surrogate-Control directives addressed to this
// cache, else those of Cache-Control.
func (c *Cache) responseDirectives(h http.Header) cachecontrol.Response {
	if !c.opts.Private {
		for _, f := range c.opts.TargetedFields {
			if lines, ok := h[f]; ok {
				if cc, ok := cachecontrol.ParseTargeted(lines); ok {
					return cc
				}
			}
		}
		if lines, ok := h["Surrogate-Control"]; ok && !c.opts.IgnoreSurrogateControl {
			if mine := surrogateDirectives(lines, c.opts.Name); mine != "" {
				return cachecontrol.ParseResponse([]string{mine})
			}
		}
	}
	return cachecontrol.ParseResponse(h["Cache-Control"])
}

// surrogateDirectives returns, as one Cache-Control-style list, the
// directives of Surrogate-Control addressed to every surrogate or to the
// device named name: "max-age=60;name" (Edge Architecture 1.0 §2.2).
func surrogateDirectives(lines []string, name string) string {
	var b strings.Builder
	for el := range httplex.ElementsOf(lines) {
		d, target, targeted := httplex.Cut(el, ';')
		if targeted && !httplex.EqualFold(httplex.TrimOWS(target), name) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(httplex.TrimOWS(d))
	}
	return b.String()
}

// SurrogateCapability returns the Surrogate-Capability member this cache
// announces to the origin, or "" when it ignores Surrogate-Control.
func (c *Cache) SurrogateCapability() string {
	if c.opts.IgnoreSurrogateControl || c.opts.Private {
		return ""
	}
	return c.opts.Name + `="Surrogate/1.0"`
}

// requestDirectives returns the request's Cache-Control directives;
// Pragma: no-cache counts as no-cache when there is no Cache-Control
// (RFC 9111 §5.4).
func requestDirectives(h http.Header) (cachecontrol.Request, bool) {
	lines := h["Cache-Control"]
	cc := cachecontrol.ParseRequest(lines)
	if len(lines) == 0 {
		for _, p := range h["Pragma"] {
			if p == "no-cache" {
				return cc, true
			}
		}
	}
	return cc, cc.NoCache()
}

func (c *Cache) storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), c.opts.StoreTimeout)
}

func (c *Cache) storeError(op string, err error) {
	c.opts.Logger.Warn("store error", "op", op, "err", err)
	if c.opts.Observe != nil {
		c.opts.Observe(Event{StoreError: err})
	}
}

func (c *Cache) observe(e Event) {
	if c.opts.Observe != nil {
		c.opts.Observe(e)
	}
}

// flight is one request to the origin that others wait for (request
// collapsing): they wait for done, then look the cache up again.
type flight struct {
	done chan struct{}
}

// join makes the caller the leader of the flight for key, or returns the
// flight to wait for.
func (c *Cache) join(key string) (f *flight, leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.flights[key]; f != nil {
		return f, false
	}
	f = &flight{done: make(chan struct{})}
	c.flights[key] = f
	return f, true
}

// land ends the flight for key; waiters look the cache up again.
func (c *Cache) land(key string, f *flight) {
	c.mu.Lock()
	if c.flights[key] == f {
		delete(c.flights, key)
	}
	c.mu.Unlock()
	close(f.done)
}

// SetTransport sets Options.Transport when it was nil. It must be called
// before the cache is used.
func (c *Cache) SetTransport(rt http.RoundTripper) {
	if c.opts.Transport == nil {
		c.opts.Transport = rt
	}
}
