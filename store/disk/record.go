// The on-disk layout: buckets, key encodings, entry records and the
// checksums that guard them.

package disk

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/cespare/xxhash/v2"
)

// Buckets of the database file. Every write of the store touches them in
// one bbolt transaction, so an entry, its chunks and its index rows appear
// and disappear together.
var (
	// bucketEntries maps entryPrefix + key to the entry's record.
	bucketEntries = []byte("entries")
	// bucketChunks maps chunkKey(id, i) to the i-th chunk of the value
	// written under id.
	bucketChunks = []byte("chunks")
	// bucketOrder maps a big-endian sequence number to a key: the eviction
	// queue, oldest first.
	bucketOrder = []byte("order")
	// bucketExpiry maps expiryKey(expires, id) to a key, soonest first.
	bucketExpiry = []byte("expiry")
	// bucketPending holds the ids of streamed values whose chunks are
	// written but not yet committed; New deletes their chunks.
	bucketPending = []byte("pending")
	// bucketMeta holds the format version; its bucket sequence is the
	// highest id or sequence number ever handed out.
	bucketMeta = []byte("meta")
)

// Keys in bucketMeta.
var (
	// metaFormat holds the format version.
	metaFormat = []byte("format")
	// metaSweep is present when a record was dropped as corrupt, leaving
	// chunks that belong to no entry: New then sweeps them.
	metaSweep = []byte("sweep")
)

// formatVersion is the version of the layout described here, stored in
// bucketMeta and in the first byte of every record.
const formatVersion = 1

// entryPrefix is put before every key in bucketEntries: bbolt refuses
// empty keys, and the store accepts them.
const entryPrefix = 'e'

// maxKeyLen is the longest key the store accepts: bbolt's limit, less the
// prefix.
const maxKeyLen = 32768 - 1

// chunkSize is the size of every chunk of a value but the last. Values are
// cut into chunks so that a large value is read and written a chunk at a
// time, each guarded by its own checksum, and so that the file's free space
// is reused in runs of a bounded length.
const chunkSize = 64 << 10

// Layout of a record, the value stored in bucketEntries:
//
//	version  1 byte   formatVersion
//	id       8 bytes  names the value's chunks in bucketChunks
//	seq      8 bytes  the entry's place in bucketOrder
//	size     8 bytes  length of the value
//	expires  8 bytes  Unix nanoseconds, 0 for never
//	sums     8 bytes per chunk: chunkSum of each chunk
//	check    8 bytes  xxhash64 of the key and all of the above
//
// All integers are big-endian.
const (
	recHeader = 1 + 4*8
	recCheck  = 8
)

// errBadRecord reports a record that fails its checksum or its layout.
var errBadRecord = errors.New("disk: corrupt entry record")

// record is a decoded entry record. sums aliases the bytes it was decoded
// from, which bbolt keeps valid only during the transaction.
type record struct {
	id, seq uint64
	size    int64
	expires int64 // Unix nanoseconds; 0: never
	sums    []byte
}

// chunks returns how many chunks a value of size bytes is cut into.
func chunks(size int64) int64 {
	return (size + chunkSize - 1) / chunkSize
}

// sum returns the checksum of chunk i, from r.sums.
func (r *record) sum(i int64) uint64 {
	return binary.BigEndian.Uint64(r.sums[8*i:])
}

// expired reports whether r has expired at now (Unix nanoseconds).
func (r *record) expired(now int64) bool {
	return r.expires != 0 && now >= r.expires
}

// decodeRecord decodes and checks the record stored under key.
func decodeRecord(key string, b []byte) (record, error) {
	if len(b) < recHeader+recCheck || b[0] != formatVersion {
		return record{}, errBadRecord
	}
	body := b[:len(b)-recCheck]
	if recordSum(key, body) != binary.BigEndian.Uint64(b[len(body):]) {
		return record{}, errBadRecord
	}
	r := record{
		id:      binary.BigEndian.Uint64(b[1:]),
		seq:     binary.BigEndian.Uint64(b[9:]),
		size:    int64(binary.BigEndian.Uint64(b[17:])),
		expires: int64(binary.BigEndian.Uint64(b[25:])),
		sums:    body[recHeader:],
	}
	if r.size < 0 || int64(len(r.sums)) != 8*chunks(r.size) {
		return record{}, errBadRecord
	}
	return r, nil
}

// appendRecord appends the encoded record of key to dst; r.sums must hold
// one sum for each chunk of r.size bytes.
func appendRecord(dst []byte, key string, r *record) []byte {
	start := len(dst)
	dst = append(dst, formatVersion)
	dst = binary.BigEndian.AppendUint64(dst, r.id)
	dst = binary.BigEndian.AppendUint64(dst, r.seq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.size))
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.expires))
	dst = append(dst, r.sums...)
	return binary.BigEndian.AppendUint64(dst, recordSum(key, dst[start:]))
}

// recordLen is the encoded length of a record of a size-byte value.
func recordLen(size int64) int {
	return recHeader + 8*int(chunks(size)) + recCheck
}

// recordSum is the checksum of a record: it covers the key, so that a
// record found under another key fails it.
func recordSum(key string, body []byte) uint64 {
	var d xxhash.Digest
	d.Reset()
	_, _ = d.WriteString(key)
	_, _ = d.Write(body)
	return d.Sum64()
}

// chunkSum is the checksum of the i-th chunk of the value written under
// id: it covers id and i, so that a chunk read in place of another fails
// it.
func chunkSum(id uint64, i int64, data []byte) uint64 {
	var d xxhash.Digest
	d.Reset()
	var k [12]byte
	putChunkKey(k[:], id, i)
	_, _ = d.Write(k[:])
	_, _ = d.Write(data)
	return d.Sum64()
}

// putChunkKey writes the key of chunk i of id into k, which holds 12 bytes:
// the id, then the chunk's index, both big-endian, so a value's chunks are
// neighbours in the tree.
func putChunkKey(k []byte, id uint64, i int64) {
	binary.BigEndian.PutUint64(k, id)
	binary.BigEndian.PutUint32(k[8:], uint32(i))
}

// expiryKey returns the key of an entry in bucketExpiry.
func expiryKey(expires int64, id uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(expires))
	binary.BigEndian.PutUint64(k[8:], id)
	return k
}

// u64 returns v big-endian.
func u64(v uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v)
}

// expiresAt returns the expiry, in Unix nanoseconds, of an entry written
// at now (Unix nanoseconds) with ttl: 0 for ttl <= 0, saturated at the
// largest time representable.
func expiresAt(now int64, ttl int64) int64 {
	switch {
	case ttl <= 0:
		return 0
	case now > 0 && ttl > math.MaxInt64-now:
		return math.MaxInt64
	case now+ttl <= 0:
		return 1 // before 1970: expired, but not "never"
	}
	return now + ttl
}

// appendU64 appends v big-endian.
func appendU64(dst []byte, v uint64) []byte {
	return binary.BigEndian.AppendUint64(dst, v)
}

// binaryU64 reads a big-endian uint64.
func binaryU64(b []byte) uint64 {
	return binary.BigEndian.Uint64(b)
}
