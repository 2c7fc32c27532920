package memory

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/notmod/notmod/store"
)

// DefaultMaxBytes is the byte bound of a [Store] whose [Options.MaxBytes]
// is zero: 256 MiB.
const DefaultMaxBytes = 256 << 20

// EntryOverhead is the fixed number of bytes added to len(key)+len(value)
// when an entry is weighed against [Options.MaxBytes]. It estimates what
// the cache's node, its hash-table slot and the slice and string headers
// take besides the key and value bytes themselves (about 95 bytes on a
// 64-bit platform), with room for the rounding of the key and value
// allocations, so that a store of many small entries stays near its bound
// in real memory too.
const EntryOverhead = 128

// ErrTooLarge is returned, wrapped, by [Store.Set] for an entry that
// weighs more than the whole byte bound, which could never hold it.
var ErrTooLarge = fmt.Errorf("memory: entry too large: %w", store.ErrTooLarge)

// EvictReason says why an entry left the store without a Delete or an
// overwrite.
type EvictReason int

const (
	// EvictSize means the byte bound pushed the entry out to make room.
	EvictSize EvictReason = iota + 1
	// EvictExpired means the entry's ttl passed.
	EvictExpired
)

// String returns "size" or "expired".
func (r EvictReason) String() string {
	switch r {
	case EvictSize:
		return "size"
	case EvictExpired:
		return "expired"
	}
	return fmt.Sprintf("EvictReason(%d)", int(r))
}

// Options configures a [Store]. The zero value is a store bounded to
// [DefaultMaxBytes] that reads the system clock.
type Options struct {
	// MaxBytes bounds the total weight of the entries, where an entry
	// weighs len(key) + len(value) + [EntryOverhead]. When a write takes
	// the total past MaxBytes, the W-TinyLFU policy evicts the entries
	// least likely to be used again, which may be the new entry itself;
	// the evictions are applied shortly after the write, so the total may
	// exceed MaxBytes briefly. An entry
	// that alone weighs more than MaxBytes (or more than 4 GiB) is refused
	// with [ErrTooLarge]. Zero means [DefaultMaxBytes]; a negative value,
	// or one too small to hold any entry, is an error.
	MaxBytes int64

	// Clock returns the current time, against which entries expire. Nil
	// means the system clock, with a background goroutine that removes
	// expired entries once a second and stops once the Store is no longer
	// reachable. With a Clock set there is no such goroutine: expired
	// entries are never returned, and are removed as later reads and
	// writes do the store's maintenance. Tests set a Clock that they move
	// by hand, so expiry is tested without sleeping.
	Clock func() time.Time

	// OnEvict, when not nil, is called with the key of every entry that
	// leaves the store for the reason given, not for Delete, overwrites
	// or refused writes. It runs synchronously while the store holds a
	// lock, so it must be quick and must not call the Store; counting
	// evictions for metrics is its intended use. It may be called from
	// any goroutine, concurrently with itself.
	OnEvict func(key string, reason EvictReason)

	// Logger receives the errors logged when OnEvict panics, or when
	// Clock panics during maintenance; the store recovers from those and
	// carries on (an evicted entry is still removed). Nil means
	// [slog.Default].
	Logger *slog.Logger
}

// Store is an in-memory [store.Store] and [store.Ranger] bounded by
// bytes, built on an otter cache (W-TinyLFU admission and eviction,
// per-entry expiry on a timer wheel). It is safe for concurrent use.
//
// Set keeps the value slice itself and Get returns it without copying, so
// a hit allocates nothing: as package store says, the caller of Set must
// not modify the slice afterwards and the caller of Get must not modify
// what it gets. The context arguments of Get, Set and Delete are not
// consulted, since those calls never block; Keys stops early with an error
// when its context is done.
type Store struct {
	cache    *otter.Cache[string, entry]
	maxBytes int64
	// maxEntry is the heaviest an entry may be: MaxBytes, capped to fit
	// otter's 32-bit weights.
	maxEntry int64
}

// entry is what the cache holds for a key: the value and the ttl it was
// written with, from which the expiry calculator derives its deadline.
type entry struct {
	value []byte
	ttl   time.Duration
}

// noExpiry is the lifetime given to an entry written with ttl <= 0; the
// cache saturates its deadline to the end of time.
const noExpiry = time.Duration(math.MaxInt64)

// New returns a Store configured by o, or an error if o is invalid.
func New(o Options) (*Store, error) {
	maxBytes := o.MaxBytes
	switch {
	case maxBytes == 0:
		maxBytes = DefaultMaxBytes
	case maxBytes < 0:
		return nil, fmt.Errorf("memory: MaxBytes is negative (%d)", maxBytes)
	case maxBytes <= EntryOverhead:
		return nil, fmt.Errorf("memory: MaxBytes %d cannot hold any entry: each weighs at least EntryOverhead (%d) bytes", maxBytes, EntryOverhead)
	}
	oo := &otter.Options[string, entry]{
		MaximumWeight: uint64(maxBytes),
		Weigher: func(key string, e entry) uint32 {
			// Set has checked that this fits.
			return uint32(len(key) + len(e.value) + EntryOverhead)
		},
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, entry]) time.Duration {
			if e.Value.ttl <= 0 {
				return noExpiry
			}
			return e.Value.ttl
		}),
	}
	if o.Clock != nil {
		oo.Clock = clock{o.Clock}
	}
	if o.OnEvict != nil {
		onEvict := o.OnEvict
		oo.OnAtomicDeletion = func(e otter.DeletionEvent[string, entry]) {
			switch e.Cause {
			case otter.CauseOverflow:
				onEvict(e.Key, EvictSize)
			case otter.CauseExpiration:
				onEvict(e.Key, EvictExpired)
			}
		}
	}
	if o.Logger != nil {
		oo.Logger = logger{o.Logger}
	}
	c, err := otter.New(oo)
	if err != nil {
		return nil, fmt.Errorf("memory: %w", err)
	}
	return &Store{cache: c, maxBytes: maxBytes, maxEntry: min(maxBytes, math.MaxUint32)}, nil
}

// Must is like [New] but panics if o is invalid. It suits options fixed
// in the program's source.
func Must(o Options) *Store {
	s, err := New(o)
	if err != nil {
		panic(err)
	}
	return s
}

// Get returns the value stored under key, or [store.ErrNotFound] if there
// is none or it has expired. The returned slice is the stored one, shared
// and read-only; it stays unchanged after the key is overwritten or
// deleted. A hit allocates nothing.
func (s *Store) Get(_ context.Context, key string) ([]byte, error) {
	e, ok := s.cache.GetIfPresent(key)
	if !ok {
		return nil, store.ErrNotFound
	}
	return e.value, nil
}

// Set stores value under key, replacing any previous value; the store
// keeps the slice itself, which the caller must not modify afterwards. The
// entry expires ttl after this call; ttl <= 0 means never. An entry that
// weighs more than the whole byte bound is refused with an error wrapping
// [ErrTooLarge], and any previous value under key is removed, so that a
// later Get does not return a value the caller meant to replace.
func (s *Store) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if w := int64(len(key)) + int64(len(value)) + EntryOverhead; w > s.maxEntry {
		s.cache.Invalidate(key)
		return fmt.Errorf("%w: %d bytes with key and overhead, bound %d", ErrTooLarge, w, s.maxEntry)
	}
	// The key is the caller's, valid only during the call (see
	// store.Store): keep a copy.
	s.cache.Set(strings.Clone(key), entry{value: value, ttl: ttl})
	return nil
}

// Delete removes key. Deleting a missing key is not an error.
func (s *Store) Delete(_ context.Context, key string) error {
	s.cache.Invalidate(key)
	return nil
}

// keysCheckEvery is how many keys Keys walks between looks at its context.
const keysCheckEvery = 1024

// Keys calls fn for every unexpired key that starts with prefix, in no
// particular order, until fn returns false. fn may call the store,
// including to delete the key it is given. Keys written or removed during
// the walk may or may not be seen. The walk visits every key in the store,
// so it costs time in proportion to [Store.Len]; it returns the context's
// error, wrapped, if ctx is done before it starts or while it runs.
func (s *Store) Keys(ctx context.Context, prefix string, fn func(key string) bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: keys: %w", err)
	}
	n := 0
	for key := range s.cache.Keys() {
		if n++; n%keysCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("memory: keys: %w", err)
			}
		}
		if strings.HasPrefix(key, prefix) && !fn(key) {
			return nil
		}
	}
	return nil
}

// Len returns the approximate number of entries, which may still count
// expired entries that have not been removed yet.
func (s *Store) Len() int {
	return s.cache.EstimatedSize()
}

// Bytes returns the total weight of the entries, as bounded by
// [Options.MaxBytes]: the sum of len(key) + len(value) + [EntryOverhead].
// It first applies the writes, evictions and expiries still pending, so it
// counts every write that returned before the call, and it takes the
// store's maintenance lock to do so: call it for metrics, not on every
// request.
func (s *Store) Bytes() int64 {
	s.cache.CleanUp()
	return int64(s.cache.WeightedSize())
}

// MaxBytes returns the byte bound the store was built with.
func (s *Store) MaxBytes() int64 {
	return s.maxBytes
}

// clock adapts [Options.Clock] to otter. It gives no ticks, so the cache
// runs no periodic clean-up goroutine of its own.
type clock struct {
	now func() time.Time
}

func (c clock) NowNano() int64                      { return c.now().UnixNano() }
func (c clock) Tick(time.Duration) <-chan time.Time { return nil }

// logger adapts [Options.Logger] to otter.
type logger struct {
	l *slog.Logger
}

func (l logger) Warn(ctx context.Context, msg string, err error) {
	l.l.WarnContext(ctx, msg, slog.Any("err", err))
}

func (l logger) Error(ctx context.Context, msg string, err error) {
	l.l.ErrorContext(ctx, msg, slog.Any("err", err))
}
