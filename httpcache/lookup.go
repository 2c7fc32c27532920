// RFC 9111 §4: constructing responses from caches.

package httpcache

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/notmod/notmod/cachecontrol"
	"github.com/notmod/notmod/precond"
	"github.com/notmod/notmod/store"
)

// Decision says what to do with a request once it has been looked up.
type Decision uint8

const (
	// Serve means a stored response can be used as it is: send it with
	// the Lookup's Reply, Fields, Age and Cache-Status.
	Serve Decision = iota
	// ServeStale means send the stored response, which is stale but may
	// be served while it is revalidated in the background
	// (stale-while-revalidate, RFC 5861 §3); then call Revalidate.
	ServeStale
	// Forward means go to the origin: prepare the outbound request with
	// Outbound, then hand the response to Receive, or an error to Fail.
	Forward
	// Wait means another request for the same URL is at the origin
	// (request collapsing): call Wait, then look up again with Retry.
	Wait
	// GatewayTimeout means the client asked for only-if-cached and
	// nothing stored fits: answer 504 (RFC 9111 §5.2.1.7).
	GatewayTimeout
)

var decisionNames = [...]string{"serve", "serve-stale", "forward", "wait", "gateway-timeout"}

// String returns the decision's name.
func (d Decision) String() string {
	if int(d) < len(decisionNames) {
		return decisionNames[d]
	}
	return "unknown"
}

// Lookup is the cache's decision about one request, with the stored
// response it chose, if any. It is used by one request at a time; Release
// it when the response has been sent.
type Lookup struct {
	c        *Cache
	req      *http.Request
	Decision Decision
	Status   Status // Cache-Status so far; final once the response is sent

	cond    precond.Conditions // the client's, evaluated against what is sent
	reqCC   cachecontrol.Request
	noCache bool // the request asked for validation (§5.2.1.4)

	kb       *[]byte // the primary key, built without allocating
	primary  string  // the primary key as a string, once needed
	key      string  // key of the chosen (or to-be-stored) response
	rec      *variantRecord
	vary     string // the request's Vary-selected values, per rec
	raw      []byte // the stored value of e
	e        entry
	found    bool
	stored   prior // what the lookup knows of the value under storeKey
	age      time.Duration
	now      time.Time
	flight   *flight
	leader   bool
	inFlight bool // a storing body still refers to this Lookup
	landed   bool
	validate bool // the forwarded request validates e
	bypass   bool // the cache takes no part: forwarded untouched
	rangeOK  bool // Reply found that Range may be honoured
	observed bool // Reply recorded its event

	remote       bool   // Wait is for another node (Options.Lease)
	leaseRelease func() // releases the fleet lease this lookup holds

	held *heldStream // streamed content held (see stream.go), or nil
	h    *head       // the prepared head of e, once head found it
	peek bool        // made by Peek

	mu             sync.Mutex // guards the three fields below, landed and leaseRelease
	releasePending bool       // Release was called while a body was in flight
}

// Lookup decides how to answer r (RFC 9111 §4). r must be a server-side
// request whose Host and RequestURI (or URL) name the target, or a client
// request whose URL does. For a fresh hit without Vary it does not
// allocate.
func (c *Cache) Lookup(r *http.Request) *Lookup {
	return c.lookup(r, true)
}

// Peek looks r up as Lookup does, but never joins nor leads a collapsed
// request (nor takes a lease for one): a lookup whose decision is not
// Serve has changed nothing and may be released and made again. It is
// for a front end that answers plain hits itself and hands every other
// request, unanswered, to a path that looks it up again with Lookup.
//
// A stored response whose content is kept as a stream (see
// [Lookup.Streamed]) is not opened: the decision is Forward and Streamed
// reports true, for such content is never the caller's to send.
func (c *Cache) Peek(r *http.Request) *Lookup {
	l := c.newLookup()
	l.peek = true
	return c.lookupInto(l, r, false, false)
}

// Rebind makes the lookup go on with r in place of the request it was
// made with, which r must equal in method, target and header fields. A
// front end that looks a request up through a short-lived view of its
// own buffers (valid only while it answers a hit) rebinds to a request
// it owns before anything that outlives that: forwarding, waiting,
// revalidating in the background. Everything the lookup derived from the
// request is taken from r afterwards.
func (l *Lookup) Rebind(r *http.Request) {
	l.req = r
	if l.cond.Method != "" {
		l.cond.Method = r.Method
		l.cond.IfNoneMatch = r.Header["If-None-Match"]
		l.cond.IfModifiedSince = r.Header["If-Modified-Since"]
		l.cond.IfRange = r.Header["If-Range"]
	}
	if !l.bypass {
		l.reqCC, _ = requestDirectives(r.Header)
	}
}

// Retry looks the request up again after a [Wait]: the flight it waited
// for has landed. It does not wait a second time: if the stored response
// still does not fit, it forwards.
func (l *Lookup) Retry() *Lookup {
	c, r, fwd := l.c, l.req, l.Status.Fwd
	l.Release()
	n := c.lookup(r, false)
	// RFC 9211 §2.6: collapsed is about a forward request; true when the
	// response of the request it waited for was reused.
	if n.Decision == Serve || n.Decision == ServeStale {
		n.Status.Hit, n.Status.Fwd, n.Status.Collapsed = false, fwd, true
	} else if n.Decision == Forward {
		n.Status.NotCollapsed = true
	}
	return n
}

func (c *Cache) lookup(r *http.Request, collapse bool) *Lookup {
	return c.lookupFrom(r, collapse, false)
}

// get reads key from the store; latest asks a tiered store for the value
// behind its local copy (store.Authority).
func (c *Cache) get(ctx context.Context, key string, latest bool) ([]byte, error) {
	if latest {
		if a, ok := c.opts.Store.(store.Authority); ok {
			return a.GetLatest(ctx, key)
		}
	}
	return c.opts.Store.Get(ctx, key)
}

// lookupFrom is lookup, reading the latest stored values when latest is
// set.
func (c *Cache) lookupFrom(r *http.Request, collapse, latest bool) *Lookup {
	return c.lookupInto(c.newLookup(), r, collapse, latest)
}

// newLookup returns a cleared Lookup from the pool.
func (c *Cache) newLookup() *Lookup {
	l, _ := c.looks.Get().(*Lookup)
	if l == nil {
		l = &Lookup{}
	}
	l.reset()
	return l
}

// lookupInto is lookupFrom with l, a cleared Lookup.
func (c *Cache) lookupInto(l *Lookup, r *http.Request, collapse, latest bool) *Lookup {
	l.c, l.req, l.now, l.Decision = c, r, c.opts.Now(), Forward
	l.cond = precond.Conditions{
		Method:          r.Method,
		IfNoneMatch:     r.Header["If-None-Match"],
		IfModifiedSince: r.Header["If-Modified-Since"],
		IfRange:         r.Header["If-Range"],
		Range:           len(r.Header["Range"]) > 0,
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	default:
		l.Status.Fwd = FwdMethod
		l.cond = precond.Conditions{}
		l.bypass = true
		return l
	}
	// If-Match and If-Unmodified-Since are for the origin (RFC 9111
	// §4.3.2): such requests go there, untouched.
	if len(r.Header["If-Match"]) > 0 || len(r.Header["If-Unmodified-Since"]) > 0 {
		l.Status.Fwd = FwdRequest
		l.cond = precond.Conditions{}
		l.bypass = true
		return l
	}
	l.reqCC, l.noCache = requestDirectives(r.Header)

	bp, _ := c.keys.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 256)
		bp = &b
	}
	uri := r.RequestURI
	if uri == "" || uri[0] != '/' {
		uri = r.URL.RequestURI()
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	*bp = appendPrimaryKey((*bp)[:0], schemeOf(r), host, uri)
	l.kb = bp
	raw, err := c.get(r.Context(), unsafeString(*bp), latest)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.storeError("get", err)
		} else {
			l.stored = prior{known: true}
		}
		l.Status.Fwd = FwdURIMiss
		return c.forward(l, collapse)
	}
	if len(raw) > 0 && raw[0] == kindVariant {
		rec, err := decodeVariants(raw)
		if err != nil {
			l.stored = prior{known: true} // a record that names no content
			l.Status.Fwd = FwdURIMiss
			return c.forward(l, collapse)
		}
		l.rec = rec
		l.vary = varyValues(rec.names, r.Header)
		l.key = variantKey(l.primaryKey(), l.vary)
		if !rec.lists(l.key) {
			// Never stored, or stored before the URL was invalidated.
			l.Status.Fwd = FwdVaryMiss
			return c.forward(l, collapse)
		}
		raw, err = c.get(r.Context(), l.key, latest)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				c.storeError("get", err)
			} else {
				l.stored = prior{known: true}
			}
			l.Status.Fwd = FwdVaryMiss
			return c.forward(l, collapse)
		}
	}
	if decodeEntry(raw, &l.e) != nil {
		l.e, l.stored = entry{}, prior{known: true} // a value that names no content
		l.Status.Fwd = FwdMiss
		return c.forward(l, collapse)
	}
	l.stored = holding(&l.e)
	if l.e.vary != l.vary {
		// A different variant, or one stored under another Vary (§4.1).
		l.Status.Fwd = FwdVaryMiss
		return c.forward(l, collapse)
	}
	if l.e.flags&flagStream != 0 && l.peek {
		l.raw, l.found = raw, true
		return l // Forward; Streamed reports true
	}
	if l.e.flags&flagStream != 0 && !l.holdContent(&l.e, l.storeKey()) {
		l.e = entry{}
		l.Status.Fwd = FwdMiss
		return c.forward(l, collapse)
	}
	l.raw, l.found = raw, true
	l.age = l.e.currentAge(l.now)
	return c.decide(l, collapse)
}

// decide chooses between serving the stored response, serving it stale,
// and validating it (RFC 9111 §4, §4.2.4, §5.2.1; RFC 5861).
func (c *Cache) decide(l *Lookup, collapse bool) *Lookup {
	e := &l.e
	fresh := e.lifetime > l.age
	l.Status.TTL, l.Status.HasTTL = e.lifetime-l.age, true

	usable := fresh
	if d, ok := l.reqCC.MaxAge(); ok && l.age > d {
		usable = false // §5.2.1.1
	}
	if d, ok := l.reqCC.MinFresh(); ok && e.lifetime-l.age < d {
		usable = false // §5.2.1.3
	}
	mayStale := e.flags&flagMustRevalidate == 0 && e.flags&flagNoCache == 0
	if !fresh && mayStale {
		// §5.2.1.2: max-stale lets the client accept a stale response.
		if d, ok := l.reqCC.MaxStale(); ok && l.age-e.lifetime <= d {
			if _, ok := l.reqCC.MaxAge(); !ok {
				usable = true
			}
		}
	}
	if l.noCache || e.flags&flagNoCache != 0 {
		usable = false // §5.2.1.4, §5.2.2.4
	}
	if usable {
		l.Decision = Serve
		l.Status.Hit = true
		return l
	}
	if !fresh && mayStale && !l.noCache && e.swr >= 0 && l.age-e.lifetime <= e.swr {
		if _, ok := l.reqCC.MaxAge(); !ok {
			l.Decision = ServeStale // RFC 5861 §3
			l.Status.Hit = true
			return l
		}
	}
	switch {
	case l.noCache:
		l.Status.Fwd = FwdRequest
	case !fresh:
		l.Status.Fwd = FwdStale
	case e.flags&flagNoCache != 0:
		l.Status.Fwd = FwdStale
	default:
		l.Status.Fwd = FwdRequest
	}
	return c.forward(l, collapse)
}

// forward settles a lookup that must go to the origin: a 504 for
// only-if-cached, a wait behind another request for the same URL, or a
// forwarded request, validating the stored response when there is one.
func (c *Cache) forward(l *Lookup, collapse bool) *Lookup {
	if l.reqCC.OnlyIfCached() {
		l.Decision = GatewayTimeout // §5.2.1.7
		l.Status.Fwd = FwdNone
		l.Status.HasTTL = false
		return l
	}
	l.Decision = Forward
	// §4.3.1: validate with the chosen response's validators, or with the
	// entity tags of the URL's other variants when none could be chosen.
	l.validate = l.found && (l.e.etag != "" || !l.e.lastModified.IsZero()) || l.rec.hasTags()
	// Not collapsed: partial and validating requests, and protocol
	// switches (RFC 9110 §7.8), whose "response" lasts as long as the
	// session and is never stored.
	if l.req.Method != http.MethodGet || l.req.Header.Get("Range") != "" || l.noCache || !collapse || len(l.req.Header["Upgrade"]) > 0 {
		return l
	}
	f, leader := c.join(l.primaryKey())
	l.flight, l.leader = f, leader
	if !leader {
		l.Decision = Wait
		return l
	}
	if c.opts.Lease != nil {
		// Across a fleet: one node at a time fetches or revalidates a URL.
		ok, release := c.opts.Lease(l.req.Context(), "lease "+l.primaryKey())
		if !ok {
			l.Decision, l.remote = Wait, true
			return l
		}
		l.leaseRelease = release
		// Another node may have stored a fresh response between this
		// lookup and the lease: look again before going to the origin.
		if n := c.lookupFrom(l.req, false, true); n.Decision == Serve || n.Decision == ServeStale {
			n.Status.Hit, n.Status.Fwd, n.Status.Collapsed = false, l.Status.Fwd, true
			l.Release() // lands the flight and releases the lease
			return n
		} else {
			n.Release()
		}
	}
	return l
}

// Wait blocks until the request this one was collapsed behind is done, or
// ctx is, or LeaseWait has passed.
//
// When the request it waits for is on another node of the fleet (see
// Options.Lease), it looks the store up every LeasePoll until a stored
// response can be served, for at most LeaseWait.
func (l *Lookup) Wait(ctx context.Context) error {
	if l.remote {
		return l.waitRemote(ctx)
	}
	// Bounded: a leader stuck on a slow origin or client must not hold
	// the others forever; after LeaseWait they go on (Retry forwards).
	t := time.NewTimer(l.c.opts.LeaseWait)
	defer t.Stop()
	select {
	case <-l.flight.done:
		return nil
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Lookup) waitRemote(ctx context.Context) error {
	c := l.c
	deadline := time.NewTimer(c.opts.LeaseWait)
	defer deadline.Stop()
	tick := time.NewTicker(c.opts.LeasePoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return nil
		case <-tick.C:
		}
		n := c.lookupFrom(l.req, false, true) // past this node's copy
		served := n.Decision == Serve || n.Decision == ServeStale
		n.Release()
		if served {
			return nil
		}
	}
}

// Release ends the lookup: a collapsed flight it leads lands, and the
// Lookup is recycled unless a body from Receive still uses it. The
// Lookup must not be used afterwards.
func (l *Lookup) Release() {
	l.land()
	l.mu.Lock()
	if l.inFlight {
		l.releasePending = true
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	c := l.c
	if l.kb != nil {
		c.keys.Put(l.kb)
	}
	l.reset()
	c.looks.Put(l)
}

// reset clears l for reuse, keeping its mutex as it is.
func (l *Lookup) reset() {
	l.closeStream()
	l.c, l.req, l.Decision, l.Status = nil, nil, Forward, Status{}
	l.cond, l.reqCC, l.noCache = precond.Conditions{}, cachecontrol.Request{}, false
	l.kb, l.primary, l.key, l.rec, l.vary, l.raw = nil, "", "", nil, "", nil
	l.e, l.found, l.stored, l.age, l.now = entry{}, false, prior{}, 0, time.Time{}
	l.flight, l.leader, l.inFlight, l.landed = nil, false, false, false
	l.validate, l.bypass, l.releasePending, l.rangeOK, l.observed = false, false, false, false, false
	l.remote, l.leaseRelease, l.h, l.peek = false, nil, nil, false
}

// primaryKey returns the primary key as a string, copying it once.
func (l *Lookup) primaryKey() string {
	if l.primary == "" && l.kb != nil {
		l.primary = string(*l.kb)
	}
	return l.primary
}

// storeKey returns the key the chosen or new response is stored under.
func (l *Lookup) storeKey() string {
	if l.key != "" {
		return l.key
	}
	return l.primaryKey()
}

func (l *Lookup) land() {
	l.mu.Lock()
	do := l.leader && !l.landed
	l.landed = true
	release := l.leaseRelease
	l.leaseRelease = nil
	l.mu.Unlock()
	if release != nil {
		release()
	}
	if do {
		l.c.land(l.primaryKey(), l.flight)
	}
}

// Reply returns the status code and content to send for a Serve or
// ServeStale decision. The client's If-None-Match and If-Modified-Since
// are evaluated against the stored response (RFC 9111 §4.3.2) and may
// make it a 304, whose fields [Lookup.Fields] then limits as RFC 9110
// §15.4.5 says. A 304 is never sent to a request that was not
// conditional. HEAD gets no content. The content is shared and must not
// be modified.
func (l *Lookup) Reply() (code int, body []byte) {
	code, body = l.e.status, l.e.body
	saved := l.e.contentLength()
	if code == http.StatusOK && (l.cond.Conditional() || l.cond.Range) {
		o := l.cond.Evaluate(l.validators())
		l.rangeOK = o == precond.Proceed && l.cond.Range && l.req.Method == http.MethodGet
		if o == precond.NotModified {
			l.replied(Event{Status: l.Status, NotModified: true, BytesSaved: saved, ServedStale: l.Decision == ServeStale})
			return http.StatusNotModified, nil
		}
	}
	l.replied(Event{Status: l.Status, BytesSaved: saved, ServedStale: l.Decision == ServeStale})
	if l.req.Method == http.MethodHead {
		body = nil
	}
	return code, body
}

// replied records the event of a reply, once per lookup: a front end
// that could not send the reply itself hands the lookup on, and the
// reply is asked for again.
func (l *Lookup) replied(e Event) {
	if !l.observed {
		l.observed = true
		l.c.observe(e)
	}
}

// RangeOK reports, after Reply returned a 200, whether the request's
// Range may be answered from the content: it is a GET with Range and
// If-Range, if any, matched (RFC 9110 §13.1.5).
func (l *Lookup) RangeOK() bool { return l.rangeOK }

// validators returns the validators of the stored response for evaluating
// a client's conditions: its ETag, and its Last-Modified or, without one,
// its Date (RFC 9111 §4.3.2).
func (l *Lookup) validators() precond.Validators {
	v := precond.Validators{ETag: precond.ETag(l.e.etag), LastModified: l.e.lastModified, Date: l.e.date}
	if v.LastModified.IsZero() {
		v.LastModified = l.e.date
		if v.LastModified.IsZero() {
			v.LastModified = l.e.responseTime
		}
	}
	return v
}

// Fields calls fn for each stored header field to send with code, the
// status Reply returned, until fn returns false. For a 304 it leaves out
// what RFC 9110 §15.4.5 excludes. The strings are shared and must not be
// retained beyond the stored value's life, which the store guarantees
// while it is referenced.
func (l *Lookup) Fields(code int, fn func(name, value string) bool) {
	hasETag := l.e.etag != ""
	l.e.fields(func(name, value string) bool {
		if l.c.omitted(name, code == http.StatusNotModified, hasETag) {
			return true
		}
		return fn(name, value)
	})
}

// omitted reports whether the cache leaves a stored field out of what it
// sends: Surrogate-Control, which is for this cache and not its clients,
// and, in a 304, what RFC 9110 §15.4.5 excludes.
func (c *Cache) omitted(name string, notModified, hasETag bool) bool {
	if name == "Surrogate-Control" && !c.opts.IgnoreSurrogateControl && !c.opts.Private {
		return true
	}
	return notModified && precond.OmitFrom304(name, hasETag)
}

// Age returns the value of the Age field to send with a stored response:
// its current age in whole seconds (RFC 9111 §4.2.3, §5.1).
func (l *Lookup) Age() int64 { return int64(l.age / time.Second) }

// AppendCacheStatus appends this cache's Cache-Status member (RFC 9211).
func (l *Lookup) AppendCacheStatus(dst []byte) []byte {
	return l.Status.AppendTo(dst, l.c.opts.Name)
}

// Request returns the request being looked up.
func (l *Lookup) Request() *http.Request { return l.req }

// BodyLength returns the length of the stored content.
func (l *Lookup) BodyLength() int { return int(l.e.contentLength()) }
