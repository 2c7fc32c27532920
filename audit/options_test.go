package audit

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/notmod/notmod/precond"
)

// TestNewErrors checks the options New refuses.
func TestNewErrors(t *testing.T) {
	tests := map[string]Options{
		"negative_repeat":   {Repeat: -1},
		"negative_interval": {Interval: -time.Second},
		"negative_content":  {MaxContent: -1},
		// RFC 9110 §9.2.1: an unsafe method needs consent.
		"unsafe_without_consent": {IfMatchMethod: http.MethodDelete},
		"invalid_method":         {IfMatchMethod: "GE T", AllowUnsafe: true},
		"probe_field":            {Header: http.Header{"if-none-match": {`"x"`}}},
	}
	for name, o := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := New(o); err == nil || !strings.HasPrefix(err.Error(), "audit: ") {
				t.Errorf("New: %v, want an audit: error", err)
			}
		})
	}
	if _, err := New(Options{IfMatchMethod: http.MethodPut, AllowUnsafe: true}); err != nil {
		t.Errorf("PUT with AllowUnsafe: %v", err)
	}
}

// writable is the correct origin accepting PUT and DELETE, with its
// current validators checked before (RFC 9110 §13.1.1, §13.1.4); puts
// counts the PUTs performed.
func writable(puts, deletes *atomic.Int64) http.Handler {
	content := []byte(testContent)
	mw, err := precond.NewMiddleware(precond.Options{Current: func(*http.Request) (precond.Validators, error) {
		return precond.Validators{ETag: precond.ContentETag(content), LastModified: testLM}, nil
	}})
	if err != nil {
		panic(err)
	}
	get := page(pageOptions{})
	return mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPut:
			puts.Add(1)
			w.WriteHeader(http.StatusNoContent)
		case http.MethodDelete:
			deletes.Add(1)
			w.WriteHeader(http.StatusNoContent)
		default:
			get.ServeHTTP(w, r)
		}
	}))
}

// TestUnsafeMethods sends the If-Match probes with PUT and DELETE, as
// the user may opt in to (RFC 9110 §13.1.1, §13.1.4).
func TestUnsafeMethods(t *testing.T) {
	t.Run("put", func(t *testing.T) {
		var puts, deletes atomic.Int64
		rep := audit(t, writable(&puts, &deletes), Options{IfMatchMethod: http.MethodPut, AllowUnsafe: true})
		for _, id := range []string{"if-match-current-ok", "if-match-failed-412", "ius-failed-412", "ius-current-ok"} {
			if f := rep.Find(id); f == nil || f.Verdict != OK {
				t.Errorf("no OK %s:%s", id, summary(rep))
			}
		}
		if ex := rep.Probe("if-match-current"); ex == nil || ex.Request.Method != http.MethodPut {
			t.Errorf("if-match-current not sent with PUT: %+v", ex)
		}
		// Only the two probes whose preconditions hold were performed.
		if n := puts.Load(); n != 2 {
			t.Errorf("%d PUTs performed, want 2", n)
		}
	})
	t.Run("delete", func(t *testing.T) {
		var puts, deletes atomic.Int64
		rep := audit(t, writable(&puts, &deletes), Options{IfMatchMethod: http.MethodDelete, AllowUnsafe: true})
		if rep.Probe("if-match-current") != nil || rep.Probe("ius-current") != nil {
			t.Error("a DELETE whose precondition holds was sent")
		}
		if rep.Find("precondition-success-not-sent") == nil {
			t.Error("no precondition-success-not-sent")
		}
		if f := rep.Find("if-match-failed-412"); f == nil {
			t.Errorf("no if-match-failed-412:%s", summary(rep))
		}
		if n := deletes.Load(); n != 0 {
			t.Errorf("%d DELETEs performed", n)
		}
	})
	t.Run("not_allowed", func(t *testing.T) {
		// RFC 9110 §13.2.1: a 405 says nothing about preconditions.
		getOnly := misbehave(origin(), func(r *http.Request, serve func(*http.Request) *reply) *reply {
			if r.Method == http.MethodPost {
				return &reply{status: http.StatusMethodNotAllowed, header: http.Header{"Allow": {"GET, HEAD"}}}
			}
			return serve(r)
		})
		rep := audit(t, getOnly, Options{IfMatchMethod: http.MethodPost, AllowUnsafe: true})
		if rep.Find("precondition-not-evaluated") == nil {
			t.Errorf("no precondition-not-evaluated; have %v", ids(rep, Must, Should, Info))
		}
	})
}

// TestExtraHeader checks that Options.Header reaches every probe and
// replaces the default Accept-Encoding.
func TestExtraHeader(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	h := misbehave(origin(), func(r *http.Request, serve func(*http.Request) *reply) *reply {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization")+"|"+r.Header.Get("Accept-Encoding"))
		mu.Unlock()
		return serve(r)
	})
	rep := audit(t, h, Options{Header: http.Header{"authorization": {"Bearer t"}, "Accept-Encoding": {"br"}}})
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		if s != "Bearer t|br" && s != "Bearer t|gzip" {
			t.Errorf("request fields %q", s)
		}
	}
	// RFC 9111 §3.5: with Authorization, a shared cache needs permission.
	if rep.Freshness.Shared.Source != SourceAuthorization {
		t.Errorf("shared freshness %+v, want authorization", rep.Freshness.Shared)
	}
}

// TestCheckAll audits several URLs at most two at a time, and reports
// them in order, an invalid and an unreachable one included.
func TestCheckAll(t *testing.T) {
	var inFlight, peak atomic.Int64
	h := misbehave(origin(), func(r *http.Request, serve func(*http.Request) *reply) *reply {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		return serve(r)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	dead := httptest.NewServer(origin())
	deadURL := dead.URL + "/"
	dead.Close()
	urls := []string{srv.URL + "/a", "ftp://example.com/", srv.URL + "/b", deadURL, srv.URL + "/c"}
	a, err := New(Options{Client: srv.Client(), Now: func() time.Time { return testDate }})
	if err != nil {
		t.Fatal(err)
	}
	var done []int
	reps := a.CheckAll(context.Background(), urls, 2, func(i int, r *Report) {
		done = append(done, i)
		if r.URL != urls[i] {
			t.Errorf("done(%d) with the report of %s", i, r.URL)
		}
	})
	slices.Sort(done)
	if !slices.Equal(done, []int{0, 1, 2, 3, 4}) {
		t.Errorf("done called for %v", done)
	}
	for i, r := range reps {
		if r.URL != urls[i] {
			t.Errorf("report %d is for %s", i, r.URL)
		}
	}
	if reps[1].Error == "" || reps[3].Error == "" {
		t.Errorf("invalid and unreachable URLs got no error: %q, %q", reps[1].Error, reps[3].Error)
	}
	if !reps[1].Failed() || !reps[3].Failed() || reps[0].Failed() {
		t.Error("Failed() does not follow errors")
	}
	if p := peak.Load(); p > 2 {
		t.Errorf("%d requests at once, want at most 2", p)
	}
}

// TestRedirect checks that a redirect the client does not follow is
// reported and not probed (RFC 9110 §13.2.1).
func TestRedirect(t *testing.T) {
	h := http.RedirectHandler("/elsewhere", http.StatusMovedPermanently)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	rep := audit(t, h, Options{Client: c})
	if f := rep.Find("redirect"); f == nil || !strings.Contains(f.Message, "/elsewhere") {
		t.Errorf("no redirect finding naming the target: %v", ids(rep, Info))
	}
	if rep.Probe("inm-exact") != nil {
		t.Error("conditional probes sent to a redirect")
	}
}

// TestCanceled checks that a canceled context ends the audit with its
// error.
func TestCanceled(t *testing.T) {
	srv := httptest.NewServer(origin())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a, _ := New(Options{Client: srv.Client()})
	if _, err := a.Check(ctx, srv.URL); !errors.Is(err, context.Canceled) {
		t.Errorf("Check: %v, want context.Canceled", err)
	}
}

// TestNoRawProbe checks that with a transport the audit cannot dial
// like, the content after a 304 is reported unchecked, not passed.
func TestNoRawProbe(t *testing.T) {
	srv := httptest.NewServer(origin())
	defer srv.Close()
	c := &http.Client{Transport: roundTripper{srv.Client().Transport}}
	rep := audit(t, origin(), Options{Client: c})
	if rep.Find("304-content-unchecked") == nil || rep.Find("304-no-content") != nil {
		t.Errorf("want 304-content-unchecked only; have %v", ids(rep, OK, Info))
	}
}

// roundTripper hides the *http.Transport it wraps.
type roundTripper struct{ rt http.RoundTripper }

func (r roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	return r.rt.RoundTrip(req)
}
