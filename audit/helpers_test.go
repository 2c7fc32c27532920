package audit

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/notmod/notmod/precond"
)

// The fixed times of the test origins and of the auditor's clock.
var (
	testDate = time.Date(2026, 11, 29, 16, 11, 39, 0, time.UTC)
	testLM   = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
)

const testContent = "<!doctype html><title>notmod</title><h1>hello</h1>\n"

// pageOptions describe the representation a test page serves.
type pageOptions struct {
	content      func() string    // nil: testContent
	date         func() time.Time // nil: testDate
	etag         string           // "": the content's strong tag; "-": none
	lastModified string           // "": testLM; "-": none
	cacheControl string           // "": "max-age=60"; "-": none
	vary         string           // "": "Accept-Encoding"; "-": none
	extra        http.Header      // more fields
}

// page serves one representation with fixed validators and Date; wrapped
// in precond.Middleware it is a correct origin.
func page(o pageOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		content := testContent
		if o.content != nil {
			content = o.content()
		}
		h := w.Header()
		date := testDate
		if o.date != nil {
			date = o.date()
		}
		h.Set("Date", date.Format(http.TimeFormat))
		h.Set("Content-Type", "text/html; charset=utf-8")
		set := func(k, v, def string) {
			switch v {
			case "-":
			case "":
				h.Set(k, def)
			default:
				h.Set(k, v)
			}
		}
		set("Etag", o.etag, string(precond.ContentETag([]byte(content))))
		set("Last-Modified", o.lastModified, testLM.Format(http.TimeFormat))
		set("Cache-Control", o.cacheControl, "max-age=60")
		set("Vary", o.vary, "Accept-Encoding")
		for k, v := range o.extra {
			h[k] = v
		}
		io.WriteString(w, content)
	})
}

// origin is the correct test origin: page behind precond.Middleware.
func origin() http.Handler { return precond.Middleware(page(pageOptions{})) }

// reply is a response a misbehaving origin is about to send.
type reply struct {
	status int
	header http.Header
	body   []byte
	// raw sends the reply over the hijacked connection exactly as it
	// is, Content-Length included, then closes it: the way to send a
	// 304 with content, which net/http refuses to.
	raw bool
}

// misbehave wraps next, a correct origin, in f, which may change the
// request before serve passes it to next and change the reply after.
func misbehave(next http.Handler, f func(r *http.Request, serve func(*http.Request) *reply) *reply) http.Handler {
	serve := func(r *http.Request) *reply {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		res := rec.Result()
		body, _ := io.ReadAll(res.Body)
		return &reply{status: res.StatusCode, header: res.Header, body: body}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := f(r, serve)
		if rep.raw {
			conn, bw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			defer conn.Close()
			writeRaw(bw.Writer, rep)
			bw.Flush()
			return
		}
		for k, v := range rep.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rep.status)
		w.Write(rep.body)
	})
}

// writeRaw writes rep as an HTTP/1.1 response, asking to close.
func writeRaw(w *bufio.Writer, rep *reply) {
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\n", rep.status, http.StatusText(rep.status))
	rep.header.Set("Connection", "close")
	rep.header.Write(w)
	w.WriteString("\r\n")
	w.Write(rep.body)
}

// without returns a copy of r without the named fields.
func without(r *http.Request, names ...string) *http.Request {
	r2 := r.Clone(r.Context())
	for _, n := range names {
		r2.Header.Del(n)
	}
	return r2
}

// with returns a copy of r with the field set to value.
func with(r *http.Request, name, value string) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Header.Set(name, value)
	return r2
}

// conditionals are the precondition fields and Range.
var conditionals = []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range"}

// audit starts h on a test server and audits its root with o; Client and
// Now are filled in when unset.
func audit(t *testing.T, h http.Handler, o Options) *Report {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if o.Client == nil {
		o.Client = srv.Client()
	}
	if o.Now == nil {
		o.Now = func() time.Time { return testDate }
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Check(context.Background(), srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Error != "" {
		t.Fatalf("report error: %s", rep.Error)
	}
	return rep
}

// ids lists the IDs of the findings with the given verdicts, sorted.
func ids(r *Report, verdicts ...Verdict) []string {
	var out []string
	for _, f := range r.Findings {
		for _, v := range verdicts {
			if f.Verdict == v {
				out = append(out, f.ID)
			}
		}
	}
	sort.Strings(out)
	return out
}

// summary shows the must and should findings of r, for failure messages.
func summary(r *Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		if f.Verdict == Must || f.Verdict == Should {
			fmt.Fprintf(&b, "\n  %s %s: %s", f.Verdict, f.ID, f.Message)
		}
	}
	if b.Len() == 0 {
		return " (none)"
	}
	return b.String()
}

// fakeClock is a clock that moves only when Sleep is called: the watch
// rounds run without waiting.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: testDate} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return ctx.Err()
}
