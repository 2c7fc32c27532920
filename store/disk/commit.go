// Writes: one goroutine commits the queued writes in batches, keeps the
// byte bound by eviction and removes expired entries.

package disk

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"

	bolt "go.etcd.io/bbolt"
)

// Limits of one commit: the writes queued while the previous commit was
// syncing share a commit, up to this many of them or until their values
// add up to maxBatchBytes.
const (
	maxBatchOps   = 256
	maxBatchBytes = 16 << 20
)

// reapBatch is how many expired entries each commit removes besides those
// the byte bound needs removed.
const reapBatch = 32

// maxSecondChances is how many read entries one commit may move to the
// back of the eviction queue before it evicts regardless. Each move
// clears the mark a read set, so moves cost no more than reads over time;
// the cap bounds the cost of one commit.
const maxSecondChances = 256

// opKind is what a queued write does.
type opKind uint8

const (
	// opSet stores value (whose chunk sums are in sums) under key, as id.
	opSet opKind = iota + 1
	// opDelete removes key.
	opDelete
	// opDrop removes key as corrupt if it still holds id (with id 0: if
	// its record is still corrupt).
	opDrop
	// opChunks writes value, whole chunks from chunk first on, as chunks
	// of the streamed value id, and marks id pending.
	opChunks
	// opCommit writes value, the last chunks of the streamed value id from
	// chunk first on, and makes the value of size bytes, whose chunk sums
	// are in sums, the entry of key.
	opCommit
	// opAbort deletes the first chunks of the streamed value id, if id is
	// still pending.
	opAbort
	// opExpire makes the entry of key expire at expires, or sets missing
	// when there is none (or it has expired).
	opExpire
)

// op is a write queued for the committer.
type op struct {
	kind    opKind
	key     string
	value   []byte
	id      uint64
	first   int64
	size    int64
	sums    []byte
	expires int64
	missing bool       // opExpire found no entry; read after done
	done    chan error // buffered: the committer never waits on it
}

// submit queues o and waits until it is committed or ctx is done; a write
// queued stays queued.
func (s *Store) submit(ctx context.Context, o *op) error {
	o.done = make(chan error, 1)
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	s.ops <- o
	s.closeMu.RUnlock()
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("disk: %w (the write may still be carried out)", ctx.Err())
	}
}

// run is the committer: it commits the queued writes in batches until the
// queue is closed.
func (s *Store) run() {
	defer close(s.done)
	batch := make([]*op, 0, maxBatchOps)
	for o := range s.ops {
		batch = append(batch[:0], o)
		size := len(o.value)
	fill:
		for len(batch) < maxBatchOps && size < maxBatchBytes {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break fill
				}
				batch = append(batch, o)
				size += len(o.value)
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

// commit applies batch in one transaction. If that fails, it applies each
// write in a transaction of its own, so that one failing write does not
// fail the others.
func (s *Store) commit(batch []*op) {
	err := s.update(batch)
	if err != nil && len(batch) > 1 {
		for _, o := range batch {
			o.done <- s.update([]*op{o})
		}
		return
	}
	if err != nil {
		s.log.Warn("disk: write failed", slog.String("path", s.path), slog.Any("err", err))
	}
	for _, o := range batch {
		o.done <- err
	}
}

// update applies ops, then removes expired entries and keeps the byte
// bound, in one transaction; once it has committed, it adds the changes to
// the store's counters.
func (s *Store) update(ops []*op) (err error) {
	defer s.recoverInto(&err)
	var t *writeTx
	err = s.db.Update(func(tx *bolt.Tx) error {
		t = s.begin(tx)
		for _, o := range ops {
			if err := t.apply(o); err != nil {
				return err
			}
		}
		return t.finish(reapBatch)
	})
	if err != nil {
		return fmt.Errorf("disk: commit: %w", err)
	}
	t.publish()
	return nil
}

// writeTx is a write transaction with the store's buckets and the changes
// it makes to the store's counters.
type writeTx struct {
	s                                       *Store
	entries, chunks, order, expiry, pending *bolt.Bucket
	meta                                    *bolt.Bucket
	now                                     int64

	dEntries, dBytes, dCorrupt, dEvicted, dExpired int64

	// fresh holds the ids of the values this transaction wrote, which
	// evict spares while it can.
	fresh map[uint64]struct{}

	ek []byte // scratch for entry keys
}

func (s *Store) begin(tx *bolt.Tx) *writeTx {
	t := &writeTx{
		s:       s,
		entries: tx.Bucket(bucketEntries),
		chunks:  tx.Bucket(bucketChunks),
		order:   tx.Bucket(bucketOrder),
		expiry:  tx.Bucket(bucketExpiry),
		pending: tx.Bucket(bucketPending),
		meta:    tx.Bucket(bucketMeta),
		now:     s.now().UnixNano(),
	}
	// Ids and sequence numbers only grow, so these buckets are only
	// appended to: fill their pages.
	t.chunks.FillPercent = 1
	t.order.FillPercent = 1
	return t
}

// publish adds the changes of a committed transaction to the counters.
func (t *writeTx) publish() {
	s := t.s
	s.entries.Add(t.dEntries)
	s.bytes.Add(t.dBytes)
	s.corrupt.Add(t.dCorrupt)
	s.evicted.Add(t.dEvicted)
	s.expired.Add(t.dExpired)
}

// apply carries out one queued write.
func (t *writeTx) apply(o *op) error {
	switch o.kind {
	case opSet:
		if err := t.del(o.key); err != nil {
			return err
		}
		if err := t.putChunks(o.id, 0, o.value); err != nil {
			return err
		}
		return t.install(o.key, record{id: o.id, seq: o.id, size: o.size, expires: o.expires, sums: o.sums})
	case opDelete:
		return t.del(o.key)
	case opDrop:
		r, ok, err := t.lookup(o.key)
		if err != nil || !ok || r.id != o.id {
			// Already gone, overwritten, or (id 0) dropped by lookup.
			return err
		}
		t.dCorrupt++
		return t.remove(o.key, r)
	case opChunks:
		if o.first == 0 {
			if err := t.pending.Put(u64(o.id), nil); err != nil {
				return err
			}
		}
		return t.putChunks(o.id, o.first, o.value)
	case opCommit:
		if err := t.putChunks(o.id, o.first, o.value); err != nil {
			return err
		}
		if err := t.pending.Delete(u64(o.id)); err != nil {
			return err
		}
		if err := t.del(o.key); err != nil {
			return err
		}
		return t.install(o.key, record{id: o.id, seq: o.id, size: o.size, expires: o.expires, sums: o.sums})
	case opAbort:
		if t.pending.Get(u64(o.id)) == nil {
			return nil // committed, or never flushed
		}
		if err := t.deleteChunks(o.id, o.first); err != nil {
			return err
		}
		return t.pending.Delete(u64(o.id))
	case opExpire:
		r, ok, err := t.lookup(o.key)
		if err != nil {
			return err
		}
		o.missing = !ok || r.expired(t.now)
		if o.missing {
			return nil
		}
		return t.expire(o.key, r, o.expires)
	}
	return fmt.Errorf("disk: unknown write %d", o.kind)
}

// finish removes up to reap expired entries, evicts until the byte bound
// holds, and records the last id handed out.
func (t *writeTx) finish(reap int) error {
	for range reap {
		if ok, err := t.reapOne(); err != nil || !ok {
			if err != nil {
				return err
			}
			break
		}
	}
	if err := t.evict(); err != nil {
		return err
	}
	return t.meta.SetSequence(max(t.meta.Sequence(), t.s.next.Load()))
}

// entryKey returns the bucketEntries key of key, in a scratch buffer that
// bbolt copies on Put.
func (t *writeTx) entryKey(key string) []byte {
	t.ek = append(append(t.ek[:0], entryPrefix), key...)
	return t.ek
}

// lookup returns the record of key. A corrupt record is deleted and
// counted, and reported as missing.
func (t *writeTx) lookup(key string) (record, bool, error) {
	ek := t.entryKey(key)
	raw := t.entries.Get(ek)
	if raw == nil {
		return record{}, false, nil
	}
	r, err := decodeRecord(key, raw)
	if err != nil {
		// The record was sound when it was counted, but its size is now
		// unknown: Bytes over-counts by that size until the next New,
		// which counts afresh. The value's chunks are left for the next
		// New to sweep.
		t.dCorrupt++
		t.dEntries--
		t.dBytes -= Weight(len(key), 0)
		t.s.log.Warn("disk: dropping corrupt entry record", slog.String("path", t.s.path), slog.String("key", key))
		if err := t.entries.Delete(ek); err != nil {
			return record{}, false, err
		}
		return record{}, false, t.meta.Put(metaSweep, []byte{1})
	}
	return r, true, nil
}

// del removes the entry of key, if any.
func (t *writeTx) del(key string) error {
	r, ok, err := t.lookup(key)
	if err != nil || !ok {
		return err
	}
	return t.remove(key, r)
}

// remove deletes the entry of key, whose record is r, with its chunks and
// its index rows.
func (t *writeTx) remove(key string, r record) error {
	if err := t.deleteChunks(r.id, chunks(r.size)); err != nil {
		return err
	}
	if err := t.order.Delete(u64(r.seq)); err != nil {
		return err
	}
	if r.expires != 0 {
		if err := t.expiry.Delete(expiryKey(r.expires, r.id)); err != nil {
			return err
		}
	}
	t.dEntries--
	t.dBytes -= Weight(len(key), r.size)
	return t.entries.Delete(t.entryKey(key))
}

// putChunks writes data, cut into chunks, as the chunks of id from chunk
// first on. bbolt keeps data until the commit.
func (t *writeTx) putChunks(id uint64, first int64, data []byte) error {
	var ck [12]byte
	for i := int64(0); i*chunkSize < int64(len(data)); i++ {
		putChunkKey(ck[:], id, first+i)
		if err := t.chunks.Put(ck[:], data[i*chunkSize:min((i+1)*chunkSize, int64(len(data)))]); err != nil {
			return err
		}
	}
	return nil
}

// deleteChunks deletes the first n chunks of id.
func (t *writeTx) deleteChunks(id uint64, n int64) error {
	var ck [12]byte
	for i := range n {
		putChunkKey(ck[:], id, i)
		if err := t.chunks.Delete(ck[:]); err != nil {
			return err
		}
	}
	return nil
}

// install writes the record of key and its index rows; the chunks are
// written already.
func (t *writeTx) install(key string, r record) error {
	rec := appendRecord(make([]byte, 0, recordLen(r.size)), key, &r)
	if err := t.entries.Put(t.entryKey(key), rec); err != nil {
		return err
	}
	kb := []byte(key)
	if err := t.order.Put(u64(r.seq), kb); err != nil {
		return err
	}
	if r.expires != 0 {
		if err := t.expiry.Put(expiryKey(r.expires, r.id), kb); err != nil {
			return err
		}
	}
	t.dEntries++
	t.dBytes += Weight(len(key), r.size)
	if t.fresh == nil {
		t.fresh = make(map[uint64]struct{})
	}
	t.fresh[r.id] = struct{}{}
	return nil
}

// reapOne removes the entry that expires first if it has expired, or a
// row of the expiry index that no longer names an entry; it reports
// whether it removed anything.
func (t *writeTx) reapOne() (bool, error) {
	k, v := t.expiry.Cursor().First()
	if k == nil || int64(binary.BigEndian.Uint64(k)) > t.now {
		return false, nil
	}
	id := binary.BigEndian.Uint64(k[8:])
	key := string(v)
	r, ok, err := t.lookup(key)
	if err != nil {
		return false, err
	}
	if ok && r.id == id {
		t.dExpired++
		return true, t.remove(key, r)
	}
	// A row left by a record dropped as corrupt.
	return true, t.expiry.Delete(append([]byte(nil), k...))
}

// evict removes entries until the byte bound holds: expired ones first,
// then the oldest in the eviction queue, giving a read entry a second
// chance (moving it to the back of the queue), and sparing the entries
// this transaction wrote unless they alone exceed the bound.
func (t *writeTx) evict() error {
	chances, spared := 0, 0
	for t.s.bytes.Load()+t.dBytes > t.s.maxBytes {
		if ok, err := t.reapOne(); err != nil || ok {
			if err != nil {
				return err
			}
			continue
		}
		k, v := t.order.Cursor().First()
		if k == nil {
			return nil
		}
		seqKey := append([]byte(nil), k...)
		seq := binary.BigEndian.Uint64(seqKey)
		key := string(v)
		r, ok, err := t.lookup(key)
		if err != nil {
			return err
		}
		if !ok || r.seq != seq {
			// A row left by a record dropped as corrupt.
			if err := t.order.Delete(seqKey); err != nil {
				return err
			}
			continue
		}
		if _, ok := t.fresh[r.id]; ok && spared < len(t.fresh) {
			spared++
			if err := t.requeue(key, r); err != nil {
				return err
			}
			continue
		}
		if chances < maxSecondChances && t.s.untouch(r.id) {
			chances++
			if err := t.requeue(key, r); err != nil {
				return err
			}
			continue
		}
		t.dEvicted++
		if err := t.remove(key, r); err != nil {
			return err
		}
	}
	return nil
}

// requeue moves the entry of key, whose record is r, to the back of the
// eviction queue.
func (t *writeTx) requeue(key string, r record) error {
	if err := t.order.Delete(u64(r.seq)); err != nil {
		return err
	}
	r.seq = t.s.next.Add(1)
	rec := appendRecord(make([]byte, 0, recordLen(r.size)), key, &r)
	if err := t.entries.Put(t.entryKey(key), rec); err != nil {
		return err
	}
	return t.order.Put(u64(r.seq), []byte(key))
}

// expire rewrites the record of key, r, to expire at expires, and moves
// its row in the expiry index.
func (t *writeTx) expire(key string, r record, expires int64) error {
	if r.expires != 0 {
		if err := t.expiry.Delete(expiryKey(r.expires, r.id)); err != nil {
			return err
		}
	}
	r.expires = expires
	rec := appendRecord(make([]byte, 0, recordLen(r.size)), key, &r)
	if err := t.entries.Put(t.entryKey(key), rec); err != nil {
		return err
	}
	if expires != 0 {
		return t.expiry.Put(expiryKey(expires, r.id), []byte(key))
	}
	return nil
}
