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
