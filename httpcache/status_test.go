package httpcache

import (
	"testing"
	"time"

	"github.com/dunglas/httpsfv"
)

func TestStatusAppendTo(t *testing.T) {
	tests := map[string]struct {
		s    Status
		name string // "notmod" when empty
		want string
	}{
		// RFC 9211 §2: a member with no parameters.
		"bare": {Status{}, "", "notmod"},
		// RFC 9211 §2.1, §2.4.
		"hit": {Status{Hit: true, TTL: 50 * time.Second, HasTTL: true}, "", "notmod; hit; ttl=50"},
		// RFC 9211 §2.2, §2.3, §2.5: forwarded, the origin's status, stored.
		"miss stored": {
			Status{Fwd: FwdURIMiss, FwdStatus: 200, Stored: true, TTL: time.Minute, HasTTL: true}, "",
			"notmod; fwd=uri-miss; fwd-status=200; stored; ttl=60",
		},
		// RFC 9211 §2.2: each fwd reason is its token.
		"fwd bypass":    {Status{Fwd: FwdBypass}, "", "notmod; fwd=bypass"},
		"fwd method":    {Status{Fwd: FwdMethod, FwdStatus: 201}, "", "notmod; fwd=method; fwd-status=201"},
		"fwd vary-miss": {Status{Fwd: FwdVaryMiss}, "", "notmod; fwd=vary-miss"},
		"fwd miss":      {Status{Fwd: FwdMiss}, "", "notmod; fwd=miss"},
		"fwd request":   {Status{Fwd: FwdRequest, FwdStatus: 304}, "", "notmod; fwd=request; fwd-status=304"},
		"fwd stale":     {Status{Fwd: FwdStale, FwdStatus: 304, Stored: true, TTL: time.Hour, HasTTL: true}, "", "notmod; fwd=stale; fwd-status=304; stored; ttl=3600"},
		// RFC 9211 §2.3: fwd-status is only meaningful with fwd.
		"fwd-status without fwd": {Status{Hit: true, FwdStatus: 200}, "", "notmod; hit"},
		// RFC 9211 §2.6.
		"collapsed": {Status{Fwd: FwdURIMiss, FwdStatus: 200, Collapsed: true}, "", "notmod; fwd=uri-miss; fwd-status=200; collapsed"},
		// RFC 9211 §2.4: ttl may be negative, to indicate staleness.
		"negative ttl": {Status{Hit: true, TTL: -10 * time.Second, HasTTL: true}, "", "notmod; hit; ttl=-10"},
		"zero ttl":     {Status{Hit: true, HasTTL: true}, "", "notmod; hit; ttl=0"},
		"ttl in whole seconds": {
			Status{Hit: true, TTL: 59*time.Second + 999*time.Millisecond, HasTTL: true}, "", "notmod; hit; ttl=59",
		},
		"ttl without HasTTL": {Status{Hit: true, TTL: time.Minute}, "", "notmod; hit"},
		// RFC 9211 §2.8: detail is a Token when it can be.
		"detail token": {Status{Fwd: FwdURIMiss, FwdStatus: 200, Detail: "no-store"}, "", "notmod; fwd=uri-miss; fwd-status=200; detail=no-store"},
		"detail token with slash and colon": {
			Status{Hit: true, Detail: "a/b:c"}, "", "notmod; hit; detail=a/b:c",
		},
		// RFC 9211 §2.8, RFC 8941 §3.3.3: otherwise a String.
		"detail string": {Status{Hit: true, Detail: "origin unreachable"}, "", `notmod; hit; detail="origin unreachable"`},
		"detail digit first": {
			Status{Hit: true, Detail: "5xx"}, "", `notmod; hit; detail="5xx"`,
		},
		"detail escapes": {Status{Hit: true, Detail: `a"b\c`}, "", `notmod; hit; detail="a\"b\\c"`},
		"detail drops what a String cannot hold": {
			Status{Hit: true, Detail: "a\tb\nc\x7fdé"}, "", `notmod; hit; detail="abcd"`,
		},
		// RFC 9211 §2: the cache is identified by a Token or a String.
		"token name":  {Status{Hit: true}, "cache-3.example.com", "cache-3.example.com; hit"},
		"string name": {Status{Hit: true}, "Example CDN", `"Example CDN"; hit`},
		"star name":   {Status{Hit: true}, "*edge", "*edge; hit"},
		// Every parameter, in order.
		"all": {
			Status{Hit: true, Fwd: FwdStale, FwdStatus: 500, Stored: true, Collapsed: true, TTL: -3 * time.Second, HasTTL: true, Detail: "stale-if-error"}, "",
			"notmod; hit; fwd=stale; fwd-status=500; stored; collapsed; ttl=-3; detail=stale-if-error",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			n := tt.name
			if n == "" {
				n = "notmod"
			}
			got := string(tt.s.AppendTo(nil, n))
			if got != tt.want {
				t.Errorf("AppendTo = %s, want %s", got, tt.want)
			}
			if _, err := httpsfv.UnmarshalList([]string{got}); err != nil {
				t.Errorf("%s is not an RFC 8941 List: %v", got, err)
			}
			if n == "notmod" {
				if s := tt.s.String(); s != tt.want {
					t.Errorf("String = %s, want %s", s, tt.want)
				}
			}
			// AppendTo appends.
			if got := string(tt.s.AppendTo([]byte("x, "), n)); got != "x, "+tt.want {
				t.Errorf("AppendTo(x, ) = %s", got)
			}
		})
	}
}

func TestFwdString(t *testing.T) {
	want := map[Fwd]string{
		FwdNone: "", FwdBypass: "bypass", FwdMethod: "method", FwdURIMiss: "uri-miss",
		FwdVaryMiss: "vary-miss", FwdMiss: "miss", FwdRequest: "request", FwdStale: "stale",
		Fwd(200): "miss", // RFC 9211 §2.2: the least specific reason
	}
	for f, w := range want {
		if got := f.String(); got != w {
			t.Errorf("Fwd(%d).String() = %q, want %q", f, got, w)
		}
	}
}

func TestDecisionString(t *testing.T) {
	want := map[Decision]string{
		Serve: "serve", ServeStale: "serve-stale", Forward: "forward", Wait: "wait",
		GatewayTimeout: "gateway-timeout", Decision(99): "unknown",
	}
	for d, w := range want {
		if got := d.String(); got != w {
			t.Errorf("Decision(%d).String() = %q, want %q", d, got, w)
		}
	}
}

func TestIsSFToken(t *testing.T) {
	tests := map[string]bool{
		// RFC 8941 §3.3.4: ( ALPHA / "*" ) *( tchar / ":" / "/" )
		"notmod": true, "a": true, "*": true, "*a": true, "a/b:c": true, "A-1_2.3~!#$%&'^`|+*": true,
		"": false, "1a": false, "-a": false, "a b": false, `a"`: false, "a,b": false, "a;b": false,
		"a=b": false, "é": false, "a\x00": false,
	}
	for s, want := range tests {
		if got := isSFToken(s); got != want {
			t.Errorf("isSFToken(%q) = %v, want %v", s, got, want)
		}
	}
}
