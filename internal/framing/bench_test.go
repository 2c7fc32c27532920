package framing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"testing"

	"github.com/notmod/notmod/internal/framing"
)

// BenchmarkRoundTrip compares a request through a plain http.Transport
// with one through Wrap, to a local origin, with and without a trace
// already in the request's context (httputil.ReverseProxy adds one), and
// over a new connection for each request.
func BenchmarkRoundTrip(b *testing.B) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "hello, benchmark")
	}))
	defer origin.Close()
	traced := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{Got1xxResponse: func(int, textproto.MIMEHeader) error { return nil }})
	for _, bc := range []struct {
		name string
		rt   func() http.RoundTripper
		ctx  context.Context
	}{
		{"plain", func() http.RoundTripper { return &http.Transport{} }, context.Background()},
		{"wrapped", func() http.RoundTripper { return framing.Wrap(&http.Transport{}) }, context.Background()},
		{"plain-traced", func() http.RoundTripper { return &http.Transport{} }, traced},
		{"wrapped-traced", func() http.RoundTripper { return framing.Wrap(&http.Transport{}) }, traced},
		{"plain-new-conn", func() http.RoundTripper { return &http.Transport{DisableKeepAlives: true} }, context.Background()},
		{"wrapped-new-conn", func() http.RoundTripper { return framing.Wrap(&http.Transport{DisableKeepAlives: true}) }, context.Background()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rt := bc.rt()
			defer rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
			req, _ := http.NewRequestWithContext(bc.ctx, "GET", origin.URL+"/", nil)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
