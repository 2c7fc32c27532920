package httpcache_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/store/memory"
	"github.com/notmod/notmod/store/tier"
)

func reviewFill(t *testing.T, c *httpcache.Cache, url, body string) {
	r := httptest.NewRequest("GET", url, nil)
	l := c.Lookup(r)
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Cache-Control": {"max-age=600"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}
	out, err := l.Receive(resp)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(out.Body)
	out.Body.Close()
	l.Release()
}

func TestRegressionPooledKeyAliasedIntoTierFront(t *testing.T) {
	back, _ := memory.New(memory.Options{})
	front, _ := memory.New(memory.Options{})
	ts, err := tier.New(tier.Options{Front: front, Back: back})
	if err != nil {
		t.Fatal(err)
	}
	reviewFill(t, httpcache.Must(httpcache.Options{Store: back}), "http://example.com/aaaa", "body of /aaaa")
	c := httpcache.Must(httpcache.Options{Store: ts})
	l := c.Lookup(httptest.NewRequest("GET", "http://example.com/aaaa", nil)) // front miss, back hit: Front.Set(aliased key)
	t.Logf("/aaaa: %v", l.Decision)
	l.Release()
	l = c.Lookup(httptest.NewRequest("GET", "http://example.com/bbbb", nil)) // reuses the pooled key buffer
	t.Logf("/bbbb: %v", l.Decision)
	l.Release()
	front.Keys(context.Background(), "", func(k string) bool { t.Logf("front key %q", k); return true })
	// Grow the front's hash table so that entries are rehashed by their (now mutated) keys.
	for i := 0; i < 20000; i++ {
		front.Set(context.Background(), fmt.Sprintf("filler-%d", i), []byte("x"), 0)
	}
	l = c.Lookup(httptest.NewRequest("GET", "http://example.com/bbbb", nil))
	defer l.Release()
	if l.Decision == httpcache.Serve {
		_, body := l.Reply()
		t.Errorf("/bbbb (never stored) served from cache with content %q", body)
	}
}
