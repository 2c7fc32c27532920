// Package proxy is notmod's shared cache as an [net/http.Handler]: a
// reverse proxy on [net/http/httputil.ReverseProxy] in front of one
// origin, that answers from package httpcache whatever it can and forwards
// the rest.
//
// A request the cache can answer (a fresh hit, a 304 to a conditional
// request, a stale response it may serve) never reaches the
// ReverseProxy: it is written straight from the stored bytes. Everything
// else is forwarded with hop-by-hop fields removed and X-Forwarded-* set,
// and the origin's response streams back to the client, stored as it
// passes when the cache may keep it. Responses that are not stored, or are
// larger than the maximum object size, are never held whole in memory.
package proxy
