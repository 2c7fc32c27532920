package proxy

import (
	"io"
	"net/http"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/precond"
)

// serveStream writes the content of a stored response whose content is a
// stream in the store (see httpcache.Lookup.Streamed), read from the store
// a chunk at a time, never whole: the status line and fields are those
// serveStored prepared. A Range request that may be honoured gets the one
// range it asks for, read from where it starts, or 416; a request for
// several ranges gets the whole content, as RFC 9110 §14.2 allows. When
// the content cannot be read to its end (a damaged chunk, content removed
// since the lookup) or the client goes away, the response is aborted with
// http.ErrAbortHandler, so that the client sees it incomplete, never
// completed with wrong bytes.
func (p *Proxy) serveStream(w http.ResponseWriter, l *httpcache.Lookup, code int) {
	content := l.Content()
	if content == nil {
		abort(l) // a Lookup without its content: never sent as empty
	}
	if code == http.StatusOK && l.RangeOK() {
		handled, err := precond.WriteRangeFrom(w, l.Request().Header.Get("Range"), content, content.Size())
		if err != nil {
			abort(l)
		}
		if handled {
			return
		}
	}
	w.Header()["Content-Length"] = l.ContentLength()
	w.WriteHeader(code)
	if l.Request().Method == http.MethodHead {
		return
	}
	if n, err := io.Copy(w, content); err != nil || n != content.Size() {
		abort(l)
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
