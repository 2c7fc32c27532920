package httpcache

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/notmod/notmod/precond"
)

func TestLookupDecision(t *testing.T) {
	lastModified := httpDate(t0.Add(-10 * time.Hour))
	type tc struct {
		opts     Options
		resp     []string      // fields of the stored 200; nothing stored when nil
		storeReq []string      // fields of the request that stored it
		after    time.Duration // time between storing and the lookup
		method   string        // GET and HEAD when empty
		target   string        // "/a" when empty
		req      []string      // fields of the request looked up
		decision Decision
		fwd      Fwd
		validate bool   // the forwarded request validates the stored response
		status   string // Cache-Status, when not empty
	}
	tests := map[string]tc{
		// §4: nothing stored.
		"uri miss": {
			decision: Forward, fwd: FwdURIMiss, status: "notmod; fwd=uri-miss",
		},
		// §4, §4.2: a fresh stored response is served.
		"fresh": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `"a"`}, after: 10 * time.Second,
			decision: Serve, status: "notmod; hit; ttl=50",
		},
		// §4.2.1: s-maxage before max-age in a shared cache.
		"fresh by s-maxage": {
			resp: []string{"Cache-Control", "max-age=10, s-maxage=100"}, after: 50 * time.Second,
			decision: Serve, status: "notmod; hit; ttl=50",
		},
		// §4.2.1: a private cache ignores s-maxage.
		"stale by max-age in a private cache": {
			opts: Options{Private: true},
			resp: []string{"Cache-Control", "max-age=10, s-maxage=100"}, after: 50 * time.Second,
			decision: Forward, fwd: FwdStale,
		},
		// §4.2.1: Expires minus Date.
		"fresh by Expires": {
			resp: []string{"Expires", httpDate(t0.Add(time.Minute))}, after: 30 * time.Second,
			decision: Serve, status: "notmod; hit; ttl=30",
		},
		// §4.2.2: heuristic freshness, a tenth of 10 h.
		"fresh by heuristic": {
			resp: []string{"Last-Modified", lastModified}, after: 30 * time.Minute,
			decision: Serve, status: "notmod; hit; ttl=1800",
		},
		"stale by heuristic": {
			resp: []string{"Last-Modified", lastModified}, after: 61 * time.Minute,
			decision: Forward, fwd: FwdStale, validate: true,
		},
		// §4.2.3: the Age received counts.
		"stale by Age": {
			resp: []string{"Cache-Control", "max-age=60", "Age", "50", "Etag", `"a"`}, after: 20 * time.Second,
			decision: Forward, fwd: FwdStale, validate: true,
		},
		// §4.2.3: so does the apparent age, from Date.
		"stale by Date": {
			resp: []string{"Cache-Control", "max-age=60", "Date", httpDate(t0.Add(-50 * time.Second))}, after: 20 * time.Second,
			decision: Forward, fwd: FwdStale,
		},
		// §4.2.1, §5.1: an invalid Age makes the response stale.
		"invalid Age": {
			resp:     []string{"Cache-Control", "max-age=60", "Age", "1.5", "Etag", `"a"`},
			decision: Forward, fwd: FwdStale, validate: true,
		},
		// §4.2.4, §4.3.1: a stale response is validated.
		"stale": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `"a"`}, after: 70 * time.Second,
			decision: Forward, fwd: FwdStale, validate: true, status: "notmod; fwd=stale; ttl=-10",
		},
		"stale with Last-Modified": {
			resp: []string{"Cache-Control", "max-age=60", "Last-Modified", lastModified}, after: 70 * time.Second,
			decision: Forward, fwd: FwdStale, validate: true,
		},
		// §4.3.1: nothing to validate with.
		"stale without validators": {
			resp: []string{"Cache-Control", "max-age=60"}, after: 70 * time.Second,
			decision: Forward, fwd: FwdStale, validate: false,
		},
		// §5.2.2.4: no-cache: validated before every use.
		"no-cache response": {
			resp: []string{"Cache-Control", "max-age=60, no-cache", "Etag", `"a"`}, after: time.Second,
			decision: Forward, fwd: FwdStale, validate: true,
		},
		// §5.2.1.4: the client asks for validation.
		"request no-cache": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `"a"`}, after: time.Second,
			req:      []string{"Cache-Control", "no-cache"},
			decision: Forward, fwd: FwdRequest, validate: true,
		},
		// §5.4: Pragma: no-cache without Cache-Control.
		"Pragma no-cache": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `"a"`}, after: time.Second,
			req:      []string{"Pragma", "no-cache"},
			decision: Forward, fwd: FwdRequest, validate: true,
		},
		// §5.4: Cache-Control takes precedence over Pragma.
		"Pragma with Cache-Control": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `"a"`}, after: time.Second,
			req:      []string{"Pragma", "no-cache", "Cache-Control", "max-age=100"},
			decision: Serve,
		},
		// §5.2.1.1: the client wants a response no older than max-age.
		"request max-age=0": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `"a"`}, after: 10 * time.Second,
			req:      []string{"Cache-Control", "max-age=0"},
			decision: Forward, fwd: FwdRequest, validate: true,
		},
		"request max-age=0 at age 0": {
			resp:     []string{"Cache-Control", "max-age=60", "Etag", `"a"`},
			req:      []string{"Cache-Control", "max-age=0"},
			decision: Serve,
		},
		"request max-age met": {
			resp: []string{"Cache-Control", "max-age=60"}, after: 10 * time.Second,
			req:      []string{"Cache-Control", "max-age=10"},
			decision: Serve,
		},
		// §5.2.1.3: the client wants it fresh for min-fresh more.
		"min-fresh not met": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `"a"`}, after: 10 * time.Second,
			req:      []string{"Cache-Control", "min-fresh=55"},
			decision: Forward, fwd: FwdRequest, validate: true,
		},
		"min-fresh met": {
			resp: []string{"Cache-Control", "max-age=60"}, after: 10 * time.Second,
			req:      []string{"Cache-Control", "min-fresh=50"},
			decision: Serve,
		},
		// §5.2.1.2: the client accepts a response stale by max-stale.
		"max-stale met": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `"a"`}, after: 70 * time.Second,
			req:      []string{"Cache-Control", "max-stale=20"},
			decision: Serve, status: "notmod; hit; ttl=-10",
		},
		"max-stale not met": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `"a"`}, after: 70 * time.Second,
			req:      []string{"Cache-Control", "max-stale=5"},
			decision: Forward, fwd: FwdStale, validate: true,
		},
		"max-stale without a value": {
			resp: []string{"Cache-Control", "max-age=60"}, after: 50 * time.Minute,
			req:      []string{"Cache-Control", "max-stale"},
			decision: Serve,
		},
		// §5.2.2.2, §4.2.4: must-revalidate forbids serving stale even
		// when the client accepts it.
		"must-revalidate forbids max-stale": {
			resp: []string{"Cache-Control", "max-age=60, must-revalidate", "Etag", `"a"`}, after: 70 * time.Second,
			req:      []string{"Cache-Control", "max-stale=100"},
			decision: Forward, fwd: FwdStale, validate: true,
		},
		// §5.2.2.8: proxy-revalidate, in a shared cache.
		"proxy-revalidate forbids max-stale": {
			resp: []string{"Cache-Control", "max-age=60, proxy-revalidate"}, after: 70 * time.Second,
			req:      []string{"Cache-Control", "max-stale=100"},
			decision: Forward, fwd: FwdStale,
		},
		"proxy-revalidate in a private cache": {
			opts: Options{Private: true},
			resp: []string{"Cache-Control", "max-age=60, proxy-revalidate"}, after: 70 * time.Second,
			req:      []string{"Cache-Control", "max-stale=100"},
			decision: Serve,
		},
		// §5.2.2.10: s-maxage implies proxy-revalidate.
		"s-maxage forbids max-stale": {
			resp: []string{"Cache-Control", "s-maxage=60"}, after: 70 * time.Second,
			req:      []string{"Cache-Control", "max-stale=100"},
			decision: Forward, fwd: FwdStale,
		},
		// §5.2.2.4: a no-cache response is never served stale either.
		"no-cache forbids max-stale": {
			resp: []string{"Cache-Control", "max-age=60, no-cache", "Etag", `"a"`}, after: 70 * time.Second,
			req:      []string{"Cache-Control", "max-stale=100"},
			decision: Forward, fwd: FwdStale, validate: true,
		},
		// §5.2.1.7: only-if-cached and nothing fits: 504.
		"only-if-cached, nothing stored": {
			req:      []string{"Cache-Control", "only-if-cached"},
			decision: GatewayTimeout,
		},
		"only-if-cached, stale": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `"a"`}, after: 70 * time.Second,
			req:      []string{"Cache-Control", "only-if-cached"},
			decision: GatewayTimeout,
		},
		"only-if-cached, fresh": {
			resp: []string{"Cache-Control", "max-age=60"}, after: 10 * time.Second,
			req:      []string{"Cache-Control", "only-if-cached"},
			decision: Serve,
		},
		"only-if-cached with max-stale": {
			resp: []string{"Cache-Control", "max-age=60"}, after: 70 * time.Second,
			req:      []string{"Cache-Control", "only-if-cached, max-stale=60"},
			decision: Serve,
		},
		"only-if-cached, other variant": {
			resp:     []string{"Cache-Control", "max-age=60", "Vary", "Accept-Encoding"},
			storeReq: []string{"Accept-Encoding", "gzip"},
			req:      []string{"Cache-Control", "only-if-cached", "Accept-Encoding", "br"},
			decision: GatewayTimeout,
		},
		// RFC 5861 §3: stale-while-revalidate serves stale within its
		// window.
		"stale-while-revalidate window": {
			resp: []string{"Cache-Control", "max-age=60, stale-while-revalidate=30", "Etag", `"a"`}, after: 80 * time.Second,
			decision: ServeStale, status: "notmod; hit; ttl=-20",
		},
		"stale-while-revalidate window passed": {
			resp: []string{"Cache-Control", "max-age=60, stale-while-revalidate=30", "Etag", `"a"`}, after: 100 * time.Second,
			decision: Forward, fwd: FwdStale, validate: true,
		},
		"stale-while-revalidate with must-revalidate": {
			resp: []string{"Cache-Control", "max-age=60, stale-while-revalidate=30, must-revalidate", "Etag", `"a"`}, after: 80 * time.Second,
			decision: Forward, fwd: FwdStale, validate: true,
		},
		"stale-while-revalidate and request no-cache": {
			resp: []string{"Cache-Control", "max-age=60, stale-while-revalidate=30", "Etag", `"a"`}, after: 80 * time.Second,
			req:      []string{"Cache-Control", "no-cache"},
			decision: Forward, fwd: FwdRequest, validate: true,
		},
		"stale-while-revalidate and request max-age": {
			resp: []string{"Cache-Control", "max-age=60, stale-while-revalidate=30", "Etag", `"a"`}, after: 80 * time.Second,
			req:      []string{"Cache-Control", "max-age=100"},
			decision: Forward, fwd: FwdStale, validate: true,
		},
		// §4.3.2: If-Match and If-Unmodified-Since are for the origin.
		"If-Match bypasses": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `"a"`}, after: time.Second,
			req:      []string{"If-Match", `"a"`},
			decision: Forward, fwd: FwdRequest,
		},
		"If-Unmodified-Since bypasses": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `"a"`}, after: time.Second,
			req:      []string{"If-Unmodified-Since", httpDate(t0)},
			decision: Forward, fwd: FwdRequest,
		},
		// §4.3.2: If-None-Match is for the cache.
		"If-None-Match served": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `"a"`}, after: time.Second,
			req:      []string{"If-None-Match", `"a"`},
			decision: Serve,
		},
		// RFC 9211 §2.2: an unsafe method goes forward.
		"POST": {
			resp: []string{"Cache-Control", "max-age=60"}, method: http.MethodPost,
			decision: Forward, fwd: FwdMethod, status: "notmod; fwd=method",
		},
		"OPTIONS": {
			resp: []string{"Cache-Control", "max-age=60"}, method: http.MethodOptions,
			decision: Forward, fwd: FwdMethod,
		},
		// §2: another target URI is another response.
		"other query": {
			resp: []string{"Cache-Control", "max-age=60"}, target: "/a?x=1",
			decision: Forward, fwd: FwdURIMiss,
		},
		// §4.1: the request's Vary-selected fields match.
		"Vary match": {
			resp:     []string{"Cache-Control", "max-age=60", "Vary", "Accept-Encoding"},
			storeReq: []string{"Accept-Encoding", "gzip, br"},
			req:      []string{"Accept-Encoding", "BR,gzip"},
			decision: Serve,
		},
		// §4.1: they do not; §4.3.1: the other variants' entity tags
		// are sent, so the origin can nominate one.
		"Vary mismatch": {
			resp:     []string{"Cache-Control", "max-age=60", "Vary", "Accept-Encoding", "Etag", `"a"`},
			storeReq: []string{"Accept-Encoding", "gzip"},
			req:      []string{"Accept-Encoding", "br"},
			decision: Forward, fwd: FwdVaryMiss, status: "notmod; fwd=vary-miss", validate: true,
		},
		// §4.1: an absent field does not match a present one.
		"Vary field absent": {
			resp:     []string{"Cache-Control", "max-age=60", "Vary", "Accept-Encoding"},
			storeReq: []string{"Accept-Encoding", "gzip"},
			decision: Forward, fwd: FwdVaryMiss,
		},
		"Vary field absent from both": {
			resp:     []string{"Cache-Control", "max-age=60", "Vary", "Accept-Encoding"},
			decision: Serve,
		},
		// §4.1: fields not named by Vary do not count.
		"Vary other field differs": {
			resp:     []string{"Cache-Control", "max-age=60", "Vary", "Accept-Encoding"},
			storeReq: []string{"Accept-Encoding", "gzip", "Accept-Language", "en"},
			req:      []string{"Accept-Encoding", "gzip", "Accept-Language", "fr"},
			decision: Serve,
		},
	}
	for name, tt := range tests {
		methods := []string{http.MethodGet, http.MethodHead}
		if tt.method != "" {
			methods = []string{tt.method}
		}
		for _, method := range methods {
			t.Run(name+"/"+method, func(t *testing.T) {
				c, clock := newTestCache(t, tt.opts)
				if tt.resp != nil {
					storeResponse(t, c, newRequest(http.MethodGet, "/a", tt.storeReq...), header(tt.resp...), "hello")
				}
				clock.Advance(tt.after)
				target := tt.target
				if target == "" {
					target = "/a"
				}
				l := c.Lookup(newRequest(method, target, tt.req...))
				defer l.Release()
				if l.Decision != tt.decision {
					t.Errorf("Decision = %v, want %v", l.Decision, tt.decision)
				}
				if l.Status.Fwd != tt.fwd {
					t.Errorf("Fwd = %q, want %q", l.Status.Fwd, tt.fwd)
				}
				hit := tt.decision == Serve || tt.decision == ServeStale
				if l.Status.Hit != hit {
					t.Errorf("Hit = %v, want %v", l.Status.Hit, hit)
				}
				if l.Decision == Forward && l.validate != tt.validate {
					t.Errorf("validate = %v, want %v", l.validate, tt.validate)
				}
				if tt.status != "" {
					if got := string(l.AppendCacheStatus(nil)); got != tt.status {
						t.Errorf("Cache-Status = %q, want %q", got, tt.status)
					}
				}
			})
		}
	}
}

// TestOutbound checks the request forwarded to the origin (§4.3.1).
func TestOutbound(t *testing.T) {
	lastModified := t0.Add(-10 * time.Hour)
	tests := map[string]struct {
		resp    []string // stored; nothing when nil
		after   time.Duration
		req     []string
		wantINM string
		wantIMS string
		wantIR  string
	}{
		// §4.3.1: the stored validators replace the client's.
		"validation": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `"v1"`, "Last-Modified", httpDate(lastModified)}, after: time.Minute + time.Second,
			req:     []string{"If-None-Match", `"mine"`, "If-Modified-Since", httpDate(t0)},
			wantINM: `"v1"`, wantIMS: httpDate(lastModified),
		},
		// §4.3.1: a weak entity tag is sent as it is.
		"weak tag": {
			resp: []string{"Cache-Control", "max-age=60", "Etag", `W/"v1"`}, after: time.Minute + time.Second,
			wantINM: `W/"v1"`,
		},
		// A miss drops the client's conditions, so that a full response
		// comes back to be stored.
		"miss": {
			req: []string{"If-None-Match", `"mine"`, "If-Modified-Since", httpDate(t0), "If-Range", `"x"`},
		},
		// Without validators nothing is added.
		"stale without validators": {
			resp: []string{"Cache-Control", "max-age=60"}, after: time.Minute + time.Second,
			req: []string{"If-None-Match", `"mine"`},
		},
		// §4.3.2: a request the cache bypasses is forwarded untouched.
		"If-Match": {
			resp:    []string{"Cache-Control", "max-age=60", "Etag", `"v1"`},
			req:     []string{"If-Match", `"v1"`, "If-None-Match", `"x"`, "If-Range", `"y"`},
			wantINM: `"x"`, wantIR: `"y"`,
		},
		// A Range request keeps its conditions.
		"Range": {
			req:     []string{"Range", "bytes=0-1", "If-Range", `"y"`, "If-None-Match", `"x"`},
			wantINM: `"x"`, wantIR: `"y"`,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c, clock := newTestCache(t, Options{})
			if tt.resp != nil {
				storeResponse(t, c, newRequest(http.MethodGet, "/a"), header(tt.resp...), "hello")
			}
			clock.Advance(tt.after)
			req := newRequest(http.MethodGet, "/a", tt.req...)
			l := c.Lookup(req)
			defer l.Release()
			out := req.Header.Clone()
			l.Outbound(out)
			if got := out.Get("If-None-Match"); got != tt.wantINM {
				t.Errorf("If-None-Match = %q, want %q", got, tt.wantINM)
			}
			if got := out.Get("If-Modified-Since"); got != tt.wantIMS {
				t.Errorf("If-Modified-Since = %q, want %q", got, tt.wantIMS)
			}
			if got := out.Get("If-Range"); got != tt.wantIR {
				t.Errorf("If-Range = %q, want %q", got, tt.wantIR)
			}
		})
	}
}

// TestOutboundVariants checks that validation sends the entity tags of
// every stored variant of the URL (§4.3.1).
func TestOutboundVariants(t *testing.T) {
	c, clock := newTestCache(t, Options{})
	for i, enc := range []string{"gzip", "br"} {
		storeResponse(t, c, newRequest(http.MethodGet, "/a", "Accept-Encoding", enc),
			header("Cache-Control", "max-age=60", "Vary", "Accept-Encoding", "Etag", `"v`+string(rune('1'+i))+`"`), "hello "+enc)
	}
	clock.Advance(2 * time.Minute)
	tests := map[string]struct {
		enc  string
		want string
	}{
		// §4.3.1: the chosen variant's tag and the others'.
		"stale variant": {"gzip", `"v1", "v2"`},
		// §4.3.1, §4.1: no variant matches, but any may be the one.
		"new variant": {"zstd", `"v1", "v2"`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			req := newRequest(http.MethodGet, "/a", "Accept-Encoding", tt.enc)
			l := c.Lookup(req)
			defer l.Release()
			if l.Decision != Forward {
				t.Fatalf("Decision = %v, want forward", l.Decision)
			}
			out := req.Header.Clone()
			l.Outbound(out)
			if got := out.Get("If-None-Match"); got != tt.want {
				t.Errorf("If-None-Match = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReply(t *testing.T) {
	lastModified := t0.Add(-time.Hour)
	type tc struct {
		status  int      // of the stored response; 200 when zero
		resp    []string // stored fields; the default set when nil
		method  string   // GET and HEAD when empty
		req     []string
		code    int
		rangeOK bool
	}
	tests := map[string]tc{
		// §4.3.2, RFC 9110 §15.4.5: never a 304 without a condition.
		"unconditional": {code: 200},
		// §4.3.2, RFC 9110 §13.1.2: If-None-Match, weak comparison.
		"If-None-Match match":      {req: []string{"If-None-Match", `"v1"`}, code: 304},
		"If-None-Match weak match": {req: []string{"If-None-Match", `W/"v1"`}, code: 304},
		"If-None-Match in a list":  {req: []string{"If-None-Match", `"x", "v1"`}, code: 304},
		"If-None-Match star":       {req: []string{"If-None-Match", "*"}, code: 304},
		"If-None-Match mismatch":   {req: []string{"If-None-Match", `"v2"`}, code: 200},
		// RFC 9110 §13.1.3: If-Modified-Since against Last-Modified.
		"If-Modified-Since equal":   {req: []string{"If-Modified-Since", httpDate(lastModified)}, code: 304},
		"If-Modified-Since later":   {req: []string{"If-Modified-Since", httpDate(t0)}, code: 304},
		"If-Modified-Since earlier": {req: []string{"If-Modified-Since", httpDate(lastModified.Add(-time.Second))}, code: 200},
		// RFC 9110 §13.1.3: an invalid date is ignored.
		"If-Modified-Since invalid": {req: []string{"If-Modified-Since", "yesterday"}, code: 200},
		// §4.3.2, RFC 9110 §13.2.2: If-None-Match before If-Modified-Since.
		"If-None-Match mismatch with If-Modified-Since": {
			req: []string{"If-None-Match", `"v2"`, "If-Modified-Since", httpDate(t0)}, code: 200,
		},
		// §4.3.2: without Last-Modified, the stored Date.
		"If-Modified-Since without Last-Modified": {
			resp: []string{"Cache-Control", "max-age=600", "Etag", `"v1"`, "Date", httpDate(t0.Add(-time.Minute))},
			req:  []string{"If-Modified-Since", httpDate(t0.Add(-time.Minute))}, code: 304,
		},
		"If-Modified-Since before Date": {
			resp: []string{"Cache-Control", "max-age=600", "Date", httpDate(t0.Add(-time.Minute))},
			req:  []string{"If-Modified-Since", httpDate(t0.Add(-2 * time.Minute))}, code: 200,
		},
		// §4.3.2: only a stored 200 is evaluated against.
		"404 with If-None-Match star": {
			status: 404, resp: []string{"Cache-Control", "max-age=600", "Etag", `"v1"`},
			req: []string{"If-None-Match", "*"}, code: 404,
		},
		// RFC 9110 §13.1.5: If-Range decides whether Range is honoured.
		"Range": {
			method: http.MethodGet, req: []string{"Range", "bytes=0-1"}, code: 200, rangeOK: true,
		},
		"Range with matching If-Range": {
			method: http.MethodGet, req: []string{"Range", "bytes=0-1", "If-Range", `"v1"`}, code: 200, rangeOK: true,
		},
		"Range with other If-Range": {
			method: http.MethodGet, req: []string{"Range", "bytes=0-1", "If-Range", `"v2"`}, code: 200,
		},
		"Range with HEAD": {
			method: http.MethodHead, req: []string{"Range", "bytes=0-1"}, code: 200,
		},
	}
	for name, tt := range tests {
		methods := []string{http.MethodGet, http.MethodHead}
		if tt.method != "" {
			methods = []string{tt.method}
		}
		for _, method := range methods {
			t.Run(name+"/"+method, func(t *testing.T) {
				c, clock := newTestCache(t, Options{})
				resp := tt.resp
				if resp == nil {
					resp = []string{
						"Cache-Control", "max-age=600", "Etag", `"v1"`, "Last-Modified", httpDate(lastModified),
						"Content-Type", "text/plain", "Content-Length", "5", "Content-Language", "en",
						"Vary", "Accept-Encoding", "Expires", httpDate(t0.Add(10 * time.Minute)), "X-Custom", "1",
					}
				}
				status := tt.status
				if status == 0 {
					status = 200
				}
				h := header(resp...)
				if _, ok := h["Date"]; !ok {
					h.Set("Date", httpDate(t0))
				}
				_, _, cs := exchange(t, c, newRequest(http.MethodGet, "/a"), func(out *http.Request) *http.Response {
					return newResponse(out, status, h.Clone(), "hello")
				})
				if !strings.Contains(cs, "stored") {
					t.Fatalf("not stored: %s", cs)
				}
				clock.Advance(time.Second)
				l := c.Lookup(newRequest(method, "/a", tt.req...))
				defer l.Release()
				if l.Decision != Serve {
					t.Fatalf("Decision = %v, want serve", l.Decision)
				}
				code, body := l.Reply()
				if code != tt.code {
					t.Errorf("Reply code = %d, want %d", code, tt.code)
				}
				wantBody := "hello"
				if code == http.StatusNotModified || method == http.MethodHead {
					wantBody = ""
				}
				if string(body) != wantBody {
					t.Errorf("Reply body = %q, want %q", body, wantBody)
				}
				if code != http.StatusNotModified && l.RangeOK() != tt.rangeOK {
					t.Errorf("RangeOK = %v, want %v", l.RangeOK(), tt.rangeOK)
				}
				if l.BodyLength() != 5 {
					t.Errorf("BodyLength = %d, want 5", l.BodyLength())
				}
				got := http.Header{}
				l.Fields(code, func(n, v string) bool { got[n] = append(got[n], v); return true })
				checkFields(t, code, h, got)
			})
		}
	}
}

// checkFields checks the fields sent with a stored response: all stored
// ones with a 200, and with a 304 only those RFC 9110 §15.4.5 allows.
func checkFields(t *testing.T, code int, stored, got http.Header) {
	t.Helper()
	if code != http.StatusNotModified {
		for n, v := range stored {
			if strings.Join(got[n], "\n") != strings.Join(v, "\n") {
				t.Errorf("%d: %s = %q, want %q", code, n, got[n], v)
			}
		}
		return
	}
	// RFC 9110 §15.4.5: the fields a 200 would have carried among these.
	for _, n := range []string{"Cache-Control", "Content-Location", "Date", "Etag", "Expires", "Vary"} {
		if strings.Join(got[n], "\n") != strings.Join(stored[n], "\n") {
			t.Errorf("304: %s = %q, want %q", n, got[n], stored[n])
		}
	}
	// RFC 9110 §15.4.5: Last-Modified only without an ETag.
	if _, ok := stored["Etag"]; ok && got["Last-Modified"] != nil {
		t.Errorf("304 with ETag carries Last-Modified %q", got["Last-Modified"])
	}
	// RFC 9110 §15.4.5: no metadata about content the 304 lacks.
	for _, n := range []string{"Content-Type", "Content-Length", "Content-Language"} {
		if v, ok := got[n]; ok {
			t.Errorf("304 carries %s: %q", n, v)
		}
	}
}

// TestReceiveClientConditions checks the answer to a client's own
// conditions when the cache went forward: a 304 only when the client's
// conditions say so (§4.3.2, RFC 9110 §15.4.5).
func TestReceiveClientConditions(t *testing.T) {
	tests := map[string]struct {
		stored   bool          // a response with ETag "v1" is stored
		after    time.Duration // before the request
		req      []string
		origin   int // the origin answers this, with ETag "v1"
		wantCode int
	}{
		// A miss: the origin's 200 is passed on.
		"miss, unconditional": {origin: 200, wantCode: 200},
		// A miss with the client's matching tag: the cache took the
		// condition off the forwarded request and answers 304 itself.
		"miss, If-None-Match match":    {req: []string{"If-None-Match", `"v1"`}, origin: 200, wantCode: 304},
		"miss, If-None-Match mismatch": {req: []string{"If-None-Match", `"v0"`}, origin: 200, wantCode: 200},
		// §4.3.4: the origin's 304 to the cache's validation is not
		// passed on to a client that did not ask for one.
		"stale, unconditional, origin 304": {stored: true, after: time.Hour, origin: 304, wantCode: 200},
		"stale, request no-cache, origin 304": {
			stored: true, after: time.Second, req: []string{"Cache-Control", "no-cache"}, origin: 304, wantCode: 200,
		},
		"stale, If-None-Match match, origin 304": {
			stored: true, after: time.Hour, req: []string{"If-None-Match", `"v1"`}, origin: 304, wantCode: 304,
		},
		"stale, If-None-Match mismatch, origin 304": {
			stored: true, after: time.Hour, req: []string{"If-None-Match", `"v0"`}, origin: 304, wantCode: 200,
		},
		"stale, If-Modified-Since, origin 304": {
			stored: true, after: time.Hour, req: []string{"If-Modified-Since", httpDate(t0)}, origin: 304, wantCode: 304,
		},
	}
	validators := precond.Validators{ETag: `"v1"`, LastModified: t0.Add(-time.Hour)}
	for name, tt := range tests {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			t.Run(name+"/"+method, func(t *testing.T) {
				c, clock := newTestCache(t, Options{})
				if tt.stored {
					storeResponse(t, c, newRequest(http.MethodGet, "/a"),
						header("Cache-Control", "max-age=60", "Etag", `"v1"`, "Last-Modified", httpDate(t0.Add(-time.Hour))), "hello")
				}
				clock.Advance(tt.after)
				got, body, _ := exchange(t, c, newRequest(method, "/a", tt.req...), func(out *http.Request) *http.Response {
					code := tt.origin
					// An origin evaluates the conditions it is sent.
					if precond.Evaluate(out.Method, out.Header, validators) == precond.NotModified {
						code = 304
					}
					content := "hello"
					if code == 304 || method == http.MethodHead {
						content = ""
					}
					return newResponse(out, code, header(
						"Cache-Control", "max-age=60", "Etag", `"v1"`, "Date", httpDate(clock.Now()),
						"Last-Modified", httpDate(t0.Add(-time.Hour)),
					), content)
				})
				if got.StatusCode != tt.wantCode {
					t.Errorf("answer = %d, want %d", got.StatusCode, tt.wantCode)
				}
				want := "hello"
				if tt.wantCode == 304 || method == http.MethodHead {
					want = ""
				}
				if body != want {
					t.Errorf("content = %q, want %q", body, want)
				}
			})
		}
	}
}

// TestStaleWhileRevalidateServes checks the answer to a ServeStale lookup
// (RFC 5861 §3) and that Revalidate without a Transport releases it.
func TestStaleWhileRevalidateServes(t *testing.T) {
	c, clock := newTestCache(t, Options{})
	storeResponse(t, c, newRequest(http.MethodGet, "/a"),
		header("Cache-Control", "max-age=60, stale-while-revalidate=60", "Etag", `"v1"`), "hello")
	clock.Advance(90 * time.Second)
	req := newRequest(http.MethodGet, "/a")
	l := c.Lookup(req)
	if l.Decision != ServeStale {
		t.Fatalf("Decision = %v, want serve-stale", l.Decision)
	}
	code, body := l.Reply()
	if code != 200 || string(body) != "hello" || l.Age() != 90 {
		t.Errorf("Reply = %d %q age %d, want 200 hello age 90", code, body, l.Age())
	}
	l.Revalidate(req.Clone(req.Context()))
}
