// Package storetest is the conformance suite that every [store.Store]
// backend runs from its own tests:
//
//	func TestConformance(t *testing.T) {
//		clock := newFakeClock() // the backend's own injectable clock
//		storetest.Run(t, func(t *testing.T) store.Store {
//			return newBackend(t, clock.Now)
//		}, storetest.Options{Advance: clock.Advance})
//	}
//
// Run checks the promises written in package store's doc comments, plus the
// following, which the interface leaves implicit and the suite makes
// explicit.
//
// Keys are arbitrary strings: the empty string, strings holding any byte
// (NUL, 0xFF, newlines, glob characters such as '*', '?' and '[') and
// strings up to 1 KiB long. Values are arbitrary byte slices from empty to
// 1 MiB; a nil value is stored as an empty one.
//
// Capacity: a store may evict any entry at any time, but the suite assumes
// that a store built by newStore holding no more than [LiveBytes] bytes of
// keys and values in no more than [LiveEntries] entries keeps every entry
// until it is deleted, overwritten or its ttl passes. A backend with a size
// bound must be configured with room for that much, including whatever
// per-entry overhead it counts. Outside that regime nothing here assumes an
// entry survives.
//
// Expiry: a Get made after an entry's ttl has passed returns
// [store.ErrNotFound]; one made before returns the value. A Set restarts the
// ttl from the time of the Set, and a Set with ttl <= 0 removes any expiry
// the key had. The tests that need time to pass use [Options.Advance] and
// never sleep; they use whole seconds and leave a margin of at least one
// second around every deadline, so a backend whose expiry has millisecond
// or second precision passes.
//
// Cancelled contexts: a call made with a context that is already cancelled
// may fail or may behave exactly as with a live context, but it never
// yields a wrong result. In detail: a Get that returns a nil error returns
// the stored value, and a Get of a key that holds a value never returns
// [store.ErrNotFound] (any other error is fine); a Get of a missing key
// returns an error. A Set or Delete that returns nil has taken effect; one
// that returns an error leaves the key holding its old value, the new one,
// or nothing, never anything else. A Keys walk that returns nil has been
// complete; one that returns an error may have stopped early; either way
// it passes fn only keys that exist and match the prefix.
//
// Concurrency: several goroutines Set, Get and Delete overlapping keys at
// once with values that carry their key and a checksum, so a torn value, a
// value from another key or a value mixed from two writes is caught. Run
// the suite with -race.
//
// Ranger: when the store implements [store.Ranger], Keys must pass fn
// exactly the keys that start with the prefix, each once, when no writes
// run during the walk; treat the prefix as plain bytes (no glob or pattern
// characters); stop when fn returns false; and allow fn to delete the key
// it is given, which is how purging by prefix uses it.
//
// Streamer: when [store.StreamerOf] reports that the store streams values
// ([store.Streamer]), the Stream tests check that a value written as a
// stream, in pieces of any size, reads back the same through Get,
// OpenStream and Seek, and a value written with Set through OpenStream;
// that a writer closed without a commit, or whose context ended, leaves
// the key's previous value (or nothing), never part of its own; that a
// stream is invisible until its commit and then visible whole, also to
// readers running while several writers stream to the same keys; that a
// reader whose key is overwritten, deleted or expires goes on with the
// value it opened or fails, and never returns bytes of another value or
// ends early; and that Expire moves a value's expiry. The values streamed
// are a little over 1 MiB at most, and count against LiveBytes.
package storetest
