// RFC 9111 §3 and §3.5: whether a response may be stored.

package httpcache

import (
	"net/http"

	"github.com/notmod/notmod/cachecontrol"
	"github.com/notmod/notmod/internal/httplex"
)

// NotStoredReason says why a response was not stored. The zero value,
// [Storable], means it may be stored.
type NotStoredReason uint8

const (
	// Storable means nothing prevents storing the response.
	Storable NotStoredReason = iota
	// ReasonMethod: only responses to GET are stored (§3).
	ReasonMethod
	// ReasonStatus: the status code is not final, not understood, or
	// partial content (§3, §3.4).
	ReasonStatus
	// ReasonNoStore: no-store in the request or the response (§5.2.1.5,
	// §5.2.2.5).
	ReasonNoStore
	// ReasonPrivate: private, in a shared cache (§5.2.2.7).
	ReasonPrivate
	// ReasonAuthorization: a request with Authorization, answered without
	// public, s-maxage or must-revalidate, in a shared cache (§3.5).
	ReasonAuthorization
	// ReasonSetCookie: the response sets a cookie, which a shared cache
	// does not give to other users unless configured to strip it.
	ReasonSetCookie
	// ReasonVaryStar: Vary: * can never be matched (§4.1).
	ReasonVaryStar
	// ReasonNotCacheable: no explicit freshness, no heuristic freshness
	// and no validator to revalidate with (§3, §4.2.2).
	ReasonNotCacheable
	// ReasonTooLarge: larger than the configured maximum object size.
	ReasonTooLarge
	// ReasonIncomplete: the content ended before its declared length or
	// its transfer failed (§3.3).
	ReasonIncomplete
	// ReasonStoreError: the store refused the entry or is unavailable.
	ReasonStoreError
	// ReasonVaryChanged: a 304 or HEAD response changed the fields the
	// response varies on, so the entry no longer matches its key (§4.1).
	ReasonVaryChanged
)

var reasonNames = [...]string{
	"storable", "method", "status", "no-store", "private", "authorization",
	"set-cookie", "vary-star", "not-cacheable", "too-large", "incomplete", "store-error", "vary-changed",
}

// String returns the reason as a short token, as used in the detail of
// Cache-Status, such as "no-store".
func (r NotStoredReason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// understoodStatus lists the final status codes whose semantics this cache
// understands, as must-understand requires (§5.2.2.3).
func understoodStatus(code int) bool {
	switch code {
	case 200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 451, 501:
		return true
	}
	return false
}

// storable decides whether a response to a GET, whose request had the
// header reqHeader, may be stored (RFC 9111 §3); the caller checks the
// method. reqCC and respCC are the request's and response's directives (the
// response's from the targeted field when one applies); hasValidator and
// fresh say whether it can be revalidated or served as fresh at all.
func (c *Cache) storable(reqHeader http.Header, status int, h http.Header, reqCC cachecontrol.Request, respCC cachecontrol.Response, f freshness) NotStoredReason {
	// §3: the status must be final; 206 and 304 are not stored whole
	// responses, and must-understand requires a status this cache
	// understands (§5.2.2.3).
	if status < 200 || status == http.StatusPartialContent || status == http.StatusNotModified ||
		respCC.MustUnderstand() && !understoodStatus(status) {
		return ReasonStatus
	}
	if reqCC.NoStore() {
		return ReasonNoStore
	}
	// §5.2.2.3: must-understand with an understood status overrides
	// no-store.
	if respCC.NoStore() && !respCC.MustUnderstand() {
		return ReasonNoStore
	}
	if c.opts.Private {
		// A private cache may store private responses.
	} else {
		if respCC.Private() && !respCC.PrivateQualified() {
			return ReasonPrivate
		}
		if len(reqHeader["Authorization"]) > 0 {
			_, smax := respCC.SMaxAge()
			if !respCC.Public() && !smax && !respCC.MustRevalidate() {
				return ReasonAuthorization
			}
		}
		if len(h["Set-Cookie"]) > 0 && !c.opts.StripSetCookie {
			return ReasonSetCookie
		}
	}
	for v := range httplex.ElementsOf(h["Vary"]) {
		if v == "*" {
			return ReasonVaryStar
		}
	}
	_, hasExpires := h["Expires"]
	hasExpires = hasExpires && !respCC.Targeted() // RFC 9213 §2.2
	// §3: explicit expiration, public, or private in a private cache; or
	// a heuristically cacheable status.
	explicit := f.explicit || hasExpires || respCC.Public() || (c.opts.Private && respCC.Private())
	if !explicit && !f.heuristic && !heuristicStatus(status) {
		return ReasonNotCacheable
	}
	if f.lifetime <= 0 && len(h["Etag"]) == 0 && len(h["Last-Modified"]) == 0 {
		// Already stale with nothing to revalidate with: only worth keeping
		// when a stale extension lets it be served.
		if _, ok := respCC.StaleIfError(); !ok {
			if _, ok := respCC.StaleWhileRevalidate(); !ok {
				return ReasonNotCacheable
			}
		}
	}
	return Storable
}
