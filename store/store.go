// Package store defines the byte-level storage interface that every notmod
// cache backend implements. It knows nothing about HTTP: keys are opaque
// strings and values opaque byte slices, both chosen by package httpcache.
//
// Backends live in their own packages (store/memory, ...), each importing
// only this package and the one library it is built on; store/storetest is
// the conformance suite every backend must pass.
package store

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned by [Store.Get] when the key holds no value, or
// holds one whose expiry has passed.
var ErrNotFound = errors.New("store: not found")

// ErrTooLarge is returned, wrapped, by [Store.Set] for a value the store
// will never hold; a caller can tell it from a store that is down.
var ErrTooLarge = errors.New("store: entry too large")

// Store is a byte-level key-value store with per-entry expiry.
//
// Implementations must be safe for concurrent use. A value passed to Set is
// owned by the store afterwards: the caller must not modify it. A value
// returned by Get is shared and read-only: the caller must not modify it,
// and it stays valid (unchanged) even after the key is overwritten or
// deleted. This lets an in-memory backend serve a hit without copying.
// A key is only read during the call; the store copies it if it keeps it.
//
// With a context that is already done, a call may fail or behave as with a
// live one, but never gives a wrong result: Get never reports an existing
// key as ErrNotFound, and a Set or Delete that returns nil took effect.
type Store interface {
	// Get returns the value stored under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)

	// Set stores value under key, replacing any previous value. ttl is an
	// expiry hint: after ttl the store may forget the entry and Get must
	// not return it once it has expired; ttl <= 0 means no expiry. A store
	// that is bounded in size may evict any entry at any time.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error

	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Ranger is implemented by stores that can list their keys, which purging
// by prefix needs.
type Ranger interface {
	// Keys calls fn for every key that starts with prefix, in no
	// particular order, until fn returns false. Keys added or removed
	// during the walk may or may not be seen. fn may call the store,
	// including deleting the key it is given.
	Keys(ctx context.Context, prefix string, fn func(key string) bool) error
}

// Authority is implemented by stores in front of another, such as a
// node's memory tier in front of a fleet's shared store: GetLatest reads
// the value from the store behind, which holds the latest one, bypassing
// the copy in front.
type Authority interface {
	GetLatest(ctx context.Context, key string) ([]byte, error)
}

// Streamer is implemented by stores that can write and read a value as a
// stream, a part at a time, so that a large value is never held whole in
// memory by the store or its caller.
//
// A value written with CreateStream is the value of its key like one
// written with Set: Get returns it, Set and Delete replace and remove it,
// Keys lists it; and OpenStream reads a value written with Set. A stream
// is visible whole or not at all: until its [StreamWriter.Commit]
// returns nil, Get and OpenStream see the key's previous value (or
// none), and a writer closed without a successful Commit leaves nothing
// behind. A [StreamReader] reads the value the key held when it was
// opened: if the key is overwritten, deleted, evicted or expires while
// it reads, it goes on returning bytes of that value or fails with an
// error, never returns bytes of another value and never ends early with
// io.EOF.
//
// A store in front of another, such as store/tier, may implement the
// methods whether or not the store behind can stream; it then also has a
// CanStream method that says whether it can (see [StreamerOf]).
type Streamer interface {
	// CreateStream returns a writer for a value to be stored under key,
	// expiring ttl after its Commit (ttl <= 0: never). ctx bounds the
	// writes the writer makes, its Commit included.
	CreateStream(ctx context.Context, key string, ttl time.Duration) (StreamWriter, error)

	// OpenStream returns a reader of the value stored under key, or
	// ErrNotFound.
	OpenStream(ctx context.Context, key string) (StreamReader, error)

	// Expire makes the value stored under key expire ttl from now
	// (ttl <= 0: never), as a Set of the same value would, without
	// writing the value again. It returns ErrNotFound when the key holds
	// no value.
	Expire(ctx context.Context, key string, ttl time.Duration) error
}

// StreamWriter writes one value as a stream; see [Streamer]. It is not
// safe for concurrent use.
type StreamWriter interface {
	// Write appends to the value. After an error the writer is spent:
	// Commit fails and Close discards what was written.
	Write(p []byte) (int, error)
	// Commit makes what was written the value of the key, replacing any
	// previous one, whole. After an error nothing of it is visible,
	// unless the error says the context ended while Commit waited.
	Commit() error
	// Close releases the writer and, unless Commit succeeded, discards
	// what was written. It must be called, after Commit or instead of it.
	Close() error
}

// StreamReader reads one value as a stream; see [Streamer]. It is not
// safe for concurrent use.
type StreamReader interface {
	io.ReadSeekCloser
	// Size returns the length of the value.
	Size() int64
}

// StreamerOf returns s as a [Streamer] when it can write values as
// streams: when it implements Streamer and, if it has a CanStream method
// (as a store in front of another does), that reports true.
func StreamerOf(s Store) (Streamer, bool) {
	st, ok := s.(Streamer)
	if !ok {
		return nil, false
	}
	if c, ok := s.(interface{ CanStream() bool }); ok && !c.CanStream() {
		return nil, false
	}
	return st, true
}
