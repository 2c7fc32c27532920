package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/notmod/notmod/store"
)

// Defaults for the zero values of [Options].
const (
	// DefaultAddr is the server a Store talks to when neither
	// [Options.Addrs] nor [Options.URL] is set.
	DefaultAddr = "127.0.0.1:6379"
	// DefaultKeyPrefix namespaces every Redis key and channel of a Store
	// whose [Options.KeyPrefix] is empty.
	DefaultKeyPrefix = "notmod:"
	// DefaultMaxEntryBytes is the largest value a Store accepts when
	// [Options.MaxEntryBytes] is zero: 16 MiB.
	DefaultMaxEntryBytes = 16 << 20
	// DefaultDialTimeout bounds the opening of a connection when
	// [Options.DialTimeout] is zero.
	DefaultDialTimeout = 250 * time.Millisecond
	// DefaultReadTimeout bounds the wait for a reply when
	// [Options.ReadTimeout] is zero.
	DefaultReadTimeout = 200 * time.Millisecond
	// DefaultWriteTimeout bounds the sending of a command when
	// [Options.WriteTimeout] is zero.
	DefaultWriteTimeout = 200 * time.Millisecond
)

// ErrTooLarge is returned, wrapped, by [Store.Set] for a value longer than
// [Options.MaxEntryBytes]. It wraps [store.ErrTooLarge].
var ErrTooLarge = fmt.Errorf("redis: entry too large: %w", store.ErrTooLarge)

// Options configures a [Store]. The zero value talks to a single server at
// [DefaultAddr], database 0, without authentication, with the defaults
// named on each field.
type Options struct {
	// Addrs are the servers, each "host:port" or the path of a unix
	// socket ("/run/redis/redis.sock"). One address is a single server
	// (or a Cluster seed when Cluster is set); with MasterName set they
	// are the Sentinels; two or more without MasterName are the seeds of
	// a Redis Cluster. Empty means [DefaultAddr], unless URL is set.
	Addrs []string

	// URL names one server instead of Addrs (setting both is an error):
	// "redis://[user:password@]host[:port][/db]", "rediss://..." for
	// TLS, or "unix://[user:password@]/path/to/redis.sock[?db=N]". The
	// query parameters db, dial_timeout, read_timeout, write_timeout and
	// pool_size are understood; any other is an error. A non-zero field
	// of Options overrides what the URL says.
	URL string

	// MasterName, when set, makes Addrs the Sentinels that know the
	// primary of that name; the store follows failovers.
	MasterName string

	// Cluster makes a single address of Addrs the seed of a Redis
	// Cluster (as with managed services that expose one configuration
	// endpoint). Two or more addresses mean a Cluster anyway. Setting
	// both Cluster and MasterName is an error.
	Cluster bool

	// DB is the database to select on a single server or a Sentinel
	// primary. A Cluster has only database 0, so a non-zero DB with a
	// Cluster is an error.
	DB int

	// Username and Password authenticate with AUTH (Username only with
	// Redis 6 ACLs). Empty means no authentication.
	Username string
	Password string

	// TLSConfig, when not nil, makes the connections use TLS.
	TLSConfig *tls.Config

	// KeyPrefix starts the name of every Redis key and of the purge
	// channel the Store uses, so that several deployments can share one
	// Redis; entries live under KeyPrefix + "d:", leases under
	// KeyPrefix + "l:". Deployments that share a Redis need prefixes
	// neither of which starts the other ("a:" and "a:d:" would mix).
	// Empty means [DefaultKeyPrefix].
	KeyPrefix string

	// MaxEntryBytes is the longest value Set accepts; a longer one is
	// refused with an error wrapping [ErrTooLarge]. Zero means
	// [DefaultMaxEntryBytes]; negative is an error. Redis itself refuses
	// strings over 512 MiB.
	MaxEntryBytes int64

	// PoolSize is the most connections kept open to each server. Zero
	// means go-redis's default, 10 per CPU (GOMAXPROCS). When every
	// connection is busy a call waits for one up to ReadTimeout, then
	// fails.
	PoolSize int

	// DialTimeout bounds the opening of a connection. Zero means
	// [DefaultDialTimeout].
	DialTimeout time.Duration

	// ReadTimeout bounds the wait for a reply; a slow Redis makes a call
	// fail after it rather than stall the request that made it. Zero
	// means [DefaultReadTimeout]. It is also the longest a call waits for
	// a free connection of the pool.
	ReadTimeout time.Duration

	// WriteTimeout bounds the sending of a command, value included, so
	// it must allow for sending a value of MaxEntryBytes over the link:
	// the default suits 16 MiB at 1 Gbit/s. Zero means
	// [DefaultWriteTimeout].
	WriteTimeout time.Duration

	// OnStateChange, when not nil, is called each time the store's
	// [State] changes: with [StateDown] and the network error that showed
	// it, with [StateUp] and a nil error when Redis answers again. Calls
	// come one at a time, in order, from a goroutine of the store, never
	// from the caller of Get or Set; OnStateChange may call the Store.
	// It is meant for metrics; the change is logged anyway.
	OnStateChange func(state State, err error)

	// OnResubscribe, when not nil, is called each time a subscription
	// made by [Store.Subscribe] is established again after its
	// connection failed. Messages published in between were not
	// delivered, so a fleet node should treat its memory tier as
	// possibly stale. It is called from the subscription's goroutine,
	// between messages.
	OnResubscribe func()

	// Logger receives state changes (warn when Redis becomes unreachable,
	// info when it answers again), subscription gaps and failed lease
	// releases. Nil means [slog.Default].
	Logger *slog.Logger
}

// Store is a [store.Store] and [store.Ranger] on Redis. It is safe for
// concurrent use. Set sends the value during the call and does not keep
// it. Get returns a new slice for each call, which later writes never
// change; as package store requires, the caller must not modify it.
type Store struct {
	c        goredis.UniversalClient
	prefix   string // KeyPrefix + "d:": the entries
	lease    string // KeyPrefix + "l:": the leases
	channel  string // KeyPrefix + "purge"
	maxEntry int64
	// callTimeout bounds calls the store makes on its own, without a
	// caller's context: probes and lease releases.
	callTimeout   time.Duration
	onResubscribe func()
	log           *slog.Logger
	// unlock is the compare-and-delete script that releases a lease.
	unlock *goredis.Script

	health health

	// ctx is cancelled by Close, stopping the background goroutines,
	// which wg counts; closed, guarded by mu, keeps Subscribe from
	// adding to wg once Close has begun.
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	mu        sync.Mutex
	closed    bool
	closeOnce sync.Once
	closeErr  error
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Ranger = (*Store)(nil)
)

// New connects to Redis as o says and pings it: it returns an error if o
// is invalid or if the server does not answer within ctx and the
// timeouts. Close releases the Store.
func New(ctx context.Context, o Options) (*Store, error) {
	uo, err := o.universal()
	if err != nil {
		return nil, err
	}
	prefix := o.KeyPrefix
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	maxEntry := o.MaxEntryBytes
	switch {
	case maxEntry == 0:
		maxEntry = DefaultMaxEntryBytes
	case maxEntry < 0:
		return nil, fmt.Errorf("redis: MaxEntryBytes is negative (%d)", maxEntry)
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		c:             goredis.NewUniversalClient(uo),
		prefix:        prefix + "d:",
		lease:         prefix + "l:",
		channel:       prefix + "purge",
		maxEntry:      maxEntry,
		callTimeout:   uo.DialTimeout + uo.WriteTimeout + uo.ReadTimeout,
		onResubscribe: o.OnResubscribe,
		log:           log,
		unlock:        goredis.NewScript(releaseScript),
		ctx:           sctx,
		cancel:        cancel,
	}
	s.health.init(o.OnStateChange)
	if err := s.ping(ctx); err != nil {
		cancel()
		_ = s.c.Close()
		return nil, fmt.Errorf("redis: %s: %w", strings.Join(uo.Addrs, ","), err)
	}
	s.wg.Go(s.monitor)
	return s, nil
}

// universal validates o and turns it into go-redis options.
func (o Options) universal() (*goredis.UniversalOptions, error) {
	uo := &goredis.UniversalOptions{
		Addrs:      o.Addrs,
		MasterName: o.MasterName,
		Username:   o.Username,
		Password:   o.Password,
		DB:         o.DB,
		TLSConfig:  o.TLSConfig,
		PoolSize:   o.PoolSize,

		DialTimeout:  o.DialTimeout,
		ReadTimeout:  o.ReadTimeout,
		WriteTimeout: o.WriteTimeout,

		IsClusterMode: o.Cluster,

		// One attempt per call: a retry after a timeout would double the
		// time a slow Redis holds a request.
		MaxRetries:    -1,
		DialerRetries: 1,
		// A caller's deadline, when earlier, bounds the call too.
		ContextTimeoutEnabled: true,
		// RESP2 is understood by every Redis and Valkey; nothing here
		// needs RESP3's push messages or maintenance notifications.
		Protocol:                 2,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	if o.URL != "" {
		if len(o.Addrs) > 0 {
			return nil, errors.New("redis: both Addrs and URL are set")
		}
		if err := fromURL(o.URL, uo); err != nil {
			return nil, err
		}
	}
	if len(uo.Addrs) == 0 {
		uo.Addrs = []string{DefaultAddr}
	}
	cluster := o.MasterName == "" && (o.Cluster || len(uo.Addrs) > 1)
	switch {
	case o.Cluster && o.MasterName != "":
		return nil, errors.New("redis: both Cluster and MasterName are set")
	case uo.DB < 0:
		return nil, fmt.Errorf("redis: DB is negative (%d)", uo.DB)
	case cluster && uo.DB != 0:
		return nil, fmt.Errorf("redis: DB %d is set but a Cluster has only database 0", uo.DB)
	case uo.PoolSize < 0:
		return nil, fmt.Errorf("redis: PoolSize is negative (%d)", uo.PoolSize)
	case uo.DialTimeout < 0, uo.ReadTimeout < 0, uo.WriteTimeout < 0:
		return nil, errors.New("redis: a timeout is negative")
	}
	if uo.DialTimeout == 0 {
		uo.DialTimeout = DefaultDialTimeout
	}
	if uo.ReadTimeout == 0 {
		uo.ReadTimeout = DefaultReadTimeout
	}
	if uo.WriteTimeout == 0 {
		uo.WriteTimeout = DefaultWriteTimeout
	}
	uo.PoolTimeout = uo.ReadTimeout
	return uo, nil
}

// urlParam reports whether name is a query parameter of [Options.URL]
// that the store understands.
func urlParam(name string) bool {
	switch name {
	case "db", "dial_timeout", "read_timeout", "write_timeout", "pool_size":
		return true
	}
	return false
}

// fromURL fills the fields of uo that are still zero from the URL raw.
func fromURL(raw string, uo *goredis.UniversalOptions) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("redis: URL: %w", err)
	}
	for name := range u.Query() {
		if !urlParam(name) {
			return fmt.Errorf("redis: URL: unsupported parameter %q", name)
		}
	}
	p, err := goredis.ParseURL(raw)
	if err != nil {
		return fmt.Errorf("redis: URL: %w", err)
	}
	uo.Addrs = []string{p.Addr}
	if p.Network == "unix" && !strings.HasPrefix(p.Addr, "/") {
		return fmt.Errorf("redis: URL: unix socket path %q is not absolute", p.Addr)
	}
	setIfZero(&uo.Username, p.Username)
	setIfZero(&uo.Password, p.Password)
	setIfZero(&uo.DB, p.DB)
	setIfZero(&uo.PoolSize, p.PoolSize)
	setIfZero(&uo.DialTimeout, p.DialTimeout)
	setIfZero(&uo.ReadTimeout, p.ReadTimeout)
	setIfZero(&uo.WriteTimeout, p.WriteTimeout)
	if uo.TLSConfig == nil {
		uo.TLSConfig = p.TLSConfig
	}
	return nil
}

func setIfZero[T comparable](dst *T, v T) {
	var zero T
	if *dst == zero {
		*dst = v
	}
}

// Close stops the store's subscriptions and background goroutines and
// closes its connections. Calls made after Close fail. Close returns the
// error of closing the connections; calling it again returns the same.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		s.wg.Wait()
		s.closeErr = s.c.Close()
	})
	return s.closeErr
}

// Get returns the value stored under key, or [store.ErrNotFound] if there
// is none or it has expired. Each call returns a new, read-only slice. Any
// other error means Redis could not be asked: it is down or slow, or the
// context is done.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.c.Get(ctx, s.prefix+key).Bytes()
	s.observe(ctx, err)
	switch {
	case err == nil:
		return v, nil
	case errors.Is(err, goredis.Nil):
		return nil, store.ErrNotFound
	}
	return nil, fmt.Errorf("redis: get: %w", err)
}

// Set stores value under key, replacing any previous value. ttl > 0 sets
// the key to expire after ttl, rounded up to a whole millisecond (SET
// ... PX); ttl <= 0 stores it without expiry, removing any expiry the key
// had (a plain SET does so). A value longer than [Options.MaxEntryBytes]
// is refused with an error wrapping [ErrTooLarge], and the previous value
// under key is deleted, so that a later Get does not return a value the
// caller meant to replace.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if int64(len(value)) > s.maxEntry {
		tooLarge := fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(value), s.maxEntry)
		if err := s.Delete(ctx, key); err != nil {
			return errors.Join(tooLarge, err)
		}
		return tooLarge
	}
	var err error
	if ttl <= 0 {
		err = s.c.Do(ctx, "set", s.prefix+key, value).Err()
	} else {
		err = s.c.Do(ctx, "set", s.prefix+key, value, "px", millis(ttl)).Err()
	}
	s.observe(ctx, err)
	if err != nil {
		return fmt.Errorf("redis: set: %w", err)
	}
	return nil
}

// millis returns d, which is positive, in whole milliseconds rounded up.
func millis(d time.Duration) int64 {
	ms := int64(d / time.Millisecond)
	if d%time.Millisecond != 0 {
		ms++
	}
	return ms
}

// Delete removes key. Deleting a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	err := s.c.Del(ctx, s.prefix+key).Err()
	s.observe(ctx, err)
	if err != nil {
		return fmt.Errorf("redis: delete: %w", err)
	}
	return nil
}

// scanCount is the COUNT hint of each SCAN call of Keys.
const scanCount = 512

// Keys calls fn for every key that starts with prefix, in no particular
// order, until fn returns false. It walks the key space with SCAN and a
// MATCH pattern (the prefix's glob characters escaped, so the prefix is
// matched as plain bytes), on each primary of a Cluster in turn. fn is
// called from the calling goroutine, one key at a time, and may call the
// store, including to delete the key it is given. Keys written or
// deleted during the walk may or may not be seen; every key present
// throughout is passed exactly once (the walk remembers the keys it has
// passed, since SCAN may return one twice). Keys returns an error,
// wrapped, when Redis fails or ctx is done; the walk may then have
// stopped early.
func (s *Store) Keys(ctx context.Context, prefix string, fn func(key string) bool) error {
	nodes, err := s.primaries(ctx)
	if err != nil {
		return fmt.Errorf("redis: keys: %w", err)
	}
	full := s.prefix + prefix
	match := escapeGlob(full) + "*"
	seen := make(map[string]struct{})
	for _, node := range nodes {
		var cursor uint64
		for {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("redis: keys: %w", err)
			}
			var keys []string
			keys, cursor, err = node.Scan(ctx, cursor, match, scanCount).Result()
			s.observe(ctx, err)
			if err != nil {
				return fmt.Errorf("redis: keys: %w", err)
			}
			for _, k := range keys {
				if !strings.HasPrefix(k, full) {
					continue
				}
				if _, dup := seen[k]; dup {
					continue
				}
				seen[k] = struct{}{}
				if !fn(k[len(s.prefix):]) {
					return nil
				}
			}
			if cursor == 0 {
				break
			}
		}
	}
	return nil
}

// scanner is what Keys needs of a client: a single-server client, or one
// primary of a Cluster.
type scanner interface {
	Scan(ctx context.Context, cursor uint64, match string, count int64) *goredis.ScanCmd
}

// primaries returns the clients whose key spaces together hold every key:
// each primary of a Cluster, or the one client otherwise.
func (s *Store) primaries(ctx context.Context) ([]scanner, error) {
	cc, ok := s.c.(*goredis.ClusterClient)
	if !ok {
		return []scanner{s.c}, nil
	}
	var mu sync.Mutex
	var nodes []scanner
	err := cc.ForEachMaster(ctx, func(_ context.Context, c *goredis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		nodes = append(nodes, c)
		return nil
	})
	s.observe(ctx, err)
	return nodes, err
}

// escapeGlob escapes the characters that Redis glob patterns (KEYS, SCAN
// MATCH) treat specially, so that the pattern matches s literally.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
