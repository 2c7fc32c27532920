// RFC 9111 §3.1 and §3.2: which fields are stored, and updating them.

package httpcache

import (
	"net/http"

	"github.com/notmod/notmod/cachecontrol"
	"github.com/notmod/notmod/internal/httplex"
)

// hopByHop lists fields that describe one connection, not the response
// (RFC 9110 §7.6.1); they are neither stored nor forwarded.
var hopByHop = map[string]bool{
	"Connection":                true,
	"Proxy-Connection":          true,
	"Keep-Alive":                true,
	"Te":                        true,
	"Trailer":                   true,
	"Transfer-Encoding":         true,
	"Upgrade":                   true,
	"Proxy-Authenticate":        true, // §3.1: specific to the proxy
	"Proxy-Authorization":       true,
	"Proxy-Authentication-Info": true,
}

// storedFieldFilter returns the function that tells which fields of h are
// left out of storage (RFC 9111 §3.1): hop-by-hop fields and those named
// by Connection, Age (recomputed on every use), the fields named by a
// qualified no-cache (§5.2.2.4) or, in a shared cache, private
// (§5.2.2.7), and Set-Cookie when the cache strips it.
func (c *Cache) storedFieldFilter(h http.Header, cc cachecontrol.Response) func(string) bool {
	var drop map[string]bool
	add := func(name string) {
		if drop == nil {
			drop = map[string]bool{}
		}
		drop[http.CanonicalHeaderKey(name)] = true
	}
	for name := range httplex.ElementsOf(h["Connection"]) {
		add(name)
	}
	for name := range cc.NoCacheFields() {
		add(name)
	}
	if !c.opts.Private {
		for name := range cc.PrivateFields() {
			add(name)
		}
		if c.opts.StripSetCookie {
			add("Set-Cookie")
		}
	}
	return func(name string) bool {
		return hopByHop[name] || name == "Age" || drop[name]
	}
}

// notUpdated lists fields a 304 or HEAD response does not update in a
// stored response (RFC 9111 §3.2): Content-Length; Content-Range, which
// describes the content of one response; and the fields the stored
// content depends on, which a response without content cannot change:
// Content-Encoding, Content-MD5 and ETag (the tag the 304 was matched by).
func notUpdated(name string) bool {
	switch name {
	case "Content-Length", "Content-Range", "Content-Encoding", "Content-Md5", "Etag":
		return true
	}
	return false
}

// headerOf rebuilds the header of a stored entry as an http.Header.
func (e *entry) headerOf() http.Header {
	h := http.Header{}
	e.fields(func(name, value string) bool {
		h[name] = append(h[name], value)
		return true
	})
	return h
}

// merge updates stored, the header of a stored response, with the fields
// of a 304 or HEAD response (RFC 9111 §3.2, §4.3.4, §4.3.5): each field
// the new response carries replaces the stored one, except those left out
// of storage and those notUpdated names.
func (c *Cache) merge(stored, fresh http.Header) http.Header {
	skip := c.storedFieldFilter(fresh, cachecontrol.ParseResponse(fresh["Cache-Control"]))
	for name, values := range fresh {
		if skip(name) || notUpdated(name) {
			continue
		}
		if !c.opts.Private && name == "Set-Cookie" {
			// A cookie set on a 304 or HEAD is for the client that sent
			// the request, never for the others the entry is served to.
			// (Set-Cookie2 is obsolete and ignored by clients, RFC 6265
			// §9.4: it is updated like any other field.)
			continue
		}
		stored[name] = values
	}
	return stored
}
