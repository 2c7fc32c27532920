// RFC 9111 §3, §4.3 and §4.4: handling what the origin answers.

package httpcache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/notmod/notmod/internal/httplex"
	"github.com/notmod/notmod/precond"
)

// maxTTL bounds the expiry hint given to the store.
const maxTTL = 365 * 24 * time.Hour

// Outbound prepares h, the header of the request forwarded to the origin.
// When a stored response is being validated, it carries that response's
// validators: every stored entity tag of the URL's variants in
// If-None-Match and the chosen response's Last-Modified in
// If-Modified-Since (RFC 9111 §4.3.1), in place of the client's own, which
// the cache evaluates itself against the outcome. When nothing is stored,
// the client's If-None-Match and If-Modified-Since are removed from a
// cacheable GET so that a full response comes back to be stored; the
// client still gets the 304 it asked for.
func (l *Lookup) Outbound(h http.Header) {
	if l.bypass {
		return // not the cache's business: forwarded untouched
	}
	if l.validate || l.req.Method == http.MethodGet && len(l.req.Header["Range"]) == 0 {
		delete(h, "If-None-Match")
		delete(h, "If-Modified-Since")
	}
	if l.req.Method == http.MethodGet && len(l.req.Header["Range"]) == 0 {
		delete(h, "If-Range")
	}
	if !l.validate {
		return
	}
	var tags []string
	if l.found && l.e.etag != "" {
		tags = append(tags, l.e.etag)
	}
	if l.rec != nil {
		for _, v := range l.rec.variants {
			if v.etag != "" && !slices.Contains(tags, v.etag) {
				tags = append(tags, v.etag)
			}
		}
	}
	if len(tags) > 0 {
		h.Set("If-None-Match", strings.Join(tags, ", "))
	}
	if l.found && !l.e.lastModified.IsZero() {
		h.Set("If-Modified-Since", l.e.lastModified.UTC().Format(http.TimeFormat))
	}
}

// Receive handles the origin's response to the forwarded request and
// returns the response to send to the client, with Cache-Status set.
//
//   - A 304 to a validation updates the stored response it identifies
//     (RFC 9111 §4.3.3, §4.3.4) and the client gets that response, or a
//     304 when its own conditions say so.
//   - A 5xx to a validation gets the stale stored response instead when
//     stale-if-error allows it (RFC 5861 §4).
//   - A full response to a GET is stored when RFC 9111 §3 allows; its
//     content is stored as the client reads it, and only when complete.
//   - A 200 to a HEAD freshens or invalidates the stored GET response
//     (RFC 9111 §4.3.5).
//   - A non-error response to an unsafe method invalidates the target URI
//     and the same-origin Location and Content-Location (RFC 9111 §4.4).
//
// The returned response's Body must be read and closed.
func (l *Lookup) Receive(resp *http.Response) (*http.Response, error) {
	c := l.c
	l.Status.FwdStatus = resp.StatusCode
	// ttl describes the response sent (RFC 9211 §2.5): set again below
	// only when that is a stored one.
	l.Status.TTL, l.Status.HasTTL = 0, false
	switch {
	case l.Status.Fwd == FwdMethod:
		if !isSafe(l.req.Method) && resp.StatusCode < 400 {
			c.invalidate(l.req, resp)
		}
	case l.bypass:
		// Forwarded untouched (If-Match, If-Unmodified-Since).
	case l.validate && resp.StatusCode == http.StatusNotModified:
		if r, ok := l.revalidated(resp); ok {
			return r, nil
		}
		// The 304 names no stored response (§4.3.4): fetch it whole.
		full, err := l.fetchFull(resp)
		if err != nil {
			return nil, err
		}
		return l.Receive(full)
	case resp.StatusCode >= 500 && l.found && l.staleIfError():
		drain(resp.Body)
		l.land()
		return l.stale("stale-if-error"), nil
	case l.req.Method == http.MethodHead:
		if l.found && resp.StatusCode == http.StatusOK {
			l.freshenWithHead(resp)
		}
	default:
		return l.receiveFull(resp)
	}
	l.setStatus(resp.Header)
	return resp, nil
}

// Fail handles a request that got no response from the origin. When a
// stored response may be served stale, because the origin is unreachable
// and no directive forbids it (RFC 9111 §4.2.4), it returns that response
// to send; otherwise it reports false and the caller answers 502 or 504
// (504 when a stored response existed but could not be used, §5.2.2.2;
// see [Lookup.HadStored]).
func (l *Lookup) Fail(err error) (*http.Response, bool) {
	if !l.found || !l.mayServeStale() || errors.Is(err, context.Canceled) {
		return nil, false
	}
	return l.stale("origin-unreachable"), true
}

// HadStored reports whether a stored response was found for the request,
// whether or not it could be used.
func (l *Lookup) HadStored() bool { return l.found }

func isSafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

func drain(rc io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, rc, 64<<10)
	rc.Close()
}

// mayServeStale reports whether no directive forbids serving the stored
// response stale (RFC 9111 §4.2.4).
func (l *Lookup) mayServeStale() bool {
	return l.e.flags&(flagMustRevalidate|flagNoCache) == 0
}

// staleIfError reports whether stale-if-error, of the stored response or
// the request, covers the stored response's staleness (RFC 5861 §4).
func (l *Lookup) staleIfError() bool {
	if !l.mayServeStale() {
		return false
	}
	staleness := l.c.opts.Now().Sub(l.e.responseTime) + l.e.initialAge - l.e.lifetime
	if l.e.sie >= 0 && staleness <= l.e.sie {
		return true
	}
	d, ok := l.reqCC.StaleIfError()
	return ok && staleness <= d
}

// stale returns the stored response, served stale for the given reason.
func (l *Lookup) stale(detail string) *http.Response {
	l.age = l.e.currentAge(l.c.opts.Now())
	l.Status.TTL, l.Status.HasTTL = l.e.lifetime-l.age, true
	l.Status.Detail = detail
	l.c.observe(Event{Status: l.Status, ServedStale: true})
	return l.responseFrom(&l.e)
}

// Response returns the stored response for a Serve or ServeStale decision
// as an *http.Response, as a client-side cache hands it to its caller: a
// 304 when the client's own conditions say so, with Age and Cache-Status.
func (l *Lookup) Response() *http.Response {
	e := l.e
	return l.responseFrom(&e)
}

// setStatus adds this cache's Cache-Status member to h, after those of
// caches nearer the origin (RFC 9211 §2).
func (l *Lookup) setStatus(h http.Header) {
	if !l.c.opts.IgnoreSurrogateControl && !l.c.opts.Private {
		delete(h, "Surrogate-Control") // for this surrogate, not its clients
	}
	h["Cache-Status"] = append(h["Cache-Status"], string(l.AppendCacheStatus(nil)))
}

// responseFrom builds the response to the client from a stored response:
// a 304 when the client's conditions say so, a full response otherwise,
// with Age and Cache-Status.
func (l *Lookup) responseFrom(e *entry) *http.Response {
	l.e = *e
	code, body := l.Reply()
	content := io.NopCloser(bytes.NewReader(body))
	if code != http.StatusNotModified && l.req.Method != http.MethodHead {
		content = l.contentOf(e)
	}
	h := http.Header{}
	l.Fields(code, func(name, value string) bool {
		h[name] = append(h[name], value)
		return true
	})
	h.Set("Age", strconv.FormatInt(l.Age(), 10))
	l.setStatus(h)
	r := &http.Response{
		Status:     strconv.Itoa(code) + " " + http.StatusText(code),
		StatusCode: code,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        h,
		Body:          content,
		ContentLength: e.contentLength(),
		Request:       l.req,
	}
	if code == http.StatusNotModified || l.req.Method == http.MethodHead {
		r.ContentLength = 0
		if code != http.StatusNotModified {
			r.ContentLength = e.contentLength()
		}
	}
	return r
}

// revalidated handles a 304 to a validation request (RFC 9111 §4.3.4): it
// finds the stored response the 304 identifies, updates its header fields
// (§3.2) and freshness, stores it and builds the client's response. It
// reports false when the 304 identifies no stored response.
func (l *Lookup) revalidated(resp *http.Response) (*http.Response, bool) {
	c := l.c
	drain(resp.Body)
	target, key, ok := l.identify(resp.Header)
	if !ok {
		return nil, false
	}
	if target.flags&flagStream != 0 && !l.holdContent(&target, key) {
		// The stored content is lost: as if nothing was stored.
		if key == l.storeKey() {
			l.found = false
		}
		return nil, false
	}
	now := c.opts.Now()
	h := c.merge(target.headerOf(), resp.Header)
	// The age of the updated response comes from the 304 (§4.2.3).
	if age, ok := resp.Header["Age"]; ok {
		h["Age"] = age
	} else {
		delete(h, "Age")
	}
	updated, ttl := c.newEntry(h, target.status, target.body, l.now, now, target.vary)
	updated.keepContent(&target)
	// The merged header may no longer allow storing (a 304 that says
	// private or no-store, §3, §5.2.2), or may vary on other fields than
	// the entry was stored under (§4.1): then the entry goes, and only
	// this client gets the updated response.
	cc := c.responseDirectives(h)
	f := lifetimeOf(cc, h, target.status, updated.date, now, !c.opts.Private, c.opts.HeuristicFraction, c.opts.MaxHeuristic)
	reason := c.storable(l.req.Header, target.status, h, l.reqCC, cc, f)
	if reason == Storable && l.varyChanged(h) {
		reason = ReasonVaryChanged
	}
	if reason != Storable {
		c.delete(l.req.Context(), key, holding(&target))
		l.Status.Detail = reason.String()
		c.observe(Event{Status: l.Status, NotStored: reason})
	} else {
		c.put(l.req.Context(), key, updated, ttl, l, holding(&target))
		if l.rec != nil && key != l.storeKey() {
			// A variant chosen for other request fields turned out to be
			// the representation for this request too: store it for these
			// fields. The put above moved its content's expiry to this
			// entry's.
			updated.vary = l.vary
			c.put(l.req.Context(), l.storeKey(), updated, ttl, l, l.priorAt(l.storeKey()))
		}
		l.Status.Stored = true
		c.observe(Event{Status: l.Status, Revalidated: true, BytesSaved: updated.contentLength()})
	}
	l.land() // the stored response is up to date: collapsed requests may go on
	l.found = true
	l.age = updated.currentAge(now)
	l.Status.TTL, l.Status.HasTTL = updated.lifetime-l.age, true
	r := l.responseFrom(&updated)
	if cookies := resp.Header["Set-Cookie"]; len(cookies) > 0 {
		r.Header["Set-Cookie"] = cookies // for this client only (see merge)
	}
	return r, true
}

// varyChanged reports whether h, the merged header of a stored response,
// varies on other fields than those the response was stored under.
func (l *Lookup) varyChanged(h http.Header) bool {
	names, star := varyNames(h)
	if star {
		return true
	}
	var stored []string
	if l.rec != nil {
		stored = l.rec.names
	}
	return !slices.Equal(names, stored)
}

// identify selects the stored response a 304 refers to (RFC 9111 §4.3.4):
// the one with the same strong entity tag; else the same weak one; else,
// when the 304 carries no entity tag, the chosen response if its
// Last-Modified matches or neither has one.
func (l *Lookup) identify(h http.Header) (entry, string, bool) {
	tag, _ := precond.ParseETag(h.Get("Etag"))
	if tag == "" {
		if !l.found {
			return entry{}, "", false
		}
		if lm := h.Get("Last-Modified"); lm != "" && !l.e.lastModified.IsZero() {
			t, err := http.ParseTime(lm)
			if err != nil || !t.Equal(l.e.lastModified) {
				return entry{}, "", false
			}
		}
		return l.e, l.storeKey(), true
	}
	match := func(stored string) bool {
		return tag.StrongMatch(precond.ETag(stored)) || tag.Weak() && tag.WeakMatch(precond.ETag(stored))
	}
	if l.found && match(l.e.etag) {
		return l.e, l.storeKey(), true
	}
	// Another variant may be chosen only by a strong validator: two
	// variants can share a weak tag (the same content in two codings).
	match = func(stored string) bool { return tag.StrongMatch(precond.ETag(stored)) }
	if l.rec == nil {
		return entry{}, "", false
	}
	for i := len(l.rec.variants) - 1; i >= 0; i-- {
		v := l.rec.variants[i]
		if !match(v.etag) {
			continue
		}
		raw, err := l.c.opts.Store.Get(l.req.Context(), v.key)
		var e entry
		if err != nil || decodeEntry(raw, &e) != nil {
			continue
		}
		return e, v.key, true
	}
	return entry{}, "", false
}

// fetchFull repeats the validation request without its preconditions, for
// a 304 that identified no stored response (RFC 9111 §4.3.4).
func (l *Lookup) fetchFull(resp *http.Response) (*http.Response, error) {
	out := resp.Request
	if out == nil || l.c.opts.Transport == nil {
		return nil, errors.New("httpcache: 304 for no stored response")
	}
	out = out.Clone(out.Context())
	out.Header.Del("If-None-Match")
	out.Header.Del("If-Modified-Since")
	l.validate = false
	full, err := l.c.opts.Transport.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	RemoveHopByHop(full.Header)
	return full, nil
}

// RemoveHopByHop deletes the fields that describe one connection, and
// those Connection names, from a message forwarded (RFC 9110 §7.6.1):
// a response the cache forwards itself, or a request a proxy sends on.
func RemoveHopByHop(h http.Header) {
	for _, name := range h["Connection"] {
		for f := range httplex.Elements(name) {
			delete(h, http.CanonicalHeaderKey(f))
		}
	}
	for name := range hopByHop {
		delete(h, name)
	}
}

// freshenWithHead updates or invalidates the stored GET response with a
// 200 to HEAD (RFC 9111 §4.3.5).
func (l *Lookup) freshenWithHead(resp *http.Response) {
	c := l.c
	same := false
	if tag := resp.Header.Get("Etag"); tag != "" {
		if tag != l.e.etag {
			c.delete(l.req.Context(), l.storeKey(), holding(&l.e))
			return
		}
		same = true
	}
	if lm, ok := singleTime(resp.Header["Last-Modified"]); ok {
		if !lm.Equal(l.e.lastModified) {
			c.delete(l.req.Context(), l.storeKey(), holding(&l.e))
			return
		}
		same = true
	}
	if cl := resp.Header.Get("Content-Length"); cl != "" && cl != strconv.FormatInt(l.e.contentLength(), 10) {
		c.delete(l.req.Context(), l.storeKey(), holding(&l.e))
		return
	}
	if !same {
		return
	}
	h := c.merge(l.e.headerOf(), resp.Header)
	now := c.opts.Now()
	updated, ttl := c.newEntry(h, l.e.status, l.e.body, l.now, now, l.e.vary)
	updated.keepContent(&l.e)
	cc := c.responseDirectives(h)
	f := lifetimeOf(cc, h, l.e.status, updated.date, now, !c.opts.Private, c.opts.HeuristicFraction, c.opts.MaxHeuristic)
	if c.storable(l.req.Header, l.e.status, h, l.reqCC, cc, f) != Storable || l.varyChanged(h) {
		c.delete(l.req.Context(), l.storeKey(), holding(&l.e))
		return
	}
	c.put(l.req.Context(), l.storeKey(), updated, ttl, l, holding(&l.e))
}

// invalidate removes the stored responses of the target URI of an unsafe
// request and of the same-origin URIs in Location and Content-Location
// (RFC 9111 §4.4).
func (c *Cache) invalidate(req *http.Request, resp *http.Response) {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	uri := req.RequestURI
	if uri == "" || uri[0] != '/' {
		uri = req.URL.RequestURI()
	}
	ctx := req.Context()
	scheme := schemeOf(req)
	c.deleteURL(ctx, string(appendPrimaryKey(nil, scheme, host, uri)))
	base := &url.URL{Scheme: scheme, Host: host, Path: req.URL.Path}
	for _, f := range []string{"Location", "Content-Location"} {
		v := resp.Header.Get(f)
		if v == "" {
			continue
		}
		u, err := base.Parse(v)
		if err != nil || !httplex.EqualFold(u.Host, host) || !httplex.EqualFold(u.Scheme, scheme) {
			continue // another origin: not ours to invalidate (§4.4)
		}
		c.deleteURL(ctx, string(appendPrimaryKey(nil, scheme, host, u.RequestURI())))
	}
	c.observe(Event{Invalidation: true})
}

// Invalidate removes the stored responses for the absolute URL u, every
// variant included, as a purge does.
func (c *Cache) Invalidate(ctx context.Context, u *url.URL) error {
	return c.removeURL(ctx, string(appendURLKey(nil, u, u.RequestURI())))
}

// deleteURL removes what is stored under a primary key, logging errors.
func (c *Cache) deleteURL(ctx context.Context, primary string) {
	ctx, cancel := c.storeContext(ctx)
	defer cancel()
	if err := c.removeURL(ctx, primary); err != nil {
		c.storeError("delete", err)
	}
}

// removeURL removes the response or variant record stored under a
// primary key and every variant the record lists, with their streamed
// content. A variant the record no longer lists is never served (see
// lookup), so one missed here is harmless.
func (c *Cache) removeURL(ctx context.Context, primary string) error {
	raw, err := c.opts.Store.Get(ctx, primary)
	if err != nil {
		raw = nil
	}
	return c.removeStored(ctx, primary, raw)
}

// removeStored is removeURL for raw, the value read under primary (nil
// when none could be).
func (c *Cache) removeStored(ctx context.Context, primary string, raw []byte) error {
	if len(raw) > 0 && raw[0] == kindVariant {
		if rec, err := decodeVariants(raw); err == nil {
			for _, v := range rec.variants {
				// The record names the variant's key, not its content.
				if err := c.removeEntry(ctx, v.key, prior{}); err != nil {
					return err
				}
			}
		}
	}
	if err := c.opts.Store.Delete(ctx, primary); err != nil {
		return err
	}
	if stream := streamOf(raw); stream != "" {
		return c.opts.Store.Delete(ctx, stream)
	}
	return nil
}

// delete removes the response stored under key, with the streamed
// content old names, logging errors.
func (c *Cache) delete(ctx context.Context, key string, old prior) {
	ctx, cancel := c.storeContext(ctx)
	defer cancel()
	if err := c.removeEntry(ctx, key, old); err != nil {
		c.storeError("delete", err)
	}
}

// put stores e under key with the given expiry hint, in place of the
// value old describes (see setEntry), and records it in the URL's variant
// record when it varies.
func (c *Cache) put(ctx context.Context, key string, e entry, ttl time.Duration, l *Lookup, old prior) bool {
	ctx, cancel := c.storeContext(ctx)
	defer cancel()
	if err := c.setEntry(ctx, key, &e, ttl, old); err != nil {
		c.storeError("set", err)
		return false
	}
	if e.vary == "" {
		return true
	}
	primary := l.primaryKey()
	rec := &variantRecord{names: l.varyNamesFor(e)}
	if raw, err := c.opts.Store.Get(ctx, primary); err == nil {
		if old, err := decodeVariants(raw); err == nil && slices.Equal(old.names, rec.names) {
			rec = old
		}
	}
	rec.put(variant{key: key, etag: e.etag})
	if err := c.opts.Store.Set(ctx, primary, rec.encode(), ttl); err != nil {
		c.storeError("set", err)
		return false
	}
	return true
}

// varyNamesFor returns the Vary field names of a stored response.
func (l *Lookup) varyNamesFor(e entry) []string {
	h := http.Header{}
	eachField(e.header, func(name, value string) bool {
		if name == "Vary" {
			h[name] = append(h[name], value)
		}
		return true
	})
	names, _ := varyNames(h)
	return names
}
