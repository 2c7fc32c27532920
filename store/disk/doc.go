// Package disk is the persistent [store.Store]: a key-value store in one
// file that survives restarts, bounded by bytes, with per-entry expiry,
// built on bbolt (go.etcd.io/bbolt), a B+tree with copy-on-write pages and
// transactions.
//
// # Crash safety
//
// Every write is one bbolt transaction: an entry's value, its record and
// its rows in the eviction and expiry indexes appear together when the
// transaction commits, or not at all. bbolt commits by writing the new
// pages, syncing them, then writing and syncing a new meta page that
// points at them; a crash at any moment leaves the previous meta page in
// force, so a half-written entry is never visible. A write returns once
// its commit is on disk. Writes that arrive while a commit is syncing
// share the next commit (group commit), so many writers pay one fsync.
//
// # Checksums
//
// A value is stored in chunks of 64 KiB, each guarded by an xxhash64 that
// covers the chunk's bytes and its place (the value's id and the chunk's
// index), kept in the entry's record; the record is guarded by an xxhash64
// of itself and its key. [Store.Get] checks every chunk before it returns
// the value, [Reader] each chunk before it hands out any of it. An entry
// that fails a check is dropped, counted in [Stats.Corrupt] and logged,
// and reported as [store.ErrNotFound]: a damaged body is never served.
// [New] checks every record (not every value) when it opens a file.
//
// # Eviction and expiry
//
// The entries are weighed with [Weight], which follows the file space they
// take, and the total is kept under [Options.MaxBytes]. A write that takes
// the total past the bound removes, in its own transaction, expired
// entries first, then entries in the order they were written, giving one
// that was read since it was last considered a second chance at the back
// of the queue (the CLOCK approximation of least recently used). Every
// commit also removes up to 32 expired entries, soonest-expired first, so
// the file does not fill with dead entries. Expiry is read from
// [Options.Clock]; an expired entry is never returned.
//
// # Streaming
//
// A value too large to hold whole is written with [Store.Create], which
// returns a [Writer] that sends it to the file a megabyte at a time and
// makes it visible, whole, at [Writer.Commit]; it is read with
// [Store.Open], which returns a [Reader] that reads a chunk at a time and
// holds no transaction between reads and can [Reader.Seek] to any offset,
// reading only the chunks from there on. A Writer reuses one buffer of
// 1 MiB and a Reader one of 64 KiB, however long the value. Chunks written
// by a stream that never committed (because the program died) are deleted
// by the next New. Through [Store.CreateStream], [Store.OpenStream] and
// [Store.Expire] the store is a [store.Streamer].
//
// # Figures
//
// Measured on a 2-core x86-64 machine with an ext4 disk (see
// BenchmarkOverhead, BenchmarkGet and BenchmarkSet):
//
//	file space per entry beyond key and value, keys of 48 bytes:
//	  value 0 B: 365 B; 100 B: 412 B; 1 KiB: 1409 B; 4 KiB and 10 KiB:
//	  2431 B; 100 KiB: 4508 B (4.4 %); 1 MiB: 33540 B (3.2 %)
//	  (Weight estimates each within 10 %)
//	high-water mark of the file after writing 4 × MaxBytes: 1.1 to 1.25 ×
//	  MaxBytes (the file never shrinks, but reuses free pages)
//	Get hit, 1 KiB: 2 to 4 µs, 14 allocations (all but the value's in
//	  bbolt's read transaction); 100 KiB: 70 to 90 µs (the memory store:
//	  about 0.1 µs for either, with no allocation)
//	Set, one writer: one commit each, 0.5 ms (1 KiB) to 0.8–2 ms
//	  (100 KiB); 16 writers sharing commits: 0.07–0.1 ms a write (1 KiB)
//	  and 220–340 MB/s (100 KiB)
//
// # Why bbolt
//
// bbolt is a pure-Go B+tree in one file whose transactions give the
// all-or-nothing visibility above without a write-ahead log to replay. A
// cache reads far more than it writes, and a B+tree serves a read with a
// few page lookups in a memory-mapped file; its pages freed by deletes are
// reused at once, so the file follows the byte bound, where an LSM tree
// reclaims deleted bytes only when it compacts. It needs no module but
// golang.org/x/sys.
package disk
