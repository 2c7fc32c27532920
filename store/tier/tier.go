// Package tier puts a fast local store in front of a shared one: every
// node of a fleet keeps its own memory tier in front of Redis or Valkey,
// and deletions are fanned out to every node's memory tier over a message
// bus, so that N nodes behave like one cache.
package tier

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/notmod/notmod/store"
)

// Bus carries invalidation messages between nodes, such as Redis pub/sub.
type Bus interface {
	// Publish sends msg to every subscriber, this node's included.
	Publish(ctx context.Context, msg []byte) error
	// Subscribe calls fn for every message until ctx is done,
	// resubscribing by itself after connection losses.
	Subscribe(ctx context.Context, fn func(msg []byte)) error
}

// Defaults for the zero fields of [Options].
const (
	DefaultFrontTTL    = 30 * time.Second
	DefaultBackTimeout = 150 * time.Millisecond
	DefaultCooldown    = time.Second
)

// Options configures a tiered [Store].
type Options struct {
	// Front is the node's own store, usually store/memory. Required.
	Front store.Store
	// Back is the store shared by the fleet, usually store/redis.
	// Required.
	Back store.Store
	// Bus fans deletions out to the other nodes. Nil means none: only
	// FrontTTL bounds how long another node's copy lives.
	Bus Bus
	// NodeID tells this node's messages from others'. Empty means a
	// random one.
	NodeID string
	// FrontTTL bounds how long a value fetched from Back is kept in
	// Front, and so how stale a node's copy can be when a change was not
	// announced on the bus. Zero means DefaultFrontTTL.
	FrontTTL time.Duration
	// BackTimeout bounds each Back operation. Zero means
	// DefaultBackTimeout.
	BackTimeout time.Duration
	// Cooldown is how long Back is left alone after it failed, before it
	// is tried again. Zero means DefaultCooldown.
	Cooldown time.Duration
	// OnBackState, when set, is called when Back goes down (err != nil)
	// and when it answers again (err == nil), for logs and metrics.
	OnBackState func(err error)
	// Logger receives state changes. Nil discards them.
	Logger *slog.Logger
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// Store is a tiered store. It implements store.Store and, when Back does,
// store.Ranger; and store.Streamer, which works when Back streams values
// (see [Store.CanStream]). It is safe for concurrent use.
type Store struct {
	o      Options
	prefix []byte // NodeID + 0x00, the start of this node's messages

	mu        sync.Mutex
	downUntil time.Time
	down      bool

	// changes counts deletions and replacements seen, here and announced
	// by other nodes: a value read from Back is kept in Front only if
	// none happened during the read, so a purge that overtakes the read
	// is never undone by it. frontMu makes that check and the copy one
	// step with respect to the deletions announced by other nodes.
	changes atomic.Uint64
	frontMu sync.Mutex
}

// keep copies a value read from Back into Front, unless a change was seen
// since seen was read.
func (s *Store) keep(ctx context.Context, key string, v []byte, seen uint64) {
	s.frontMu.Lock()
	defer s.frontMu.Unlock()
	if s.changes.Load() == seen {
		_ = s.o.Front.Set(ctx, strings.Clone(key), v, s.o.FrontTTL) // key is the caller's, valid only during Get
	}
}

// forget drops key from Front after a change announced by another node.
func (s *Store) forget(ctx context.Context, key string) {
	s.frontMu.Lock()
	defer s.frontMu.Unlock()
	s.changes.Add(1)
	_ = s.o.Front.Delete(ctx, key)
}

// New returns a tiered store. Start the bus subscription with [Store.Run].
func New(o Options) (*Store, error) {
	if o.Front == nil || o.Back == nil {
		return nil, errors.New("tier: Front and Back are required")
	}
	if o.FrontTTL == 0 {
		o.FrontTTL = DefaultFrontTTL
	}
	if o.BackTimeout == 0 {
		o.BackTimeout = DefaultBackTimeout
	}
	if o.Cooldown == 0 {
		o.Cooldown = DefaultCooldown
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.NodeID == "" {
		o.NodeID = randomID()
	}
	return &Store{o: o, prefix: append([]byte(o.NodeID), 0)}, nil
}

// Run subscribes to the bus and drops from Front every key another node
// deleted or replaced, until ctx is done. Without a Bus it returns at once.
func (s *Store) Run(ctx context.Context) error {
	if s.o.Bus == nil {
		return nil
	}
	return s.o.Bus.Subscribe(ctx, func(msg []byte) {
		i := indexZero(msg)
		if i < 0 || string(msg[:i+1]) == string(s.prefix) {
			return
		}
		s.forget(ctx, string(msg[i+1:]))
	})
}

func indexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}

// backUp reports whether Back may be tried now.
func (s *Store) backUp() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.down || !s.o.Now().Before(s.downUntil)
}

// backResult records the outcome of a Back operation: an error other than
// ErrNotFound starts a cooldown, and the first success after one ends it.
func (s *Store) backResult(err error) {
	failed := err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrTooLarge)
	s.mu.Lock()
	changed := failed != s.down
	s.down = failed
	if failed {
		s.downUntil = s.o.Now().Add(s.o.Cooldown)
	}
	s.mu.Unlock()
	if !changed {
		return
	}
	if failed {
		s.o.Logger.Warn("shared store unavailable; serving from memory and the origin", "err", err)
	} else {
		s.o.Logger.Info("shared store available again")
	}
	if s.o.OnBackState != nil {
		if failed {
			s.o.OnBackState(err)
		} else {
			s.o.OnBackState(nil)
		}
	}
}

func (s *Store) backContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.o.BackTimeout)
}

// Get returns the value from Front, or else from Back, keeping a copy in
// Front for FrontTTL. While Back is down it answers from Front alone: a
// value Front does not hold is then reported as store.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.get(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, store.ErrNotFound
	}
	return v, err
}

// get is Get, but reports a failure of Back as it is, or as errBackDown
// while Back is left alone, rather than as store.ErrNotFound.
func (s *Store) get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.o.Front.Get(ctx, key)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	if !s.backUp() {
		return nil, errBackDown
	}
	seen := s.changes.Load()
	bctx, cancel := s.backContext(ctx)
	v, err = s.o.Back.Get(bctx, key)
	cancel()
	s.backResult(err)
	if err != nil {
		return nil, err
	}
	s.keep(ctx, key, v, seen)
	return v, nil
}

// GetLatest reads the value from Back, bypassing Front, and keeps the
// copy in Front up to date; while Back is down it answers like Get.
func (s *Store) GetLatest(ctx context.Context, key string) ([]byte, error) {
	if !s.backUp() {
		return s.o.Front.Get(ctx, key)
	}
	seen := s.changes.Load()
	bctx, cancel := s.backContext(ctx)
	v, err := s.o.Back.Get(bctx, key)
	cancel()
	s.backResult(err)
	if errors.Is(err, store.ErrNotFound) {
		_ = s.o.Front.Delete(ctx, key)
		return nil, err
	}
	if err != nil {
		return s.o.Front.Get(ctx, key)
	}
	s.keep(ctx, key, v, seen)
	return v, nil
}

// Set stores the value in Front and in Back, and tells the other nodes to
// drop their copies. A failure of Back is reported through OnBackState and
// the log, not to the caller, when the value is in Front; a value Front
// refuses (too large for it) is still stored in Back.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s.changes.Add(1)
	// Front is best effort: a value too large for it still goes to Back.
	ferr := s.o.Front.Set(ctx, key, value, s.frontTTL(ttl))
	if !s.backUp() {
		return ferr
	}
	bctx, cancel := s.backContext(ctx)
	defer cancel()
	err := s.o.Back.Set(bctx, key, value, ttl)
	s.backResult(err)
	if err != nil {
		if ferr != nil {
			return err // neither tier holds it
		}
		return nil
	}
	s.announce(bctx, key)
	return nil
}

// frontTTL returns the expiry hint for Front's copy of a value stored
// with ttl: ttl, at most FrontTTL.
func (s *Store) frontTTL(ttl time.Duration) time.Duration {
	if ttl > 0 && ttl < s.o.FrontTTL {
		return ttl
	}
	return s.o.FrontTTL
}

// Delete removes the key from Front and Back and tells the other nodes.
// An error means Back could not be reached: other nodes may still hold it.
func (s *Store) Delete(ctx context.Context, key string) error {
	s.changes.Add(1)
	ferr := s.o.Front.Delete(ctx, key)
	bctx, cancel := s.backContext(ctx)
	defer cancel()
	err := s.o.Back.Delete(bctx, key)
	s.backResult(err)
	s.announce(bctx, key)
	if err != nil {
		return err
	}
	return ferr
}

func (s *Store) announce(ctx context.Context, key string) {
	if s.o.Bus == nil {
		return
	}
	msg := make([]byte, 0, len(s.prefix)+len(key))
	msg = append(append(msg, s.prefix...), key...)
	if err := s.o.Bus.Publish(ctx, msg); err != nil {
		s.o.Logger.Warn("could not announce a change to other nodes", "err", err)
	}
}

// Keys lists the keys of Back and, when Front can list them too, those
// Front holds that Back does not (each key once); when only one of them
// can list keys, that one's. It fails when Back fails: a partial list
// would make a purge by prefix look complete.
func (s *Store) Keys(ctx context.Context, prefix string, fn func(key string) bool) error {
	br, backLists := s.o.Back.(store.Ranger)
	fr, frontLists := s.o.Front.(store.Ranger)
	switch {
	case backLists && frontLists:
	case backLists:
		return br.Keys(ctx, prefix, fn)
	case frontLists:
		return fr.Keys(ctx, prefix, fn)
	default:
		return errors.New("tier: no store lists keys")
	}
	// A value Back failed to take, or set while Back was left alone, is
	// held by Front alone; a purge by prefix, which walks Keys, must find
	// it too. Front is the small one: its keys are gathered first, Back's
	// are listed as they come and struck off, and what is left follows.
	frontOnly := make(map[string]struct{})
	if err := fr.Keys(ctx, prefix, func(k string) bool { frontOnly[k] = struct{}{}; return true }); err != nil {
		return err
	}
	stopped := false
	err := br.Keys(ctx, prefix, func(k string) bool {
		delete(frontOnly, k)
		if !fn(k) {
			stopped = true
			return false
		}
		return true
	})
	if err != nil || stopped {
		return err
	}
	for k := range frontOnly {
		if !fn(k) {
			return nil
		}
	}
	return nil
}

// DropFront empties Front, for when announcements may have been missed
// (the bus reconnected): copies are then fetched again from Back.
func (s *Store) DropFront(ctx context.Context) error {
	r, ok := s.o.Front.(store.Ranger)
	if !ok {
		return errors.New("tier: front cannot list keys")
	}
	var keys []string
	if err := r.Keys(ctx, "", func(k string) bool { keys = append(keys, k); return true }); err != nil {
		return err
	}
	for _, k := range keys {
		_ = s.o.Front.Delete(ctx, k)
	}
	return nil
}
