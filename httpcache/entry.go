// RFC 9111 §3: the stored form of a response, and what the cache computed
// about it when it stored it.

package httpcache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/http"
	"slices"
	"time"
	"unsafe"
)

// errCorrupt reports a stored value that is not a well-formed entry; the
// cache treats it as a miss and overwrites it.
var errCorrupt = errors.New("httpcache: corrupt stored entry")

// Stored values start with a kind byte and a format version.
const (
	kindEntry   = 'E' // a stored response
	kindVariant = 'V' // the Vary record of a URL (see variants.go)
	version     = 1
	// versionStream marks an entry whose content is stored apart, as a
	// stream (see stream.go): a cache that does not know it reads such
	// an entry as corrupt, a miss, rather than serving its reference as
	// content.
	versionStream = 2
)

// entry flags.
const (
	flagNoCache        = 1 << iota // must be validated before each use (§5.2.2.4)
	flagMustRevalidate             // no stale use once stale (§5.2.2.2, §5.2.2.8, §4.2.4)
	flagImmutable                  // a fresh response needs no client revalidation (RFC 8246)
	flagHeuristic                  // the freshness lifetime is heuristic (§4.2.2)
	flagHasLength                  // the response carried Content-Length
	flagStream                     // the content is a stream of its own (stream.go)
)

// entry is a decoded view of a stored response. Its strings and byte slices
// point into the stored value, which stores never modify, so decoding
// allocates nothing.
type entry struct {
	status       int
	flags        uint32
	requestTime  time.Time     // when the request that got it was sent (§4.2.3)
	responseTime time.Time     // when the response was received (§4.2.3)
	initialAge   time.Duration // corrected_initial_age (§4.2.3)
	lifetime     time.Duration // freshness_lifetime (§4.2.1)
	swr          time.Duration // stale-while-revalidate, or -1 (RFC 5861 §3)
	sie          time.Duration // stale-if-error, or -1 (RFC 5861 §4)
	lastModified time.Time     // Last-Modified, or zero
	date         time.Time     // Date, or zero
	etag         string        // ETag field value, or ""
	vary         string        // the request's Vary-selected fields (see variants.go)
	header       []byte        // "Name: value\r\n" lines
	body         []byte        // the content, unless flagStream
	stream       string        // with flagStream: the key of the content's stream
	size         int64         // with flagStream: the length of the content
}

// fixed-size part of an encoded entry: kind, version, status, flags and
// eight 64-bit times and durations.
const entryFixed = 1 + 1 + 2 + 4 + 8*8

// encode appends the stored form of e to dst.
func (e *entry) encode(dst []byte) []byte {
	if e.flags&flagStream != 0 {
		dst = append(dst, kindEntry, versionStream)
	} else {
		dst = append(dst, kindEntry, version)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(e.status))
	dst = binary.BigEndian.AppendUint32(dst, e.flags)
	for _, v := range [...]int64{
		e.requestTime.UnixNano(), e.responseTime.UnixNano(),
		int64(e.initialAge), int64(e.lifetime), int64(e.swr), int64(e.sie),
		unixOrZero(e.lastModified), unixOrZero(e.date),
	} {
		dst = binary.BigEndian.AppendUint64(dst, uint64(v))
	}
	dst = appendBytes(dst, e.etag)
	dst = appendBytes(dst, e.vary)
	dst = appendBytes(dst, unsafeString(e.header))
	if e.flags&flagStream != 0 {
		// The content's place: its length, then its stream's key.
		dst = binary.BigEndian.AppendUint32(dst, uint32(8+len(e.stream)))
		dst = binary.BigEndian.AppendUint64(dst, uint64(e.size))
		return append(dst, e.stream...)
	}
	return appendBytes(dst, unsafeString(e.body))
}

// contentLength returns the length of the stored content.
func (e *entry) contentLength() int64 {
	if e.flags&flagStream != 0 {
		return e.size
	}
	return int64(len(e.body))
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

func appendBytes(dst []byte, s string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(s)))
	return append(dst, s...)
}

// decodeEntry decodes b, a stored value of kind kindEntry, into e without
// copying.
func decodeEntry(b []byte, e *entry) error {
	if len(b) < entryFixed || b[0] != kindEntry || b[1] != version && b[1] != versionStream {
		return errCorrupt
	}
	e.status = int(binary.BigEndian.Uint16(b[2:]))
	e.flags = binary.BigEndian.Uint32(b[4:])
	var v [8]int64
	for i := range v {
		v[i] = int64(binary.BigEndian.Uint64(b[8+8*i:]))
	}
	e.requestTime = time.Unix(0, v[0])
	e.responseTime = time.Unix(0, v[1])
	e.initialAge = time.Duration(v[2])
	e.lifetime = time.Duration(v[3])
	e.swr = time.Duration(v[4])
	e.sie = time.Duration(v[5])
	e.lastModified = timeOrZero(v[6])
	e.date = timeOrZero(v[7])
	rest := b[entryFixed:]
	var parts [4][]byte
	for i := range parts {
		if len(rest) < 4 {
			return errCorrupt
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return errCorrupt
		}
		parts[i], rest = rest[:n:n], rest[n:]
	}
	if len(rest) != 0 || e.status < 100 || e.status > 999 {
		return errCorrupt
	}
	e.etag = unsafeString(parts[0])
	e.vary = unsafeString(parts[1])
	e.header = parts[2]
	e.body, e.stream, e.size = parts[3], "", 0
	if streamed := e.flags&flagStream != 0; streamed != (b[1] == versionStream) {
		return errCorrupt
	} else if streamed {
		ref := parts[3]
		if len(ref) <= 8 {
			return errCorrupt
		}
		e.size = int64(binary.BigEndian.Uint64(ref))
		if e.size < 0 {
			return errCorrupt
		}
		e.body, e.stream = nil, unsafeString(ref[8:])
	}
	return nil
}

// unsafeString returns b as a string without copying. It is used only for
// stored values, which are never modified (see store.Store).
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// fields calls fn for each stored header field line, in order, until fn
// returns false. Names and values point into the stored value.
func (e *entry) fields(fn func(name, value string) bool) {
	eachField(e.header, fn)
}

var crlf = []byte("\r\n")

func eachField(block []byte, fn func(name, value string) bool) {
	for len(block) > 0 {
		i := bytes.Index(block, crlf)
		if i < 0 {
			return
		}
		line := block[:i]
		block = block[i+2:]
		c := bytes.IndexByte(line, ':')
		if c <= 0 || c+2 > len(line) {
			continue
		}
		if !fn(unsafeString(line[:c]), unsafeString(line[c+2:])) {
			return
		}
	}
}

// headerBlock serialises h as "Name: value\r\n" lines, leaving out the
// fields skip reports true for. Values holding CR or LF are dropped: the
// block must never be able to smuggle a field line.
func headerBlock(dst []byte, h http.Header, skip func(name string) bool) []byte {
	names := make([]string, 0, len(h))
	for name := range h {
		if skip == nil || !skip(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range h[name] {
			if !safeValue(v) || !safeValue(name) {
				continue
			}
			dst = append(dst, name...)
			dst = append(dst, ':', ' ')
			dst = append(dst, v...)
			dst = append(dst, '\r', '\n')
		}
	}
	return dst
}

func safeValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' || s[i] == 0 {
			return false
		}
	}
	return true
}
