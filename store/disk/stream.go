// Streaming: large values written and read a chunk at a time, never whole
// in memory.

package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/notmod/notmod/store"
)

// streamFlush is how many bytes a [Writer] holds before it writes them to
// the file: 16 chunks, 1 MiB.
const streamFlush = 16 * chunkSize

// errWriterDone is returned by a Writer used after Commit or Close.
var errWriterDone = errors.New("disk: writer already committed or closed")

// Writer writes a value to the store as a stream, for a value too large
// to hold in memory whole. It holds at most 1 MiB of the value at a time:
// the rest goes to the file as it comes, in chunks that belong to no entry
// until [Writer.Commit] makes them the entry of the key, in one
// transaction that replaces any previous value. Until then no reader sees
// any of it, and if the program dies first, the next [New] deletes the
// chunks. A Writer is not safe for concurrent use.
//
// The chunks written before Commit are not weighed against
// [Options.MaxBytes] until Commit, so the file may hold that much more
// than the bound while a value streams in.
type Writer struct {
	s    *Store
	ctx  context.Context
	key  string
	ttl  time.Duration
	id   uint64
	buf  []byte // bytes not yet sent: whole chunks, then a partial one
	sums []byte // chunk sums of the bytes sent
	n    int64  // bytes written
	sent int64  // chunks sent
	err  error  // the first error, returned by every later call
	done bool   // Commit succeeded, or Close was called
}

// Create returns a [Writer] for a value to be stored under key. The entry
// will expire ttl after its Commit; ttl <= 0 means never. ctx bounds the
// writes the Writer makes, and its Commit. The caller must call
// [Writer.Close] in the end, after Commit or instead of it.
func (s *Store) Create(ctx context.Context, key string, ttl time.Duration) (*Writer, error) {
	if len(key) > maxKeyLen {
		return nil, fmt.Errorf("%w: key of %d bytes, at most %d", ErrTooLarge, len(key), maxKeyLen)
	}
	s.closeMu.RLock()
	closed := s.closed
	s.closeMu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	return &Writer{s: s, ctx: ctx, key: strings.Clone(key), ttl: ttl, id: s.next.Add(1)}, nil
}

// Write appends p to the value. It fails with an error wrapping
// [ErrTooLarge] once the value would weigh more than the byte bound; the
// Writer is then spent, and Close discards what it wrote.
func (w *Writer) Write(p []byte) (int, error) {
	switch {
	case w.err != nil:
		return 0, w.err
	case w.done:
		return 0, errWriterDone
	}
	if wt := Weight(len(w.key), w.n+int64(len(p))); wt > w.s.maxBytes {
		w.err = fmt.Errorf("%w: more than %d bytes with key and overhead, bound %d", ErrTooLarge, wt, w.s.maxBytes)
		return 0, w.err
	}
	written := 0
	for len(p) > 0 {
		if w.buf == nil {
			w.buf = make([]byte, 0, streamFlush)
		}
		k := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+k]
		p = p[k:]
		written += k
		w.n += int64(k)
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(); err != nil {
				w.err = err
				return written, err
			}
		}
	}
	return written, nil
}

// ReadFrom writes what r yields until io.EOF, as Write would, and returns
// how many bytes it read. io.Copy uses it.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		switch {
		case w.err != nil:
			return total, w.err
		case w.done:
			return total, errWriterDone
		}
		if w.buf == nil {
			w.buf = make([]byte, 0, streamFlush)
		}
		k, rerr := r.Read(w.buf[len(w.buf):cap(w.buf)])
		if k > 0 {
			if wt := Weight(len(w.key), w.n+int64(k)); wt > w.s.maxBytes {
				w.err = fmt.Errorf("%w: more than %d bytes with key and overhead, bound %d", ErrTooLarge, wt, w.s.maxBytes)
				return total, w.err
			}
			w.buf = w.buf[:len(w.buf)+k]
			w.n += int64(k)
			total += int64(k)
			if len(w.buf) == cap(w.buf) {
				if err := w.flush(); err != nil {
					w.err = err
					return total, err
				}
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, rerr
		}
	}
}

// flush sends the whole chunks in w.buf to the file, as chunks of no
// entry yet.
func (w *Writer) flush() error {
	whole := int64(len(w.buf)) / chunkSize * chunkSize
	data := w.buf[:whole]
	w.appendSums(data)
	o := &op{kind: opChunks, id: w.id, first: w.sent, value: data}
	w.sent += chunks(whole)
	if err := w.s.submit(w.ctx, o); err != nil {
		// The op may still own data, until a commit the writer no
		// longer waits for: leave the buffer to it.
		w.buf = nil
		return err
	}
	// Committed: bbolt has copied data into the file, so the buffer is
	// the writer's again, and one buffer serves the whole stream.
	w.buf = w.buf[:copy(w.buf, w.buf[whole:])]
	return nil
}

// appendSums adds the sums of the chunks of data, which starts at chunk
// w.sent, to w.sums.
func (w *Writer) appendSums(data []byte) {
	for i := int64(0); i*chunkSize < int64(len(data)); i++ {
		c := data[i*chunkSize : min((i+1)*chunkSize, int64(len(data)))]
		w.sums = appendU64(w.sums, chunkSum(w.id, w.sent+i, c))
	}
}

// Commit makes what was written the value of the key, replacing any
// previous one, and returns once that is on disk. After an error, nothing
// of what was written is visible (unless the context ended while Commit
// waited, in which case the commit may still happen); Close then discards
// it.
func (w *Writer) Commit() error {
	switch {
	case w.err != nil:
		return w.err
	case w.done:
		return errWriterDone
	}
	if err := w.ctx.Err(); err != nil {
		w.err = fmt.Errorf("disk: commit: %w", err)
		return w.err
	}
	w.appendSums(w.buf)
	err := w.s.submit(w.ctx, &op{
		kind:    opCommit,
		key:     w.key,
		value:   w.buf,
		id:      w.id,
		first:   w.sent,
		size:    w.n,
		sums:    w.sums,
		expires: expiresAt(w.s.now().UnixNano(), int64(w.ttl)),
	})
	w.buf = nil
	if err != nil {
		w.err = err
		return err
	}
	w.done = true
	return nil
}

// Close discards what was written unless Commit succeeded. It always
// returns nil; chunks it cannot delete (because the store is closed) are
// deleted by the next [New].
func (w *Writer) Close() error {
	committed := w.done && w.err == nil
	w.done = true
	w.buf = nil
	if committed || w.sent == 0 {
		return nil
	}
	_ = w.s.submit(context.WithoutCancel(w.ctx), &op{kind: opAbort, id: w.id, first: w.sent})
	w.sent = 0
	return nil
}

// Reader reads a value from the store as a stream, one 64 KiB chunk at a
// time, each checked against its checksum before any of it is returned.
// It holds no transaction between reads, so a slow reader holds up
// nothing; if the entry is overwritten, deleted or evicted in the
// meantime, Read fails with [ErrChanged]. A Reader is not safe for
// concurrent use.
type Reader struct {
	s     *Store
	key   string
	id    uint64
	size  int64
	sums  []byte
	next  int64  // next chunk to load
	skip  int64  // bytes of chunk next to skip once loaded (after Seek)
	buf   []byte // unread part of the chunk loaded
	chunk []byte // the chunk loaded, chunk next-1; empty after Seek
	err   error  // sticky: io.EOF, or the error that stopped the reader
}

// Open returns a [Reader] for the value stored under key, or
// [store.ErrNotFound] if there is none, it has expired, or its record is
// corrupt (it is then dropped and counted, as by Get). The context is not
// consulted.
func (s *Store) Open(_ context.Context, key string) (*Reader, error) {
	r, err := s.open(key)
	if errors.Is(err, ErrCorrupt) {
		s.drop(key, 0)
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	s.touch(r.id)
	return r, nil
}

func (s *Store) open(key string) (rd *Reader, err error) {
	if len(key) > maxKeyLen {
		return nil, store.ErrNotFound
	}
	defer s.recoverInto(&err)
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, s.txErr(err)
	}
	defer func() { _ = tx.Rollback() }()
	raw := tx.Bucket(bucketEntries).Get(append([]byte{entryPrefix}, key...))
	if raw == nil {
		return nil, store.ErrNotFound
	}
	r, err := decodeRecord(key, raw)
	if err != nil {
		return nil, ErrCorrupt
	}
	if r.expired(s.now().UnixNano()) {
		return nil, store.ErrNotFound
	}
	return &Reader{s: s, key: strings.Clone(key), id: r.id, size: r.size, sums: append([]byte(nil), r.sums...)}, nil
}

// Size returns the length of the value.
func (r *Reader) Size() int64 {
	return r.size
}

// Read reads up to len(p) bytes of the value. It returns [ErrCorrupt],
// wrapped, for a chunk that fails its checksum (the entry is then dropped
// and counted), and [ErrChanged] if the entry was replaced or removed
// since Open.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if err := r.load(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// WriteTo writes the rest of the value to w, a chunk at a time, and
// returns how many bytes it wrote. io.Copy uses it.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(r.buf) == 0 {
			if err := r.load(); err == io.EOF {
				return total, nil
			} else if err != nil {
				return total, err
			}
		}
		n, err := w.Write(r.buf)
		total += int64(n)
		r.buf = r.buf[n:]
		if err != nil {
			return total, err
		}
	}
}

// load reads the next chunk into r.chunk, or returns the error that stops
// the reader.
func (r *Reader) load() error {
	if r.err != nil {
		return r.err
	}
	if r.next >= chunks(r.size) {
		r.err = io.EOF
		return r.err
	}
	corrupt, err := r.loadChunk()
	if corrupt {
		r.s.drop(r.key, r.id)
	}
	if err != nil {
		r.err = err
		return err
	}
	r.buf = r.chunk[r.skip:]
	r.next++
	r.skip = 0
	return nil
}

// Seek sets the offset of the next Read or WriteTo, relative to the start
// of the value (io.SeekStart), to the offset reached (io.SeekCurrent) or
// to the end (io.SeekEnd), and returns the new offset. It reads nothing:
// the chunk at the new offset is read, and checked, by the next Read.
// Seeking past the end is allowed; reads there return io.EOF. After a
// read failed (the entry changed or is corrupt) or Close, Seek returns
// that error.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	if r.err != nil && r.err != io.EOF {
		return 0, r.err
	}
	var pos int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		pos = r.offset()
	case io.SeekEnd:
		pos = r.size
	default:
		return 0, errors.New("disk: Seek: invalid whence")
	}
	if offset > math.MaxInt64-pos {
		return 0, errors.New("disk: Seek: offset overflows")
	}
	pos += offset
	if pos < 0 {
		return 0, errors.New("disk: Seek: negative position")
	}
	r.err = nil
	if len(r.chunk) > 0 && pos >= (r.next-1)*chunkSize && pos < (r.next-1)*chunkSize+int64(len(r.chunk)) {
		// Within the chunk loaded.
		r.buf = r.chunk[pos-(r.next-1)*chunkSize:]
		return pos, nil
	}
	r.chunk, r.buf = r.chunk[:0], nil
	if pos >= r.size {
		r.next, r.skip = chunks(r.size), 0
	} else {
		r.next, r.skip = pos/chunkSize, pos%chunkSize
	}
	return pos, nil
}

// offset returns the offset of the next byte a Read returns.
func (r *Reader) offset() int64 {
	if len(r.chunk) == 0 {
		return min(r.next*chunkSize+r.skip, r.size)
	}
	return (r.next-1)*chunkSize + int64(len(r.chunk)-len(r.buf))
}

// loadChunk reads chunk r.next in a read transaction of its own. It
// reports corrupt when the chunk fails its checksum, or is missing while
// the entry still holds the value.
func (r *Reader) loadChunk() (corrupt bool, err error) {
	defer r.s.recoverInto(&err)
	tx, err := r.s.db.Begin(false)
	if err != nil {
		return false, r.s.txErr(err)
	}
	defer func() { _ = tx.Rollback() }()
	var ck [12]byte
	putChunkKey(ck[:], r.id, r.next)
	c := tx.Bucket(bucketChunks).Get(ck[:])
	want := min(chunkSize, r.size-r.next*chunkSize)
	if c == nil {
		raw := tx.Bucket(bucketEntries).Get(append([]byte{entryPrefix}, r.key...))
		if rec, err := decodeRecord(r.key, raw); err != nil || rec.id != r.id {
			return false, ErrChanged
		}
	}
	if int64(len(c)) != want || chunkSum(r.id, r.next, c) != binaryU64(r.sums[8*r.next:]) {
		return true, fmt.Errorf("%w: chunk %d of %q", ErrCorrupt, r.next, r.key)
	}
	r.chunk = append(r.chunk[:0], c...)
	return false, nil
}

// Close releases the reader; later reads fail.
func (r *Reader) Close() error {
	r.chunk, r.buf = nil, nil
	if r.err == nil || r.err == io.EOF {
		r.err = errors.New("disk: read after Close")
	}
	return nil
}

// The store.Streamer methods: the Writer and Reader above, through the
// interface types of package store.
var _ store.Streamer = (*Store)(nil)

// CreateStream is [Store.Create], for [store.Streamer].
func (s *Store) CreateStream(ctx context.Context, key string, ttl time.Duration) (store.StreamWriter, error) {
	w, err := s.Create(ctx, key, ttl)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// OpenStream is [Store.Open], for [store.Streamer].
func (s *Store) OpenStream(ctx context.Context, key string) (store.StreamReader, error) {
	r, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Expire makes the entry of key expire ttl from now (ttl <= 0: never),
// without writing its value again, and returns once that is on disk. It
// returns [store.ErrNotFound] when the key holds no entry, or an expired
// one. The context is treated as by [Store.Set].
func (s *Store) Expire(ctx context.Context, key string, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("disk: expire: %w", err)
	}
	if len(key) > maxKeyLen {
		return store.ErrNotFound
	}
	o := &op{kind: opExpire, key: strings.Clone(key), expires: expiresAt(s.now().UnixNano(), int64(ttl))}
	if err := s.submit(ctx, o); err != nil {
		return err
	}
	if o.missing {
		return store.ErrNotFound
	}
	return nil
}
