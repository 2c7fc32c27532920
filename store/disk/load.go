// Opening a file: creating the buckets, checking the format, counting the
// entries and repairing what a crash or a damaged record left behind.

package disk

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"

	bolt "go.etcd.io/bbolt"
)

// load prepares the file for use in one transaction: it creates the
// buckets of a new file, checks the format of an old one, deletes the
// chunks of streamed values never committed, drops corrupt records,
// counts the entries and their weight, sweeps the chunks of no entry if a
// record was dropped, and evicts down to the byte bound.
func (s *Store) load() (err error) {
	defer s.recoverInto(&err)
	var t *writeTx
	var aborted, swept int
	err = s.db.Update(func(tx *bolt.Tx) error {
		fresh := tx.Bucket(bucketMeta) == nil
		for _, name := range [][]byte{bucketEntries, bucketChunks, bucketOrder, bucketExpiry, bucketPending, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if fresh {
			if err := meta.Put(metaFormat, []byte{formatVersion}); err != nil {
				return err
			}
		} else if f := meta.Get(metaFormat); !bytes.Equal(f, []byte{formatVersion}) {
			return fmt.Errorf("disk: %s holds a store of format %v, this one reads format %d", s.path, f, formatVersion)
		}
		s.next.Store(meta.Sequence())
		t = s.begin(tx)

		var err error
		if aborted, err = t.abortPending(); err != nil {
			return err
		}
		entries, weights, bad := int64(0), int64(0), [][]byte(nil)
		c := t.entries.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			r, err := decodeRecord(string(k[1:]), v)
			if err != nil {
				bad = append(bad, bytes.Clone(k))
				continue
			}
			entries++
			weights += Weight(len(k)-1, r.size)
		}
		for _, k := range bad {
			s.log.Warn("disk: dropping corrupt entry record", slog.String("path", s.path), slog.String("key", string(k[1:])))
			if err := t.entries.Delete(k); err != nil {
				return err
			}
		}
		t.dCorrupt = int64(len(bad))
		s.entries.Store(entries)
		s.bytes.Store(weights)
		if len(bad) > 0 || meta.Get(metaSweep) != nil {
			if swept, err = t.sweep(); err != nil {
				return err
			}
			if err := meta.Delete(metaSweep); err != nil {
				return err
			}
		}
		return t.finish(0)
	})
	if err != nil {
		return fmt.Errorf("disk: open %s: %w", s.path, err)
	}
	t.publish()
	s.log.Debug("disk: opened",
		slog.String("path", s.path),
		slog.Int64("entries", s.entries.Load()),
		slog.Int64("bytes", s.bytes.Load()),
		slog.Int64("corrupt", s.corrupt.Load()),
		slog.Int64("evicted", s.evicted.Load()),
		slog.Int("aborted_streams", aborted),
		slog.Int("swept_chunks", swept))
	return nil
}

// abortPending deletes the chunks of every streamed value that was never
// committed and returns how many there were.
func (t *writeTx) abortPending() (int, error) {
	var ids [][]byte
	c := t.pending.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		ids = append(ids, bytes.Clone(k))
	}
	for _, id := range ids {
		var doomed [][]byte
		cc := t.chunks.Cursor()
		for k, _ := cc.Seek(id); k != nil && bytes.HasPrefix(k, id); k, _ = cc.Next() {
			doomed = append(doomed, bytes.Clone(k))
		}
		for _, k := range doomed {
			if err := t.chunks.Delete(k); err != nil {
				return 0, err
			}
		}
		if err := t.pending.Delete(id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// sweep deletes the chunks that belong to no entry, left by records
// dropped as corrupt, and returns how many it deleted. It reads the key of
// every chunk in the file.
func (t *writeTx) sweep() (int, error) {
	live := make(map[uint64]struct{})
	c := t.entries.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if r, err := decodeRecord(string(k[1:]), v); err == nil {
			live[r.id] = struct{}{}
		}
	}
	var doomed [][]byte
	cc := t.chunks.Cursor()
	for k, _ := cc.First(); k != nil; k, _ = cc.Next() {
		if _, ok := live[binary.BigEndian.Uint64(k)]; !ok {
			doomed = append(doomed, bytes.Clone(k))
		}
	}
	for _, k := range doomed {
		if err := t.chunks.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}
