// The auditor: options, the order of the probes, and sending them.

package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/notmod/notmod/internal/httplex"
)

// DefaultMaxContent is the most bytes of content read from one response
// when [Options.MaxContent] is zero.
const DefaultMaxContent = 8 << 20

// DefaultInterval is the time between watch rounds when [Options.Repeat]
// is set and [Options.Interval] is zero.
const DefaultInterval = time.Second

// Options configures [New]. The zero value is ready to use.
type Options struct {
	// Client sends every probe. Its timeout, redirect policy and TLS
	// settings are the audit's. When nil, [http.DefaultClient] is used.
	// The probe that looks for content after a 304's header section
	// (which the client discards) dials a connection of its own with the
	// DialContext and TLSClientConfig of the client's *http.Transport;
	// with another kind of transport, or a proxy, that probe is skipped.
	Client *http.Client

	// Header holds extra request fields sent with every probe, such as
	// Authorization or Cookie. It must not hold the fields the probes
	// set: If-Match, If-None-Match, If-Modified-Since,
	// If-Unmodified-Since, If-Range and Range. Accept-Encoding, when set,
	// replaces the "identity" the probes send by default (the content
	// negotiation probe still sends "gzip").
	Header http.Header

	// IfMatchMethod is the method of the If-Match and If-Unmodified-Since
	// probes; "" means GET. A method other than GET and HEAD can change
	// the resource, so it needs AllowUnsafe. With PUT, the probes that
	// expect success send back the content of the first GET; with other
	// unsafe methods those probes are not sent, and only the probes whose
	// precondition must fail are.
	IfMatchMethod string

	// AllowUnsafe permits an IfMatchMethod other than GET and HEAD.
	AllowUnsafe bool

	// Repeat is how many more GETs to send after the probes, Interval
	// apart, to watch a cache in front of the URL: does Age grow, does it
	// revalidate, does it serve stale. Zero means no watch.
	Repeat int

	// Interval is the time between watch rounds; zero means
	// DefaultInterval.
	Interval time.Duration

	// MaxContent bounds the bytes of content read from one response;
	// zero means DefaultMaxContent. Longer content is compared by its
	// first MaxContent bytes.
	MaxContent int64

	// Now returns the current time; nil means time.Now. It stamps the
	// report, dates probes and, when a response has no Date, stands for
	// the origin's clock.
	Now func() time.Time

	// Sleep waits d or until ctx is done, between watch rounds; nil means
	// a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Auditor probes URLs. It is safe for concurrent use.
type Auditor struct {
	opts   Options
	client *http.Client
}

// probeFields are the request fields the probes set themselves.
var probeFields = []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range"}

// New returns an auditor. It fails on options that cannot work: a
// negative Repeat, Interval or MaxContent, an unsafe IfMatchMethod without
// AllowUnsafe, or Header fields the probes set.
func New(o Options) (*Auditor, error) {
	if o.Repeat < 0 || o.Interval < 0 || o.MaxContent < 0 {
		return nil, errors.New("audit: negative Repeat, Interval or MaxContent")
	}
	switch o.IfMatchMethod {
	case "":
		o.IfMatchMethod = http.MethodGet
	case http.MethodGet, http.MethodHead:
	default:
		if !httplex.IsToken(o.IfMatchMethod) {
			return nil, fmt.Errorf("audit: invalid method %q", o.IfMatchMethod)
		}
		if !o.AllowUnsafe {
			return nil, fmt.Errorf("audit: method %s may change the resource; set AllowUnsafe to send it", o.IfMatchMethod)
		}
	}
	h := make(http.Header, len(o.Header))
	for k, v := range o.Header {
		k = http.CanonicalHeaderKey(k)
		if slices.Contains(probeFields, k) {
			return nil, fmt.Errorf("audit: Header must not set %s: the probes set it", k)
		}
		h[k] = append(h[k], v...)
	}
	o.Header = h
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.MaxContent == 0 {
		o.MaxContent = DefaultMaxContent
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	c := o.Client
	if c == nil {
		c = http.DefaultClient
	}
	return &Auditor{opts: o, client: c}, nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Check audits one URL: it sends the probes one after the other and
// returns the report. It returns an error only when ctx ends the audit;
// a URL that cannot be audited (invalid, unreachable) gives a report
// whose Error says why.
func (a *Auditor) Check(ctx context.Context, rawURL string) (*Report, error) {
	rep := &Report{URL: rawURL, Time: a.opts.Now().UTC().Truncate(time.Second)}
	u, err := url.Parse(rawURL)
	if err == nil && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "") {
		err = errors.New("not an absolute http or https URL")
	}
	if err != nil {
		rep.Error = fmt.Sprintf("audit: %v", err)
		rep.finish()
		return rep, nil
	}
	r := &run{a: a, ctx: ctx, url: u, rep: rep}
	r.probe()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep.Findings = r.f.list
	rep.finish()
	for _, ex := range rep.Probes {
		ex.content = nil // the report keeps heads, not content
	}
	return rep, nil
}

// CheckAll audits the URLs, at most parallel at a time (at least one),
// and returns their reports in the order of urls. done, when not nil, is
// called once per URL as its report is ready, never concurrently; i is
// the URL's index. A URL the context ended before or during its audit
// gets a report whose Error says so.
func (a *Auditor) CheckAll(ctx context.Context, urls []string, parallel int, done func(i int, r *Report)) []*Report {
	parallel = max(parallel, 1)
	reports := make([]*Report, len(urls))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
			}
			rep, err := a.Check(ctx, u)
			if err != nil {
				rep = &Report{URL: u, Time: a.opts.Now().UTC().Truncate(time.Second), Error: fmt.Sprintf("audit: %v", err)}
				rep.finish()
			}
			mu.Lock()
			defer mu.Unlock()
			reports[i] = rep
			if done != nil {
				done(i, rep)
			}
		}()
	}
	wg.Wait()
	return reports
}

// run is the audit of one URL.
type run struct {
	a   *Auditor
	ctx context.Context
	url *url.URL
	rep *Report
	f   findings
}

// send sends one probe: method with the extra fields of Options.Header,
// the default Accept-Encoding and User-Agent, then the probe's own
// fields. It records and returns the exchange.
func (r *run) send(name, method string, fields http.Header, content []byte) *Exchange {
	ex := &Exchange{Name: name, at: r.a.opts.Now()}
	r.rep.Probes = append(r.rep.Probes, ex)
	var body io.Reader
	if content != nil {
		body = bytes.NewReader(content)
	}
	req, err := http.NewRequestWithContext(r.ctx, method, r.url.String(), body)
	if err != nil {
		ex.Error = err.Error()
		return ex
	}
	r.setHeader(req.Header, fields)
	ex.Request = RequestHead{Method: method, Target: req.URL.RequestURI(), Header: req.Header.Clone()}
	resp, err := r.a.client.Do(req)
	if err != nil {
		ex.Error = err.Error()
		return ex
	}
	defer resp.Body.Close()
	var n int64
	if keepContent[name] {
		ex.content, ex.truncated, err = readContent(resp.Body, r.a.opts.MaxContent)
		n = int64(len(ex.content))
	} else {
		n, err = io.Copy(io.Discard, io.LimitReader(resp.Body, r.a.opts.MaxContent))
	}
	ex.Response = &ResponseHead{
		Proto:        resp.Proto,
		Status:       resp.StatusCode,
		Header:       resp.Header,
		ContentBytes: n,
	}
	ex.chunked = slices.Contains(resp.TransferEncoding, "chunked")
	if err != nil {
		ex.Error = err.Error()
	}
	if resp.StatusCode == http.StatusNotModified || method == http.MethodHead {
		// Content the server sent where none may be would be read as the
		// start of the next response on this connection.
		r.a.client.CloseIdleConnections()
	}
	return ex
}

// keepContent names the probes whose content the checks compare; the
// others only count it.
var keepContent = map[string]bool{"get": true, "get-again": true, "range": true}

// setHeader fills h with the fields every probe carries, then fields.
func (r *run) setHeader(h, fields http.Header) {
	for k, v := range r.a.opts.Header {
		h[k] = slices.Clone(v)
	}
	if len(h["Accept-Encoding"]) == 0 {
		h.Set("Accept-Encoding", "identity")
	}
	if len(h["User-Agent"]) == 0 {
		h.Set("User-Agent", "notmod-check")
	}
	for k, v := range fields {
		h[k] = v
	}
}

// readContent reads up to max bytes of rc; truncated reports more.
func readContent(rc io.Reader, max int64) (content []byte, truncated bool, err error) {
	content, err = io.ReadAll(io.LimitReader(rc, max+1))
	if int64(len(content)) > max {
		return content[:max], true, err
	}
	return content, false, err
}

// fields makes a header of name, value pairs.
func fields(kv ...string) http.Header {
	h := make(http.Header, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = []string{kv[i+1]}
	}
	return h
}

// probe sends every probe in order and records the findings.
func (r *run) probe() {
	get := r.send("get", http.MethodGet, nil, nil)
	if get.Response == nil {
		r.rep.Error = "audit: " + get.Error
		return
	}
	r.rep.Status = get.status()
	r.rep.ETag = get.header().Get("Etag")
	r.rep.LastModified = get.header().Get("Last-Modified")
	head := r.send("head", http.MethodHead, nil, nil)
	again := r.send("get-again", http.MethodGet, nil, nil)

	v := validatorsOf(get, r.a.opts.Now())
	fr := freshnessOf(get, len(r.a.opts.Header["Authorization"]) > 0)
	r.rep.Freshness = &fr
	checkStatus(&r.f, get)
	checkCaching(&r.f, get, fr)
	checkCacheInFront(&r.f, get)
	checkCacheInFront(&r.f, again)
	explainCache(&r.f, get, again)
	if get.status() != http.StatusOK {
		return
	}
	checkValidators(&r.f, get, v)
	checkHead(&r.f, get, again, head)
	checkStability(&r.f, get, again)

	cond := r.conditional(v)
	checkIfNoneMatch(&r.f, v, cond)
	checkIfModifiedSince(&r.f, v, cond)
	r.preconditions(get, v)
	r.ranges(get, v)
	r.negotiation(get)
	r.notModified(get, again)
	r.watch(get)
	checkFailures(&r.f, r.rep.Probes)
}

// conditional sends the If-None-Match and If-Modified-Since probes that
// the validators allow, and returns them by name.
func (r *run) conditional(v validators) map[string]*Exchange {
	out := map[string]*Exchange{}
	if v.etagOK {
		out["inm-exact"] = r.send("inm-exact", http.MethodGet, fields("If-None-Match", string(v.etag)), nil)
		out["inm-weak"] = r.send("inm-weak", http.MethodGet, fields("If-None-Match", string(otherForm(v.etag))), nil)
		list := fmt.Sprintf(`%s, %s, %s`, tagA, v.etag, tagB)
		out["inm-list"] = r.send("inm-list", http.MethodGet, fields("If-None-Match", list), nil)
	}
	out["inm-other"] = r.send("inm-other", http.MethodGet, fields("If-None-Match", tagA+", "+tagB), nil)
	out["inm-star"] = r.send("inm-star", http.MethodGet, fields("If-None-Match", "*"), nil)
	if v.lmOK {
		lm := v.lmValue
		out["ims-exact"] = r.send("ims-exact", http.MethodGet, fields("If-Modified-Since", lm), nil)
		out["ims-earlier"] = r.send("ims-earlier", http.MethodGet, fields("If-Modified-Since", v.lm.Add(-24*time.Hour).Format(http.TimeFormat)), nil)
		out["ims-future"] = r.send("ims-future", http.MethodGet, fields("If-Modified-Since", futureDate), nil)
		out["ims-invalid"] = r.send("ims-invalid", http.MethodGet, fields("If-Modified-Since", invalidDate), nil)
		out["inm-ims"] = r.send("inm-ims", http.MethodGet, fields("If-None-Match", tagA, "If-Modified-Since", lm), nil)
	}
	return out
}

// Values the probes send.
const (
	tagA        = `"notmod-audit-a"`              // an entity tag no representation has
	tagB        = `"notmod-audit-b"`              // another
	futureDate  = "Tue, 21 Nov 2050 08:00:00 GMT" // If-Modified-Since in the future
	invalidDate = "not a date"                    // If-Modified-Since that is no HTTP-date
)

// checkFailures reports probes that got no response at all.
func checkFailures(f *findings, probes []*Exchange) {
	for _, ex := range probes {
		if ex.Response == nil && ex.Error != "" && ex.Name != "raw-304" {
			f.add("probe-failed", Should, "RFC 9110 §13.2.1",
				"A probe got no response: the server should answer a valid conditional request, if only by ignoring its preconditions. "+ex.Name+": "+ex.Error, ex.Name)
		}
	}
}
