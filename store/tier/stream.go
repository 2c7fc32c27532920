// Streams: values written and read a part at a time go straight to and
// from Back, never through Front.

package tier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/notmod/notmod/store"
)

// errNoStream is returned by the streaming methods when Back cannot
// stream values.
var errNoStream = fmt.Errorf("tier: the back store does not stream values: %w", errors.ErrUnsupported)

// errBackDown is returned by CreateStream, and by OpenStream for what
// Front does not hold, while Back is left alone after a failure.
var errBackDown = errors.New("tier: the back store is unavailable")

// CanStream reports whether Back streams values (see [store.StreamerOf]);
// only then do the streaming methods work.
func (s *Store) CanStream() bool {
	_, ok := store.StreamerOf(s.o.Back)
	return ok
}

// CreateStream returns a writer of a value to Back, as a stream: the value
// is never copied into Front. Its Commit, like Set, drops this node's copy
// of the key from Front and tells the other nodes to drop theirs. The
// error wraps errors.ErrUnsupported when Back cannot stream.
func (s *Store) CreateStream(ctx context.Context, key string, ttl time.Duration) (store.StreamWriter, error) {
	back, ok := store.StreamerOf(s.o.Back)
	if !ok {
		return nil, errNoStream
	}
	if !s.backUp() {
		return nil, errBackDown
	}
	w, err := back.CreateStream(ctx, key, ttl)
	if err != nil {
		s.streamResult(ctx, err)
		return nil, err
	}
	return &streamWriter{s: s, ctx: ctx, w: w, key: strings.Clone(key)}, nil
}

// streamResult records the outcome of a streaming call on Back, unless it
// failed because the caller's context ended, which says nothing about
// Back.
func (s *Store) streamResult(ctx context.Context, err error) {
	if err != nil && ctx.Err() != nil {
		return
	}
	s.backResult(err)
}

// errWriterDone is returned by a writer used after its Commit or Close.
var errWriterDone = errors.New("tier: stream writer already committed or closed")

// streamWriter is the writer CreateStream returns.
type streamWriter struct {
	s    *Store
	ctx  context.Context
	w    store.StreamWriter
	key  string
	done bool // committed or closed: misuse is not Back's failure
}

func (w *streamWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errWriterDone
	}
	n, err := w.w.Write(p)
	if err != nil {
		w.s.streamResult(w.ctx, err)
	}
	return n, err
}

// Commit commits the value in Back, then drops the key from Front here
// and announces the change to the other nodes, as Set does.
func (w *streamWriter) Commit() error {
	if w.done {
		return errWriterDone
	}
	s := w.s
	s.changes.Add(1) // a read of Back under way must not keep the old value
	err := w.w.Commit()
	s.streamResult(w.ctx, err)
	if err != nil {
		return err
	}
	w.done = true
	ctx, cancel := s.backContext(context.WithoutCancel(w.ctx))
	defer cancel()
	s.forget(ctx, w.key)
	s.announce(ctx, w.key)
	return nil
}

func (w *streamWriter) Close() error {
	w.done = true
	return w.w.Close()
}

// OpenStream returns a reader of the value of key: Front's copy when it
// has one, else Back's value, read as a stream from Back and not copied
// into Front (when Back cannot stream, it is read whole, as by Get).
// While Back is down it answers from Front alone, and fails for what
// Front does not hold with an error other than store.ErrNotFound, as it
// does when Back fails: only Back can tell that it holds no value, and a
// caller may drop what names a value reported missing.
func (s *Store) OpenStream(ctx context.Context, key string) (store.StreamReader, error) {
	if v, err := s.o.Front.Get(ctx, key); err == nil {
		return bytesReader{bytes.NewReader(v)}, nil
	}
	back, ok := store.StreamerOf(s.o.Back)
	if !ok {
		v, err := s.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		return bytesReader{bytes.NewReader(v)}, nil
	}
	if !s.backUp() {
		return nil, errBackDown
	}
	bctx, cancel := s.backContext(ctx)
	r, err := back.OpenStream(bctx, key)
	cancel()
	s.backResult(err)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("tier: open stream: %w", err)
	}
	if err != nil {
		return nil, store.ErrNotFound
	}
	return r, nil
}

// Expire moves the expiry of the value of key in Back, and that of
// Front's copy, if any, as Set would set it.
func (s *Store) Expire(ctx context.Context, key string, ttl time.Duration) error {
	back, ok := store.StreamerOf(s.o.Back)
	if !ok {
		return errNoStream
	}
	bctx, cancel := s.backContext(ctx)
	err := back.Expire(bctx, key, ttl)
	cancel()
	s.backResult(err)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			_ = s.o.Front.Delete(ctx, key)
		}
		return err
	}
	s.frontMu.Lock()
	defer s.frontMu.Unlock()
	if v, err := s.o.Front.Get(ctx, key); err == nil {
		_ = s.o.Front.Set(ctx, key, v, s.frontTTL(ttl))
	}
	return nil
}

// bytesReader reads a value held whole as a store.StreamReader.
type bytesReader struct{ *bytes.Reader }

func (bytesReader) Close() error { return nil }
