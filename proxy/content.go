// RFC 9110 §14 and §15.3.7: sending the content of a stored response,
// whole or the range asked for, from memory or from a stream in the store.

package proxy

import (
	"io"
	"net/http"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/precond"
)

// writeContent writes the rest of a stored response, whose fields
// serveStored has set, for code, the status Reply returned (not 304): to
// a Range request that may be honoured, a 206 or a 416; else code with
// the stored content's Content-Length and, unless the request is HEAD,
// the content.
//
// The content is body, or, when it is a stream in the store (see
// httpcache.Lookup.Streamed), read from the store a chunk at a time, never
// whole. From a stream, a request for one range gets that range, read
// from where it starts; a request for several gets the whole content, as
// RFC 9110 §14.2 allows. When a stream cannot be read to its end (a
// damaged chunk, content removed since the lookup) or the client goes
// away, the response is aborted with http.ErrAbortHandler, so that the
// client sees it incomplete, never completed with wrong bytes.
func writeContent(w http.ResponseWriter, l *httpcache.Lookup, code int, body []byte) {
	stream := l.Content() // nil unless the content is a stream
	if stream == nil && l.Streamed() {
		abort(l) // a Lookup without its content: never sent as empty
	}
	if code == http.StatusOK && l.RangeOK() {
		spec := l.Request().Header.Get("Range")
		if stream == nil {
			if precond.WriteRange(w, spec, body) {
				return
			}
		} else if handled, err := precond.WriteRangeFrom(w, spec, stream, stream.Size()); err != nil {
			abort(l)
		} else if handled {
			return
		}
	}
	w.Header()["Content-Length"] = l.ContentLength()
	w.WriteHeader(code)
	switch {
	case l.Request().Method == http.MethodHead:
		// No content: a stream is not read.
	case stream != nil:
		if n, err := io.Copy(w, stream); err != nil || n != stream.Size() {
			abort(l)
		}
	case len(body) > 0:
		_, _ = w.Write(body)
	}
}

// abort ends a response whose content could not be sent whole. A
// ServeStale lookup is released here, as the handler does not get to
// revalidate it; a Serve lookup is released by the handler's deferred
// Release.
func abort(l *httpcache.Lookup) {
	if l.Decision == httpcache.ServeStale {
		l.Release()
	}
	panic(http.ErrAbortHandler)
}
