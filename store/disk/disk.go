package disk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/notmod/notmod/store"
)

// DefaultMaxBytes is the byte bound of a [Store] whose [Options.MaxBytes]
// is zero: 1 GiB.
const DefaultMaxBytes = 1 << 30

// EntryOverhead is the fixed part of the bytes an entry is weighed at
// against [Options.MaxBytes] besides its key and value (see [Weight]): the
// file space an entry takes besides its key and value bytes when its value
// is a few bytes long: its record, its rows in the eviction and expiry
// indexes (which hold the key again), the tree's per-element headers and
// the unused room of half-full pages, as measured with keys of about 50
// bytes (see BenchmarkOverhead).
const EntryOverhead = 352

// chunkSlack is the file space a value's chunk leaves unused on average:
// the B+tree keeps appended chunks two to a leaf and rounds each leaf up to
// whole pages, so a leaf of two chunks wastes up to a page.
const chunkSlack = 2048

// pageSize is the page size of the files the store creates. It is fixed,
// rather than the system's, so that [Weight] describes every file.
const pageSize = 4096

// Weight returns the bytes an entry with a key of keyLen bytes and a value
// of size bytes counts against [Options.MaxBytes]: keyLen + size +
// [EntryOverhead], plus min(size, 2048) for each 64 KiB chunk of the
// value. The last term is the unused room the value's chunks leave in the
// file's pages on average, so that the total weight follows the space the
// file really uses: within a few per cent for values of 100 KiB or more,
// and within about 20 per cent from 0 to 100 KiB (see the package
// documentation for measured figures).
func Weight(keyLen int, size int64) int64 {
	return int64(keyLen) + size + EntryOverhead + min(size, chunkSlack*chunks(size))
}

// lockTimeout is how long New waits for the file lock that another Store,
// in this process or another, holds on the same file.
const lockTimeout = time.Second

// Errors returned by a [Store], wrapped; check them with [errors.Is].
var (
	// ErrTooLarge is returned by [Store.Set] and [Writer.Write] for an
	// entry that weighs more than the whole byte bound, or whose key is
	// longer than 32 KiB. It wraps [store.ErrTooLarge].
	ErrTooLarge = fmt.Errorf("disk: entry too large: %w", store.ErrTooLarge)

	// ErrClosed is returned by calls made after [Store.Close].
	ErrClosed = errors.New("disk: store is closed")

	// ErrCorrupt is returned by [Reader.Read] when a chunk of the value
	// fails its checksum. The entry has then been dropped and counted in
	// [Stats.Corrupt]. Get never returns it: a corrupt entry is reported
	// there as [store.ErrNotFound].
	ErrCorrupt = errors.New("disk: corrupt entry")

	// ErrChanged is returned by [Reader.Read] when the entry was
	// overwritten, deleted or evicted after [Store.Open], so that the rest
	// of the value it was reading is gone.
	ErrChanged = errors.New("disk: entry changed while it was read")
)

// Options configures a [Store]. Only Path is required.
type Options struct {
	// Path is the database file, created if it does not exist, with its
	// directory. A file holds one Store at a time: New fails, after a
	// second, while another Store (in any process) has the file open.
	Path string

	// MaxBytes bounds the total weight of the entries, where an entry
	// weighs what [Weight] says: its key and value bytes and an estimate
	// of the file space it takes besides them. When a write takes
	// the total past MaxBytes, expired entries are removed first, then
	// entries in the order they were written, except that an entry read
	// since it was last considered is given a second chance and moved to
	// the back of the queue (the CLOCK approximation of least recently
	// used). The evictions happen in the same transaction as the write, so
	// the bound holds whenever no write is in progress. An entry that
	// alone weighs more than MaxBytes is refused with [ErrTooLarge]. Zero
	// means [DefaultMaxBytes]; a negative value, or one too small for any
	// entry, is an error.
	//
	// The bound is on the entries' weight, which follows the space they
	// take in the file; the file itself never shrinks, but it reuses the
	// pages freed by deletes and evictions, so it stays near the
	// high-water mark of the weight (see the package documentation for
	// figures).
	MaxBytes int64

	// Clock returns the current time, against which entries expire. Nil
	// means [time.Now]. Tests set a Clock they move by hand, so expiry is
	// tested without sleeping. Expiry times are stored as wall-clock
	// times, so they hold across restarts.
	Clock func() time.Time

	// Logger receives a warning for every corrupt entry dropped and for
	// failed writes, and a debug line when the store is opened. Nil means
	// [slog.Default].
	Logger *slog.Logger
}

// Stats are the counters of a [Store]. Entries and Bytes describe the file;
// the others count events since [New].
type Stats struct {
	// Entries is the number of entries, counting expired ones not yet
	// removed.
	Entries int64
	// Bytes is the total weight of the entries, as bounded by
	// [Options.MaxBytes].
	Bytes int64
	// Corrupt counts the entries dropped because a checksum failed.
	Corrupt int64
	// Evicted counts the entries removed to keep the byte bound.
	Evicted int64
	// Expired counts the expired entries removed.
	Expired int64
}

// Store is a persistent [store.Store] and [store.Ranger] in one bbolt
// database file, bounded by bytes. It is safe for concurrent use, by any
// number of readers and writers; it must be closed with [Store.Close].
//
// Reads run in parallel on the memory-mapped file. Writes are handed to
// one goroutine that commits them in batches: writes that arrive while a
// commit is being synced to disk share the next commit and its fsync. A
// write returns once its commit is on disk.
//
// Get returns a fresh copy of the value, which the caller may keep (and
// even modify). Set keeps the value slice only until its commit, and does
// not modify it.
type Store struct {
	db       *bolt.DB
	path     string
	now      func() time.Time
	log      *slog.Logger
	maxBytes int64

	closeMu   sync.RWMutex
	closed    bool // guarded by closeMu
	ops       chan *op
	done      chan struct{} // closed when the committer has stopped
	closeOnce sync.Once
	closeErr  error

	// next is the last id or sequence number handed out. It is persisted
	// as bucketMeta's sequence in every commit.
	next atomic.Uint64

	// Written only by the committer, after a commit.
	entries, bytes            atomic.Int64
	corrupt, evicted, expired atomic.Int64

	// touched holds one bit per entry id (modulo its size), set by reads
	// and cleared by the evictor: an entry whose bit is set gets a second
	// chance. Collisions only give an entry an undeserved second chance.
	touched [touchWords]atomic.Uint64
}

// touchWords is the size of [Store.touched]: 2^20 bits, 128 KiB.
const touchWords = 1 << 14

// New opens or creates the store in the file o.Path. It returns an error if
// o is invalid, if the file is not a store's database (it is then left
// untouched), or if another Store holds it.
//
// Opening walks every entry's record (not the values) to check it and to
// count the entries and their weight; entries whose record is damaged are
// dropped and counted in [Stats.Corrupt], and the chunks of values whose
// streaming was cut short by a crash are deleted. If the entries weigh more
// than MaxBytes, as after MaxBytes was lowered, the excess is evicted.
func New(o Options) (*Store, error) {
	if o.Path == "" {
		return nil, errors.New("disk: Options.Path is required")
	}
	maxBytes := o.MaxBytes
	switch {
	case maxBytes == 0:
		maxBytes = DefaultMaxBytes
	case maxBytes < 0:
		return nil, fmt.Errorf("disk: MaxBytes is negative (%d)", maxBytes)
	case maxBytes <= EntryOverhead:
		return nil, fmt.Errorf("disk: MaxBytes %d cannot hold any entry: each weighs at least EntryOverhead (%d) bytes", maxBytes, EntryOverhead)
	}
	s := &Store{
		path:     o.Path,
		now:      o.Clock,
		log:      o.Logger,
		maxBytes: maxBytes,
		ops:      make(chan *op, maxBatchOps),
		done:     make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if err := os.MkdirAll(filepath.Dir(o.Path), 0o750); err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	db, err := bolt.Open(o.Path, 0o600, &bolt.Options{
		Timeout: lockTimeout,
		// The free-page list is rebuilt by scanning when the file is
		// opened rather than written at every commit.
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
		PageSize:       pageSize,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("disk: %s is held by another store: %w", o.Path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("disk: open %s: %w", o.Path, err)
	}
	// bbolt grows the file by AllocSize at a time once it is past that
	// size: keep the step small next to the bound.
	db.AllocSize = int(min(max(maxBytes/32, 1<<20), 16<<20))
	s.db = db
	if err := s.load(); err != nil {
		_ = db.Close()
		return nil, err
	}
	go s.run()
	return s, nil
}

// Must is like [New] but panics if the store cannot be opened.
func Must(o Options) *Store {
	s, err := New(o)
	if err != nil {
		panic(err)
	}
	return s
}

// Close waits for the writes in progress, then closes the file. Calls made
// after Close fail with [ErrClosed]; Close may be called more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeMu.Lock()
		s.closed = true
		close(s.ops)
		s.closeMu.Unlock()
		<-s.done
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("disk: close: %w", err)
		}
	})
	return s.closeErr
}

// Get returns a copy of the value stored under key, or [store.ErrNotFound]
// if there is none, it has expired, or it is corrupt: an entry whose
// record or value fails its checksum is dropped, counted in
// [Stats.Corrupt] and logged, before Get returns. The context is not
// consulted: a read does not wait for writes.
func (s *Store) Get(_ context.Context, key string) ([]byte, error) {
	v, id, err := s.read(key)
	switch {
	case err == nil:
		s.touch(id)
		return v, nil
	case errors.Is(err, ErrCorrupt):
		s.drop(key, id)
		return nil, store.ErrNotFound
	}
	return nil, err
}

// read reads the value of key in one read transaction. On ErrCorrupt, id
// is the id of the value whose chunk failed, or 0 if the record failed.
func (s *Store) read(key string) (v []byte, id uint64, err error) {
	if len(key) > maxKeyLen {
		return nil, 0, store.ErrNotFound
	}
	defer s.recoverInto(&err)
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, 0, s.txErr(err)
	}
	defer func() { _ = tx.Rollback() }()
	var kb [128]byte
	ek := append(append(kb[:0], entryPrefix), key...)
	raw := tx.Bucket(bucketEntries).Get(ek)
	if raw == nil {
		return nil, 0, store.ErrNotFound
	}
	r, err := decodeRecord(key, raw)
	if err != nil {
		return nil, 0, ErrCorrupt
	}
	if r.expired(s.now().UnixNano()) {
		return nil, 0, store.ErrNotFound
	}
	v = make([]byte, r.size)
	b := tx.Bucket(bucketChunks)
	var ck [12]byte
	for i := range chunks(r.size) {
		putChunkKey(ck[:], r.id, i)
		part := v[i*chunkSize : min((i+1)*chunkSize, r.size)]
		c := b.Get(ck[:])
		if len(c) != len(part) || chunkSum(r.id, i, c) != r.sum(i) {
			return nil, r.id, ErrCorrupt
		}
		copy(part, c)
	}
	return v, r.id, nil
}

// Set stores value under key, replacing any previous value, and returns
// once the write is on disk. The entry expires ttl after this call; ttl <=
// 0 means never. An entry that weighs more than the whole byte bound is
// refused with an error wrapping [ErrTooLarge], and any previous value
// under key is removed. With a context that is done before the write is
// queued, Set does nothing and returns the context's error; once queued,
// the write is carried out even if the context ends while Set waits for it
// (Set then returns the context's error).
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("disk: set: %w", err)
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("%w: key of %d bytes, at most %d", ErrTooLarge, len(key), maxKeyLen)
	}
	if w := Weight(len(key), int64(len(value))); w > s.maxBytes {
		if err := s.Delete(ctx, key); err != nil {
			return err
		}
		return fmt.Errorf("%w: %d bytes with key and overhead, bound %d", ErrTooLarge, w, s.maxBytes)
	}
	id := s.next.Add(1)
	n := chunks(int64(len(value)))
	sums := make([]byte, 0, 8*n)
	for i := range n {
		sums = appendU64(sums, chunkSum(id, i, value[i*chunkSize:min((i+1)*chunkSize, int64(len(value)))]))
	}
	return s.submit(ctx, &op{
		kind:    opSet,
		key:     strings.Clone(key),
		value:   value,
		id:      id,
		size:    int64(len(value)),
		sums:    sums,
		expires: expiresAt(s.now().UnixNano(), int64(ttl)),
	})
}

// Delete removes key and returns once the removal is on disk. Deleting a
// missing key is not an error. The context is treated as by [Store.Set].
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("disk: delete: %w", err)
	}
	if len(key) > maxKeyLen {
		return nil
	}
	return s.submit(ctx, &op{kind: opDelete, key: strings.Clone(key)})
}

// keysBatch is how many keys Keys collects in one read transaction.
const keysBatch = 256

// Keys calls fn for every unexpired key that starts with prefix, in
// ascending byte order, until fn returns false. fn may call the store,
// including to delete the key it is given: Keys holds no transaction open
// while fn runs. Keys written or removed during the walk may or may not
// be seen. The walk costs time in proportion to the number of keys with
// the prefix, not to the size of the store. It returns the context's
// error, wrapped, if ctx is done before it starts or while it runs.
func (s *Store) Keys(ctx context.Context, prefix string, fn func(key string) bool) error {
	seek := append([]byte{entryPrefix}, prefix...)
	pfx := seek
	skipSeek := false
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("disk: keys: %w", err)
		}
		batch, more, err := s.keysFrom(seek, pfx, skipSeek)
		if err != nil {
			return err
		}
		for _, k := range batch {
			if !fn(k) {
				return nil
			}
		}
		if !more {
			return nil
		}
		seek = append([]byte{entryPrefix}, batch[len(batch)-1]...)
		skipSeek = true
	}
}

// keysFrom returns up to keysBatch unexpired keys from seek on that start
// with pfx (both with the entry prefix), leaving seek itself out when skip
// is set; more reports that the batch was cut short.
func (s *Store) keysFrom(seek, pfx []byte, skip bool) (keys []string, more bool, err error) {
	defer s.recoverInto(&err)
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, false, s.txErr(err)
	}
	defer func() { _ = tx.Rollback() }()
	now := s.now().UnixNano()
	c := tx.Bucket(bucketEntries).Cursor()
	for k, v := c.Seek(seek); k != nil && hasPrefix(k, pfx); k, v = c.Next() {
		if skip && string(k) == string(seek) {
			continue
		}
		if len(keys) == keysBatch {
			return keys, true, nil
		}
		key := string(k[1:])
		if r, err := decodeRecord(key, v); err != nil || r.expired(now) {
			continue
		}
		keys = append(keys, key)
	}
	return keys, false, nil
}

func hasPrefix(b, prefix []byte) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == string(prefix)
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	return Stats{
		Entries: s.entries.Load(),
		Bytes:   s.bytes.Load(),
		Corrupt: s.corrupt.Load(),
		Evicted: s.evicted.Load(),
		Expired: s.expired.Load(),
	}
}

// Len returns the number of entries, counting expired ones not yet
// removed.
func (s *Store) Len() int {
	return int(s.entries.Load())
}

// Bytes returns the total weight of the entries, as bounded by
// [Options.MaxBytes]: the sum of their [Weight].
// It counts every write that returned before the call.
func (s *Store) Bytes() int64 {
	return s.bytes.Load()
}

// MaxBytes returns the byte bound the store was opened with.
func (s *Store) MaxBytes() int64 {
	return s.maxBytes
}

// touch marks id as read, for the second-chance eviction.
func (s *Store) touch(id uint64) {
	w, bit := &s.touched[id/64%touchWords], uint64(1)<<(id%64)
	if w.Load()&bit == 0 {
		w.Or(bit)
	}
}

// untouch clears the mark of id and reports whether it was set.
func (s *Store) untouch(id uint64) bool {
	w, bit := &s.touched[id/64%touchWords], uint64(1)<<(id%64)
	return w.And(^bit)&bit != 0
}

// drop removes the entry of key as corrupt if it still holds the value
// written under id (or, with id 0, if its record is still corrupt), and
// waits for the removal.
func (s *Store) drop(key string, id uint64) {
	s.log.Warn("disk: dropping corrupt entry", slog.String("path", s.path), slog.String("key", key))
	if err := s.submit(context.Background(), &op{kind: opDrop, key: strings.Clone(key), id: id}); err != nil && !errors.Is(err, ErrClosed) {
		s.log.Warn("disk: dropping corrupt entry failed", slog.String("path", s.path), slog.String("key", key), slog.Any("err", err))
	}
}

// txErr translates an error from beginning a bbolt transaction.
func (s *Store) txErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return fmt.Errorf("disk: %w", err)
}

// recoverInto turns a panic of bbolt, which it raises on a damaged page,
// into an error in *err, so that a damaged file fails calls instead of
// crashing the program.
func (s *Store) recoverInto(err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("disk: damaged database file %s: %v", s.path, p)
		s.log.Error("disk: damaged database file", slog.String("path", s.path), slog.Any("panic", p))
	}
}
