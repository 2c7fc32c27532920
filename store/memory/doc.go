// Package memory is the embedded default [store.Store]: an in-memory
// key-value store bounded by bytes, with per-entry expiry, built on the
// otter cache (github.com/maypok86/otter/v2) and its W-TinyLFU admission
// and eviction policy.
//
// Every entry weighs len(key) + len(value) + [EntryOverhead] bytes, and
// the store keeps the total under [Options.MaxBytes] by evicting the
// entries least likely to be used again. A hit returns the stored slice
// itself and allocates nothing; [Store.Keys] makes purging by prefix
// possible ([store.Ranger]); [Store.Len] and [Store.Bytes] feed metrics.
// Expiry reads [Options.Clock], which tests replace with a clock they move
// by hand.
//
// The store passes the conformance suite in package storetest.
package memory
