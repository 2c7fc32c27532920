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

// Store is a byte-level key-value store with per-entry expiry.
//
// Implementations must be safe for concurrent use. A value passed to Set is
// owned by the store afterwards: the caller must not modify it. A value
// returned by Get is shared and read-only: the caller must not modify it,
// and it stays valid (unchanged) even after the key is overwritten or
// deleted. This lets an in-memory backend serve a hit without copying.
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
	// during the walk may or may not be seen.
	Keys(ctx context.Context, prefix string, fn func(key string) bool) error
}
