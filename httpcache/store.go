// RFC 9111 §3 and §3.3: storing complete responses.

package httpcache

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/notmod/notmod/precond"
	"github.com/notmod/notmod/store"
)

// newEntry computes the stored form of a response: its freshness (RFC
// 9111 §4.2.1), corrected initial age (§4.2.3), the directives that govern
// its reuse, its validators and the fields that are stored (§3.1). It
// returns the entry and the expiry hint for the store: its remaining
// freshness plus the time it may still be served stale or revalidated.
func (c *Cache) newEntry(h http.Header, status int, body []byte, requestTime, responseTime time.Time, vary string) (entry, time.Duration) {
	cc := c.responseDirectives(h)
	date, ok := singleTime(h["Date"])
	if !ok {
		// RFC 9110 §6.6.1: a cache that receives a response without Date
		// records when it was received and adds the field.
		date = responseTime.Truncate(time.Second)
		h = h.Clone()
		h.Set("Date", date.UTC().Format(http.TimeFormat))
	}
	f := lifetimeOf(cc, h, status, date, responseTime, !c.opts.Private, c.opts.HeuristicFraction, c.opts.MaxHeuristic)
	e := entry{
		status:       status,
		requestTime:  requestTime,
		responseTime: responseTime,
		initialAge:   initialAge(ageValue(h["Age"]), date, requestTime, responseTime),
		lifetime:     f.lifetime,
		swr:          -1,
		sie:          -1,
		date:         date,
		vary:         vary,
		body:         body,
	}
	if cc.NoCache() {
		e.flags |= flagNoCache
	}
	_, smax := cc.SMaxAge()
	if cc.MustRevalidate() || !c.opts.Private && (cc.ProxyRevalidate() || smax) {
		e.flags |= flagMustRevalidate // §5.2.2.2, §5.2.2.8, §5.2.2.10
	}
	if cc.Immutable() {
		e.flags |= flagImmutable
	}
	if f.heuristic {
		e.flags |= flagHeuristic
	}
	if d, ok := cc.StaleWhileRevalidate(); ok {
		e.swr = d
	}
	if d, ok := cc.StaleIfError(); ok {
		e.sie = d
	}
	if tags := h["Etag"]; len(tags) == 1 {
		if t, ok := precond.ParseETag(tags[0]); ok {
			e.etag = string(t)
		}
	}
	if lm, ok := singleTime(h["Last-Modified"]); ok {
		e.lastModified = lm
	}
	e.header = headerBlock(nil, h, c.storedFieldFilter(h, cc))

	ttl := e.lifetime - e.initialAge
	// Kept past freshness: for revalidation with a 304, for the stale
	// extensions, and to serve stale while the origin is unreachable.
	extra := max(e.swr, e.sie, c.opts.KeepStale)
	ttl = max(ttl, 0) + extra
	if ttl <= 0 {
		ttl = time.Second
	}
	return e, min(ttl, maxTTL)
}

// receiveFull handles a full response to a forwarded GET: it decides
// whether to store it (RFC 9111 §3) and, when it may, returns it with a
// body that stores the content once it has all been read.
func (l *Lookup) receiveFull(resp *http.Response) (*http.Response, error) {
	c := l.c
	now := c.opts.Now()
	h := resp.Header
	cc := c.responseDirectives(h)
	date, _ := singleTime(h["Date"])
	f := lifetimeOf(cc, h, resp.StatusCode, date, now, !c.opts.Private, c.opts.HeuristicFraction, c.opts.MaxHeuristic)
	reason := Storable
	if l.req.Method != http.MethodGet {
		reason = ReasonMethod
	} else {
		reason = c.storable(l.req.Header, resp.StatusCode, h, l.reqCC, cc, f)
	}
	if reason == Storable && resp.ContentLength > c.opts.MaxObjectSize {
		reason = ReasonTooLarge
	}
	if reason == Storable && len(l.req.Header["Range"]) > 0 {
		reason = ReasonStatus // a full response to a Range request: left to the origin
	}
	if reason != Storable {
		if l.found && resp.StatusCode < 500 {
			// A newer response replaced the stored one.
			c.delete(l.req.Context(), l.storeKey(), holding(&l.e))
		}
		l.Status.Detail = reason.String()
		c.observe(Event{Status: l.Status, NotStored: reason})
		// Nothing will be stored: requests collapsed behind this one go
		// to the origin themselves now, not after this body is sent.
		l.land()
		return l.answer(resp, nil), nil
	}

	names, _ := varyNames(h)
	vary := varyValues(names, l.req.Header)
	key := l.primaryKey()
	if len(names) > 0 {
		key = variantKey(key, vary)
	}
	// Cache-Status is sent before the content: say stored only when the
	// declared length shows it will fit (RFC 9211 §2.4).
	l.Status.Stored = resp.ContentLength >= 0
	l.Status.TTL, l.Status.HasTTL = f.lifetime-initialAge(ageValue(h["Age"]), date, l.now, now), true
	sb := &storingBody{
		l: l, rc: resp.Body, key: key, vary: vary, header: h.Clone(),
		status: resp.StatusCode, length: resp.ContentLength, responseTime: now,
		streamAt: -1,
	}
	if c.streamWrites() {
		sb.streamAt = c.opts.StreamThreshold
		if resp.ContentLength > sb.streamAt {
			sb.startStream()
		}
	}
	l.mu.Lock()
	l.inFlight = true
	l.mu.Unlock()
	return l.answer(resp, sb), nil
}

// answer returns resp to the client with Cache-Status, or, when the
// client's own conditions (which the cache took off the forwarded request)
// say so, a 304 built from it. body, when not nil, replaces resp.Body to
// store the content; for a 304 it is read to the end at once.
func (l *Lookup) answer(resp *http.Response, body *storingBody) *http.Response {
	if body != nil {
		resp.Body = body
	}
	if resp.StatusCode == http.StatusOK && l.cond.Conditional() && l.req.Method == http.MethodGet {
		v := precond.Validators{}
		if t, ok := precond.ParseETag(resp.Header.Get("Etag")); ok {
			v.ETag = t
		}
		v.LastModified, _ = singleTime(resp.Header["Last-Modified"])
		if l.cond.Evaluate(v) == precond.NotModified {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, l.c.opts.MaxObjectSize+1))
			resp.Body.Close()
			precond.NotModifiedHeader(resp.Header)
			resp.StatusCode = http.StatusNotModified
			resp.Status = "304 Not Modified"
			resp.ContentLength = 0
			resp.Body = http.NoBody
			l.c.observe(Event{Status: l.Status, NotModified: true})
		}
	}
	l.setStatus(resp.Header)
	return resp
}

// storingBody passes the content of a storable response to the client and
// keeps a copy, in memory or, past Options.StreamThreshold, in a stream
// in the store (see stream.go); when the content is complete, and no
// larger than the maximum object size, it is stored (RFC 9111 §3.3: an
// incomplete response is never stored as complete).
type storingBody struct {
	l            *Lookup
	rc           io.ReadCloser
	key, vary    string
	header       http.Header
	status       int
	length       int64 // declared Content-Length, or -1
	responseTime time.Time
	buf          []byte
	n            int64 // content bytes read
	tooLarge     bool
	finished     bool

	streamAt int64              // start a stream past this many bytes held; -1: never
	sw       store.StreamWriter // the stream the content goes to, once started
	stream   string             // its key
	entry    entry              // the entry that will name it, without it
	ttl      time.Duration      // the entry's expiry hint, and the stream's
	failed   error              // the stream failed: nothing is stored
}

func (b *storingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if n > 0 && !b.tooLarge && b.failed == nil {
		switch {
		case b.n > b.l.c.opts.MaxObjectSize:
			b.tooLarge, b.buf = true, nil
			b.closeStream()
		case b.sw != nil:
			b.writeStream(p[:n])
		default:
			if b.buf == nil && b.length > 0 {
				// Room for the declared length at once: a buffer grown
				// by appending copies the content several times over.
				// The length is at most MaxObjectSize (receiveFull),
				// and content of another length is not stored (finish).
				b.buf = make([]byte, 0, min(b.length, b.l.c.opts.MaxObjectSize))
			}
			b.buf = append(b.buf, p[:n]...)
			if b.streamAt >= 0 && int64(len(b.buf)) > b.streamAt {
				b.startStream()
			}
		}
	}
	if err == io.EOF {
		b.finish(true)
	} else if err != nil {
		b.finish(false)
	}
	return n, err
}

func (b *storingBody) Close() error {
	err := b.rc.Close()
	b.finish(false)
	return err
}

// finish stores the content when it arrived complete, then lets collapsed
// requests go on.
func (b *storingBody) finish(complete bool) {
	if b.finished {
		return
	}
	b.finished = true
	l, c := b.l, b.l.c
	reason := Storable
	switch {
	case b.tooLarge:
		reason = ReasonTooLarge
	case !complete || b.length >= 0 && b.n != b.length:
		reason = ReasonIncomplete // the stream, if it failed, failed for that
	case b.failed != nil:
		c.storeError("stream", b.failed)
		reason = ReasonStoreError
	}
	if reason == Storable && b.sw != nil {
		// The content first, then the entry that names it.
		ctx := context.WithoutCancel(l.req.Context())
		if e, ttl, err := b.commitStream(); err != nil {
			c.storeError("commit", err)
			reason = ReasonStoreError
		} else if c.put(ctx, b.key, e, ttl, l, l.priorAt(b.key)) {
			c.indexTags(ctx, b.header, l.primaryKey(), ttl)
		} else {
			c.discardStream(ctx, e.stream)
			reason = ReasonStoreError
		}
	} else if reason == Storable {
		body := b.buf
		if body == nil {
			body = []byte{}
		}
		e, ttl := c.newEntry(b.header, b.status, body, l.now, b.responseTime, b.vary)
		ctx := context.WithoutCancel(l.req.Context())
		if c.put(ctx, b.key, e, ttl, l, l.priorAt(b.key)) {
			c.indexTags(ctx, b.header, l.primaryKey(), ttl)
		} else {
			reason = ReasonStoreError
		}
	}
	if reason != Storable {
		c.observe(Event{Status: l.Status, NotStored: reason})
	} else {
		c.observe(Event{Status: l.Status})
	}
	b.buf = nil
	b.closeStream()
	l.land()
	l.mu.Lock()
	l.inFlight = false
	pending := l.releasePending
	l.mu.Unlock()
	if pending {
		l.Release()
	}
}
