// RFC 5861 §3: revalidating in the background after serving stale.

package httpcache

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/notmod/notmod/precond"
	"github.com/notmod/notmod/store"
)

// backgroundTimeout bounds a background revalidation.
const backgroundTimeout = 30 * time.Second

// Revalidate validates the stored response of a ServeStale lookup in the
// background, through Options.Transport, once per URL at a time: a URL
// already being fetched or revalidated is left alone. out is the request
// to send to the origin, as the caller forwards requests; Revalidate adds
// the validators. It takes ownership of l, which the caller must not use
// or Release afterwards.
func (l *Lookup) Revalidate(out *http.Request) {
	c := l.c
	if c.opts.Transport == nil || !l.found {
		l.Release()
		return
	}
	f, leader := c.join(l.primaryKey())
	if !leader {
		l.Release()
		return
	}
	l.flight, l.leader = f, true
	l.Decision, l.validate = Forward, true
	l.Status = Status{Fwd: FwdStale}
	l.cond = precond.Conditions{Method: http.MethodGet}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(out.Context()), backgroundTimeout)
	l.req = l.req.WithContext(ctx)
	l.req.Method = http.MethodGet
	out = out.WithContext(ctx)
	out.Method = http.MethodGet
	l.Outbound(out.Header)
	go func() {
		defer cancel()
		defer l.Release()
		resp, err := c.opts.Transport.RoundTrip(out)
		if err != nil {
			c.opts.Logger.Warn("background revalidation failed", "err", err)
			return
		}
		r, err := l.Receive(resp)
		if err != nil {
			return
		}
		if _, stored := r.Body.(store.StreamReader); !stored {
			// Read to the end: a new response is stored as it is read.
			// Content read from the store need not be.
			_, _ = io.Copy(io.Discard, r.Body)
		}
		r.Body.Close()
	}()
}
