// RFC 9111 §3 and §3.3: storing large content as a stream, and serving it
// from one.
//
// When the store can write streams (store.Streamer) and a response's
// content is longer than Options.StreamThreshold, the response is stored
// as two values. Its content goes, as it passes to the client, to a
// stream under a key of its own (the response's key, "\x00s" and a random
// number, never reused); its entry, the same record as for any response
// with the stream's key and the content's length in place of the content,
// goes under the response's key, where lookups find it. The content is
// committed first and the entry after, so that no entry ever names
// content that was not written whole; an entry whose content is missing,
// damaged or of another length is a miss, and is dropped and reported
// (ErrContentLost). Content the store fails to open (it is down, or out
// of reach) makes a miss too, reported as a store error; the entry is
// kept, to be served once the store answers again. The content expires
// with its entry: it is committed with the entry's expiry hint, and every
// later write of the entry moves the content's expiry to the entry's
// first. Removing an entry removes its content; content whose entry went
// another way (the process stopped between the two writes, the store
// evicted the entry, a request stored over the entry after another's
// lookup read it and before that one stored over it too) is left to
// expire or be evicted.

package httpcache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/notmod/notmod/store"
)

// ErrContentLost is reported, as Event.StoreError, when the streamed
// content of a stored response is missing, damaged or not of its recorded
// length. The response is then dropped and treated as a miss.
var ErrContentLost = errors.New("httpcache: stored content lost")

// streamKeySep starts the part of a content's key that follows its
// response's key. It holds a NUL, so that a purge by prefix, which takes
// keys with one for variants, leaves it to its response.
const streamKeySep = "\x00s"

// newStreamKey returns a key for new content of the response stored under
// key, one that no content had before.
func newStreamKey(key string) string {
	return key + streamKeySep + strconv.FormatUint(rand.Uint64(), 16)
}

// streamWrites reports whether content may be written as streams.
func (c *Cache) streamWrites() bool {
	return c.streams != nil && c.opts.StreamThreshold > 0 && !c.noStreams.Load()
}

// Streamed reports whether the content of the stored response chosen for
// a Serve or ServeStale decision is a stream in the store: then send it
// from [Lookup.Content], not from the slice [Lookup.Reply] returns, which
// is empty.
func (l *Lookup) Streamed() bool { return l.e.flags&flagStream != 0 }

// Content returns a reader of the streamed content of the stored response
// (see [Lookup.Streamed]), positioned at its start; its Size is the
// content's length. It belongs to the Lookup and is closed by Release. A
// read may fail midway, when the store finds a chunk damaged or the
// content was removed since the lookup: the caller then aborts the
// response it was sending, and the next lookup treats the response as
// lost. Content returns nil when the content is not a stream.
func (l *Lookup) Content() store.StreamReader {
	if !l.Streamed() || l.held == nil || l.held.key != l.e.stream {
		return nil
	}
	return l.held.r
}

// heldStream is a reader of streamed content a Lookup holds.
type heldStream struct {
	r   store.StreamReader
	key string
}

// holds reports whether l holds a reader of the content stream key.
func (l *Lookup) holds(key string) bool { return l.held != nil && l.held.key == key }

// hold makes l hold r, a reader of the content stream key.
func (l *Lookup) hold(r store.StreamReader, key string) {
	l.closeStream()
	l.held = &heldStream{r: r, key: key}
}

// openStream opens the streamed content of e. The error wraps
// ErrContentLost when the content is gone or not of e's length.
func (c *Cache) openStream(ctx context.Context, e *entry) (store.StreamReader, error) {
	if c.streams == nil {
		return nil, ErrContentLost
	}
	r, err := c.streams.OpenStream(ctx, e.stream)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrContentLost
	}
	if err != nil {
		return nil, err
	}
	if r.Size() != e.size {
		r.Close()
		return nil, ErrContentLost
	}
	return r, nil
}

// discardStream removes content whose entry could not be stored.
func (c *Cache) discardStream(ctx context.Context, stream string) {
	ctx, cancel := c.storeContext(ctx)
	defer cancel()
	if err := c.opts.Store.Delete(ctx, stream); err != nil {
		c.storeError("delete", err)
	}
}

// lost drops the response stored under key, whose content stream is
// gone, and reports it.
func (c *Cache) lost(ctx context.Context, key, stream string) {
	ctx, cancel := c.storeContext(ctx)
	defer cancel()
	c.storeError("content", ErrContentLost)
	if err := c.opts.Store.Delete(ctx, key); err != nil {
		c.storeError("delete", err)
	}
	if err := c.opts.Store.Delete(ctx, stream); err != nil {
		c.storeError("delete", err)
	}
}

// closeStream closes the content reader l holds, if any.
func (l *Lookup) closeStream() {
	if l.held != nil {
		l.held.r.Close()
		l.held = nil
	}
}

// holdContent makes sure l holds a reader of the streamed content of e,
// the response stored under key, opening one if need be. It reports false
// when the content cannot be read; when it is lost, the response is
// dropped. (When the store failed, it stays.)
func (l *Lookup) holdContent(e *entry, key string) bool {
	if l.holds(e.stream) {
		return true
	}
	r, err := l.c.openStream(l.req.Context(), e)
	if err != nil {
		if errors.Is(err, ErrContentLost) {
			l.c.lost(l.req.Context(), key, e.stream)
			if key == l.storeKey() {
				l.stored = prior{known: true}
			}
		} else {
			l.c.storeError("open", err)
		}
		return false
	}
	l.hold(r, e.stream)
	return true
}

// contentOf returns the body of a response built from e: its content,
// read from the store when it is a stream (with the reader l holds for it,
// which it hands over, else a new one). The caller owns the body. Reading
// the body fails when the content cannot be read.
func (l *Lookup) contentOf(e *entry) io.ReadCloser {
	if e.flags&flagStream == 0 {
		return io.NopCloser(bytes.NewReader(e.body))
	}
	if l.holds(e.stream) {
		r := l.held.r
		l.held = nil
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			r.Close()
			return io.NopCloser(errReader{err})
		}
		return r
	}
	r, err := l.c.openStream(l.req.Context(), e)
	if err != nil {
		return io.NopCloser(errReader{err})
	}
	return r
}

// errReader is a body whose reading fails.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// keepContent makes e, a new entry for the response old was stored as,
// keep old's content.
func (e *entry) keepContent(old *entry) {
	e.body, e.stream, e.size = old.body, old.stream, old.size
	e.flags = e.flags&^flagStream | old.flags&flagStream
}

// streamOf returns the key of the streamed content of the stored entry
// raw, or "".
func streamOf(raw []byte) string {
	var e entry
	if len(raw) == 0 || raw[0] != kindEntry || decodeEntry(raw, &e) != nil || e.flags&flagStream == 0 {
		return ""
	}
	return strings.Clone(e.stream)
}

// prior is what a caller that stores or removes an entry knows of the
// value it replaces: the key of the content stream that value names, if
// any. Callers know it from the lookup that read the value, or from
// having read it themselves; the zero prior knows nothing, and the value
// is read to find out.
type prior struct {
	stream string // the content stream the value names; "" for none
	known  bool
}

// holding returns the prior of a key known to hold e; for a zero e, of a
// key known to hold no content.
func holding(e *entry) prior {
	return prior{stream: streamKey(e), known: true}
}

// streamKey returns the key of e's content stream, or "" when its
// content is not a stream.
func streamKey(e *entry) string {
	if e.flags&flagStream == 0 {
		return ""
	}
	return e.stream
}

// resolve returns old, what a caller knows of the value under key, or,
// when the caller does not know it, what the value read from the store
// says. Only a store that streams holds values that name content; with
// another, nothing is read.
func (c *Cache) resolve(ctx context.Context, key string, old prior) prior {
	if old.known || c.streams == nil {
		return old
	}
	raw, err := c.opts.Store.Get(ctx, key)
	if err != nil {
		return prior{}
	}
	return prior{stream: streamOf(raw), known: true}
}

// priorAt returns what l knows of the value stored under key: what its
// lookup read there, when it read key.
func (l *Lookup) priorAt(key string) prior {
	if key != l.storeKey() {
		return prior{}
	}
	return l.stored
}

// setEntry stores e under key with expiry hint ttl, in place of the
// value old describes (read when the caller does not know it).
//
// The entry must never outlive its streamed content. Content new with e
// was committed with e's expiry hint (see startStream). Content that e
// keeps from the entry it replaces (a 304, a HEAD, a soft purge rewrite
// an entry around its content) is first made to expire with e; when it
// is gone, the entry under key is removed and the error wraps
// ErrContentLost. The content stream of the value replaced is removed,
// unless e names it too.
func (c *Cache) setEntry(ctx context.Context, key string, e *entry, ttl time.Duration, old prior) error {
	old = c.resolve(ctx, key, old)
	if stream := streamKey(e); stream != "" && stream == old.stream {
		err := ErrContentLost
		if c.streams != nil {
			err = c.streams.Expire(ctx, e.stream, ttl)
		}
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, ErrContentLost) {
			_ = c.opts.Store.Delete(ctx, key)
			return ErrContentLost
		}
		if err != nil {
			return err
		}
	}
	if err := c.opts.Store.Set(ctx, key, e.encode(nil), ttl); err != nil {
		return err
	}
	if old.stream != "" && old.stream != streamKey(e) {
		return c.opts.Store.Delete(ctx, old.stream)
	}
	return nil
}

// removeEntry removes the response stored under key and its streamed
// content, if any: the stream old names (read when the caller does not
// know it).
func (c *Cache) removeEntry(ctx context.Context, key string, old prior) error {
	old = c.resolve(ctx, key, old)
	if err := c.opts.Store.Delete(ctx, key); err != nil {
		return err
	}
	if old.stream != "" {
		return c.opts.Store.Delete(ctx, old.stream)
	}
	return nil
}

// startStream turns b into a body that writes the content to a stream in
// the store as it passes, beginning with what it holds. It builds the
// entry that will name the stream, whose expiry hint the stream is
// created with. If the store cannot stream after all, b goes on holding
// the content.
func (b *storingBody) startStream() {
	l, c := b.l, b.l.c
	e, ttl := c.newEntry(b.header, b.status, nil, l.now, b.responseTime, b.vary)
	key := newStreamKey(b.key)
	w, err := c.streams.CreateStream(l.req.Context(), key, ttl)
	if errors.Is(err, errors.ErrUnsupported) {
		c.noStreams.Store(true)
		b.streamAt = -1
		return
	}
	if err != nil {
		b.failed, b.buf = err, nil
		return
	}
	b.sw, b.stream = w, key
	b.entry, b.ttl = e, ttl
	held := b.buf
	b.buf = nil
	b.writeStream(held)
}

// writeStream writes p, content just read, to the stream.
func (b *storingBody) writeStream(p []byte) {
	if len(p) == 0 {
		return
	}
	if _, err := b.sw.Write(p); err != nil {
		b.failed = err
		b.closeStream()
	}
}

// closeStream closes the stream: it discards what was written unless it
// was committed.
func (b *storingBody) closeStream() {
	if b.sw != nil {
		b.sw.Close()
		b.sw = nil
	}
}

// commitStream commits the content written to the stream and returns the
// entry that names it, built when the stream started, with its expiry
// hint.
func (b *storingBody) commitStream() (entry, time.Duration, error) {
	if err := b.sw.Commit(); err != nil {
		return entry{}, 0, err
	}
	e := b.entry
	e.flags |= flagStream
	e.stream, e.size = b.stream, b.n
	return e, b.ttl, nil
}
