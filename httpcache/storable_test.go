package httpcache

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// storableOf decides about a response as receiveFull does.
func storableOf(c *Cache, req *http.Request, status int, h http.Header) NotStoredReason {
	reqCC, _ := requestDirectives(req.Header)
	cc := c.responseDirectives(h)
	date, _ := singleTime(h["Date"])
	f := lifetimeOf(cc, h, status, date, c.Now(), !c.opts.Private, c.opts.HeuristicFraction, c.opts.MaxHeuristic)
	if req.Method != http.MethodGet {
		return ReasonMethod
	}
	return c.storable(req.Header, status, h, reqCC, cc, f)
}

func TestStorable(t *testing.T) {
	lastModified := httpDate(t0.Add(-24 * time.Hour))
	type tc struct {
		opts   Options
		method string   // GET when empty
		req    []string // request fields
		status int      // 200 when zero
		resp   []string // response fields
		want   NotStoredReason
	}
	tests := map[string]tc{
		// §3: a fresh 200 to GET.
		"max-age": {resp: []string{"Cache-Control", "max-age=60"}, want: Storable},
		// §3: the request method must be understood; only GET is stored.
		"HEAD": {method: http.MethodHead, resp: []string{"Cache-Control", "max-age=60"}, want: ReasonMethod},
		"POST": {method: http.MethodPost, resp: []string{"Cache-Control", "max-age=60"}, want: ReasonMethod},
		// §3: the status code must be final.
		"100": {status: 100, resp: []string{"Cache-Control", "max-age=60"}, want: ReasonStatus},
		"103": {status: 103, resp: []string{"Cache-Control", "max-age=60"}, want: ReasonStatus},
		// §3, §3.4: 206 and 304 are not stored as complete responses.
		"206": {status: 206, resp: []string{"Cache-Control", "max-age=60", "Content-Range", "bytes 0-1/10"}, want: ReasonStatus},
		"304": {status: 304, resp: []string{"Cache-Control", "max-age=60", "Etag", `"a"`}, want: ReasonStatus},
		// §3, §5.2.2.3: must-understand needs an understood status.
		"must-understand with an unknown status": {
			status: 299, resp: []string{"Cache-Control", "max-age=60, must-understand, no-store"}, want: ReasonStatus,
		},
		// §5.2.2.3: must-understand with an understood status
		// overrides no-store.
		"must-understand overrides no-store": {
			resp: []string{"Cache-Control", "max-age=60, must-understand, no-store"}, want: Storable,
		},
		// §5.2.2.3: must-understand does not override the request's no-store.
		"must-understand and request no-store": {
			req:  []string{"Cache-Control", "no-store"},
			resp: []string{"Cache-Control", "max-age=60, must-understand, no-store"}, want: ReasonNoStore,
		},
		// §3: any final status with explicit freshness may be stored.
		"500 with max-age": {status: 500, resp: []string{"Cache-Control", "max-age=60"}, want: Storable},
		"500 with Expires": {status: 500, resp: []string{"Expires", httpDate(t0.Add(time.Minute))}, want: Storable},
		"302 with max-age": {status: 302, resp: []string{"Cache-Control", "max-age=60", "Location", "/b"}, want: Storable},
		// §3: neither explicit freshness nor a heuristically cacheable status.
		"500 without freshness": {status: 500, resp: []string{"Etag", `"a"`}, want: ReasonNotCacheable},
		"302 without freshness": {status: 302, resp: []string{"Location", "/b", "Etag", `"a"`}, want: ReasonNotCacheable},
		// §3: public makes any status cacheable.
		"public 302 with a validator": {status: 302, resp: []string{"Cache-Control", "public", "Location", "/b", "Etag", `"a"`}, want: Storable},
		// §3 ("a private response directive, if the cache is not
		// shared"): private makes a response cacheable in a private cache.
		"private 302 in a private cache": {
			opts: Options{Private: true}, status: 302,
			resp: []string{"Cache-Control", "private", "Location", "/b", "Etag", `"a"`}, want: Storable,
		},
		// §3: the private directive counts only in a private cache; a
		// shared cache has no reason to store this 302.
		"qualified private 302 in a shared cache": {
			status: 302, resp: []string{"Cache-Control", `private="X-User"`, "Location", "/b", "Etag", `"a"`}, want: ReasonNotCacheable,
		},
		// §5.2.1.5, §5.2.2.5: no-store in the request or the response.
		"request no-store":  {req: []string{"Cache-Control", "no-store"}, resp: []string{"Cache-Control", "max-age=60"}, want: ReasonNoStore},
		"response no-store": {resp: []string{"Cache-Control", "max-age=60, no-store"}, want: ReasonNoStore},
		// §5.2.2.7: private, in a shared cache.
		"private in a shared cache":  {resp: []string{"Cache-Control", "private, max-age=60"}, want: ReasonPrivate},
		"private in a private cache": {opts: Options{Private: true}, resp: []string{"Cache-Control", "private, max-age=60"}, want: Storable},
		// §5.2.2.7: a qualified private lets a shared cache store the rest.
		"qualified private in a shared cache": {resp: []string{"Cache-Control", `private="X-User", max-age=60`}, want: Storable},
		// §3.5: Authorization needs public, s-maxage or must-revalidate.
		"Authorization": {
			req: []string{"Authorization", "Basic YTpi"}, resp: []string{"Cache-Control", "max-age=60"}, want: ReasonAuthorization,
		},
		"Authorization with public": {
			req: []string{"Authorization", "Basic YTpi"}, resp: []string{"Cache-Control", "public, max-age=60"}, want: Storable,
		},
		"Authorization with s-maxage": {
			req: []string{"Authorization", "Basic YTpi"}, resp: []string{"Cache-Control", "s-maxage=60"}, want: Storable,
		},
		"Authorization with must-revalidate": {
			req: []string{"Authorization", "Basic YTpi"}, resp: []string{"Cache-Control", "max-age=60, must-revalidate"}, want: Storable,
		},
		"Authorization with proxy-revalidate": {
			req: []string{"Authorization", "Basic YTpi"}, resp: []string{"Cache-Control", "max-age=60, proxy-revalidate"}, want: ReasonAuthorization,
		},
		"Authorization in a private cache": {
			opts: Options{Private: true},
			req:  []string{"Authorization", "Basic YTpi"}, resp: []string{"Cache-Control", "max-age=60"}, want: Storable,
		},
		// A shared cache gives no user another's cookie.
		"Set-Cookie": {resp: []string{"Cache-Control", "max-age=60", "Set-Cookie", "a=b"}, want: ReasonSetCookie},
		"Set-Cookie stripped": {
			opts: Options{StripSetCookie: true}, resp: []string{"Cache-Control", "max-age=60", "Set-Cookie", "a=b"}, want: Storable,
		},
		"Set-Cookie in a private cache": {
			opts: Options{Private: true}, resp: []string{"Cache-Control", "max-age=60", "Set-Cookie", "a=b"}, want: Storable,
		},
		// §4.1: Vary: * never matches.
		"Vary star":          {resp: []string{"Cache-Control", "max-age=60", "Vary", "*"}, want: ReasonVaryStar},
		"Vary list with *":   {resp: []string{"Cache-Control", "max-age=60", "Vary", "Accept, *"}, want: ReasonVaryStar},
		"Vary line with *":   {resp: []string{"Cache-Control", "max-age=60", "Vary", "Accept", "Vary", "*"}, want: ReasonVaryStar},
		"Vary field name":    {resp: []string{"Cache-Control", "max-age=60", "Vary", "Accept-Encoding"}, want: Storable},
		"Vary quoted star":   {resp: []string{"Cache-Control", "max-age=60", "Vary", `"*"`}, want: Storable},
		"Vary star in a 500": {status: 500, resp: []string{"Cache-Control", "max-age=60", "Vary", "*"}, want: ReasonVaryStar},
		// §3: a heuristically cacheable status with nothing to go on:
		// no freshness and no validator.
		"nothing cacheable": {want: ReasonNotCacheable},
		"max-age=0 without validators": {
			resp: []string{"Cache-Control", "max-age=0"}, want: ReasonNotCacheable,
		},
		"invalid Expires without validators": {
			resp: []string{"Expires", "0"}, want: ReasonNotCacheable,
		},
		// §4.3.1: a validator makes it worth storing for revalidation.
		"no freshness with ETag":           {resp: []string{"Etag", `"a"`}, want: Storable},
		"max-age=0 with ETag":              {resp: []string{"Cache-Control", "max-age=0", "Etag", `"a"`}, want: Storable},
		"no-cache with Last-Modified":      {resp: []string{"Cache-Control", "no-cache", "Last-Modified", lastModified}, want: Storable},
		"heuristic from Last-Modified":     {resp: []string{"Last-Modified", lastModified}, want: Storable},
		"404 heuristic from Last-Modified": {status: 404, resp: []string{"Last-Modified", lastModified}, want: Storable},
		// RFC 5861: a stale extension lets a stale response be served.
		"max-age=0 with stale-while-revalidate": {
			resp: []string{"Cache-Control", "max-age=0, stale-while-revalidate=60"}, want: Storable,
		},
		"max-age=0 with stale-if-error": {
			resp: []string{"Cache-Control", "max-age=0, stale-if-error=60"}, want: Storable,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c, _ := newTestCache(t, tt.opts)
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			status := tt.status
			if status == 0 {
				status = http.StatusOK
			}
			h := header(tt.resp...)
			h.Set("Date", httpDate(t0))
			got := storableOf(c, newRequest(method, "/", tt.req...), status, h)
			if got != tt.want {
				t.Errorf("storable = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNotStoredReasonString(t *testing.T) {
	for r := Storable; r <= ReasonStoreError; r++ {
		s := r.String()
		if s == "" || s == "unknown" || !isSFToken(s) {
			t.Errorf("NotStoredReason(%d).String() = %q, want a token", r, s)
		}
	}
	if s := NotStoredReason(200).String(); s != "unknown" {
		t.Errorf("NotStoredReason(200).String() = %q, want unknown", s)
	}
}

// TestReceiveNotStored checks that a response that may not be stored is
// passed on with the reason in Cache-Status (RFC 9211 §2.8) and that
// nothing is stored.
func TestReceiveNotStored(t *testing.T) {
	tests := map[string]struct {
		req    []string
		status int
		resp   []string
		detail string
	}{
		// §5.2.2.5
		"no-store": {resp: []string{"Cache-Control", "no-store"}, detail: "no-store"},
		// §5.2.2.7
		"private": {resp: []string{"Cache-Control", "private, max-age=60"}, detail: "private"},
		// §3.5
		"authorization": {req: []string{"Authorization", "Bearer x"}, resp: []string{"Cache-Control", "max-age=60"}, detail: "authorization"},
		// §4.1
		"vary star": {resp: []string{"Cache-Control", "max-age=60", "Vary", "*"}, detail: "vary-star"},
		// §3
		"not cacheable": {status: 500, detail: "not-cacheable"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c, _ := newTestCache(t, Options{})
			status := tt.status
			if status == 0 {
				status = http.StatusOK
			}
			req := newRequest(http.MethodGet, "/a", tt.req...)
			got, body, cs := exchange(t, c, req, func(out *http.Request) *http.Response {
				return newResponse(out, status, header(tt.resp...), "hello")
			})
			if got.StatusCode != status || body != "hello" {
				t.Errorf("answer = %d %q, want %d %q", got.StatusCode, body, status, "hello")
			}
			if strings.Contains(cs, "; stored") || !strings.HasSuffix(cs, "; detail="+tt.detail) {
				t.Errorf("Cache-Status = %q, want not stored with detail=%s", cs, tt.detail)
			}
			l := c.Lookup(newRequest(http.MethodGet, "/a", tt.req...))
			defer l.Release()
			if l.Decision != Forward || l.Status.Fwd != FwdURIMiss {
				t.Errorf("next Lookup = %v fwd=%v, want forward uri-miss", l.Decision, l.Status.Fwd)
			}
		})
	}
}
