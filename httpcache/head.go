// The header fields of stored responses, prepared once for net/http.

package httpcache

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// headSlots is the number of stored responses whose prepared header
// fields a Cache keeps; a direct-mapped table, so an entry may be pushed
// out by another whose key hashes to the same slot.
const headSlots = 4096

// Field is one header field of a stored response, as net/http holds it.
// Values has its capacity equal to its length and is shared by every
// response that uses it: it must not be modified, and appending to it
// copies.
type Field struct {
	Name   string
	Values []string
}

// head is the prepared header of one stored response.
type head struct {
	key          string
	responseTime int64
	size         int
	full         []Field // for the 200 (or stored status)
	notModified  []Field // for a 304 (RFC 9110 §15.4.5)
	length       []string
	upstream     []string // the stored Cache-Status values: caches nearer the origin
	dyn          atomic.Pointer[dynamic]

	// The same, serialised for HTTP/1.1 (RFC 9112 §4, §5): status line
	// and field lines, without the final empty line. wire carries the
	// Content-Length of the stored content; wire304 is for a 304.
	wire    []byte
	wire304 []byte
}

// dynamic holds the fields that change once a second: Age and this
// cache's Cache-Status member after the upstream members.
type dynamic struct {
	age    int64
	ageVal []string
	status []string
}

// Head returns the stored header fields to send with code, the status
// Reply returned, prepared for a net/http header map: each Values slice is
// shared and read-only. For a 304 it leaves out what RFC 9110 §15.4.5
// excludes. After a Serve or ServeStale decision it does not allocate,
// except the first time an entry is served.
func (l *Lookup) Head(code int) []Field {
	h := l.head()
	if code == http.StatusNotModified {
		return h.notModified
	}
	return h.full
}

// Wire returns the head of the response to send with code, the status
// Reply returned, serialised for HTTP/1.1 once per stored response: the
// status line and the stored fields as Head gives them except
// Cache-Status (AgeAndStatus gives its values, with this cache's member
// after them), then, unless code is 304, Content-Length; it ends with the last field line's CRLF, so
// that Age, Cache-Status and the empty line can follow. It is shared and
// read-only. After a Serve or ServeStale decision it does not allocate,
// except the first time an entry is served.
func (l *Lookup) Wire(code int) []byte {
	h := l.head()
	if code == http.StatusNotModified {
		return h.wire304
	}
	return h.wire
}

// appendWire appends a status line and field lines (RFC 9112 §4, §5).
func appendWire(dst []byte, code int, fields []Field) []byte {
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	dst = append(dst, http.StatusText(code)...)
	dst = append(dst, "\r\n"...)
	for _, f := range fields {
		switch f.Name {
		case "Content-Length":
			continue // the stored content's length is the one sent (RFC 9110 §8.6)
		case "Cache-Status":
			continue // sent after, with this cache's member (AgeAndStatus; RFC 9211 §2)
		}
		for _, v := range f.Values {
			dst = append(dst, f.Name...)
			dst = append(dst, ": "...)
			dst = append(dst, v...)
			dst = append(dst, "\r\n"...)
		}
	}
	return dst
}

// ContentLength returns the Content-Length value of the stored content,
// shared and read-only.
func (l *Lookup) ContentLength() []string { return l.head().length }

// AgeAndStatus returns the Age field value and the Cache-Status field
// values (those of caches nearer the origin, then this cache's member) for
// a stored response served as a hit, shared and read-only. It reuses the
// values built for the same entry within the same second.
func (l *Lookup) AgeAndStatus() (age, status []string) {
	h := l.head()
	a := l.Age()
	// A plain hit's values are the same for the entry for a second.
	plain := l.Status.Hit && !l.Status.Collapsed && l.Status.Detail == "" && l.Decision == Serve
	if d := h.dyn.Load(); plain && d != nil && d.age == a {
		return d.ageVal, d.status
	}
	status = make([]string, 0, len(h.upstream)+1)
	status = append(status, h.upstream...)
	status = append(status, string(l.AppendCacheStatus(nil)))
	age = []string{strconv.FormatInt(a, 10)}
	if plain {
		h.dyn.Store(&dynamic{age: a, ageVal: age, status: status})
	}
	return age, status
}

// head finds or builds the prepared header of the chosen entry, once per
// lookup while the entry stays the same.
func (l *Lookup) head() *head {
	rt := l.e.responseTime.UnixNano()
	if h := l.h; h != nil && h.responseTime == rt && h.size == len(l.raw) {
		return h
	}
	key := l.key
	if key == "" && l.kb != nil {
		key = unsafeString(*l.kb)
	}
	slot := &l.c.heads[xxhash.Sum64String(key)%headSlots]
	if h := slot.Load(); h != nil && h.key == key && h.responseTime == rt && h.size == len(l.raw) {
		l.h = h
		return h
	}
	h := &head{key: string([]byte(key)), responseTime: rt, size: len(l.raw)}
	hasETag := l.e.etag != ""
	l.e.fields(func(name, value string) bool {
		if l.c.omitted(name, false, hasETag) {
			return true
		}
		// Copies: the head must not keep the stored value (and its
		// content) alive once the store has let it go.
		name, value = strings.Clone(name), strings.Clone(value)
		h.full = appendField(h.full, name, value)
		if !l.c.omitted(name, true, hasETag) {
			h.notModified = appendField(h.notModified, name, value)
		}
		return true
	})
	for _, list := range [][]Field{h.full, h.notModified} {
		for i := range list {
			list[i].Values = list[i].Values[:len(list[i].Values):len(list[i].Values)]
		}
	}
	for _, f := range h.full {
		if f.Name == "Cache-Status" {
			h.upstream = f.Values
		}
	}
	h.length = []string{strconv.FormatInt(l.e.contentLength(), 10)}
	h.wire = appendWire(nil, l.e.status, h.full)
	h.wire = append(h.wire, "Content-Length: "...)
	h.wire = append(h.wire, h.length[0]...)
	h.wire = append(h.wire, "\r\n"...)
	h.wire304 = appendWire(nil, http.StatusNotModified, h.notModified)
	slot.Store(h)
	l.h = h
	return h
}

// appendField adds a field line, joining repeated names.
func appendField(list []Field, name, value string) []Field {
	for i := range list {
		if list[i].Name == name {
			list[i].Values = append(list[i].Values, value)
			return list
		}
	}
	return append(list, Field{Name: name, Values: []string{value}})
}
