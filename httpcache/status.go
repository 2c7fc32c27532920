// RFC 9211: the Cache-Status response field.

package httpcache

import (
	"strconv"
	"time"

	"github.com/notmod/notmod/internal/httplex"
)

// Fwd says why a request was forwarded (RFC 9211 §2.2).
type Fwd uint8

const (
	// FwdNone means the request was not forwarded: a hit.
	FwdNone Fwd = iota
	// FwdBypass: the cache was configured or chose not to handle it.
	FwdBypass
	// FwdMethod: the request method is not cacheable.
	FwdMethod
	// FwdURIMiss: nothing was stored for the URI.
	FwdURIMiss
	// FwdVaryMiss: responses were stored, but none matching the request's
	// Vary-selected fields.
	FwdVaryMiss
	// FwdMiss: a stored response could not be used for another reason.
	FwdMiss
	// FwdRequest: the request's directives or preconditions required it.
	FwdRequest
	// FwdStale: the stored response was stale and had to be validated.
	FwdStale
)

var fwdNames = [...]string{"", "bypass", "method", "uri-miss", "vary-miss", "miss", "request", "stale"}

// String returns the RFC 9211 token, such as "uri-miss"; "" for FwdNone.
func (f Fwd) String() string {
	if int(f) < len(fwdNames) {
		return fwdNames[f]
	}
	return "miss"
}

// Status is what this cache says about one response in Cache-Status.
type Status struct {
	Hit       bool // served from cache without going forward
	Fwd       Fwd  // why the request went forward, if it did
	FwdStatus int  // status of the forwarded response, when known
	Stored    bool // the forwarded response was stored
	Collapsed bool // collapsed with another request, whose response was reused
	// NotCollapsed: collapsed with another request whose response could
	// not be reused, so a new request was made (collapsed=?0).
	NotCollapsed bool
	TTL          time.Duration // remaining freshness of the response used
	HasTTL       bool
	Detail       string // a token or string, such as a reason not stored
}

// AppendTo appends the Cache-Status list member for this cache, named
// name, to dst (RFC 9211 §2), such as
// `notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60`.
func (s *Status) AppendTo(dst []byte, name string) []byte {
	dst = appendItem(dst, name)
	if s.Hit {
		dst = append(dst, "; hit"...)
	}
	if s.Fwd != FwdNone {
		dst = append(dst, "; fwd="...)
		dst = append(dst, s.Fwd.String()...)
		if s.FwdStatus > 0 {
			dst = append(dst, "; fwd-status="...)
			dst = strconv.AppendInt(dst, int64(s.FwdStatus), 10)
		}
	}
	if s.Stored {
		dst = append(dst, "; stored"...)
	}
	if s.Fwd != FwdNone {
		if s.Collapsed {
			dst = append(dst, "; collapsed"...)
		} else if s.NotCollapsed {
			dst = append(dst, "; collapsed=?0"...)
		}
	}
	if s.HasTTL {
		dst = append(dst, "; ttl="...)
		dst = strconv.AppendInt(dst, int64(s.TTL/time.Second), 10)
	}
	if s.Detail != "" {
		dst = append(dst, "; detail="...)
		dst = appendItem(dst, s.Detail)
	}
	return dst
}

// String returns the list member for a cache named "notmod".
func (s *Status) String() string { return string(s.AppendTo(nil, "notmod")) }

// appendItem appends v as an sf-token when it is one (RFC 8941 §3.3.4),
// otherwise as an sf-string (§3.3.3) of its printable ASCII.
func appendItem(dst []byte, v string) []byte {
	if isSFToken(v) {
		return append(dst, v...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c > 0x7e {
			continue
		}
		if c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

// isSFToken reports whether v is an sf-token: ALPHA or "*" first, then
// tchar, ":" or "/" (RFC 8941 §3.3.4).
func isSFToken(v string) bool {
	if v == "" {
		return false
	}
	c := v[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '*') {
		return false
	}
	for i := 1; i < len(v); i++ {
		c := v[i]
		if !httplex.IsTokenChar(c) && c != ':' && c != '/' {
			return false
		}
	}
	return true
}
