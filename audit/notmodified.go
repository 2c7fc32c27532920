// RFC 9110 §15.4.5: what every 304 the probes got carries, and that it
// carries no content.

package audit

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/notmod/notmod/precond"
)

// keptBy304 are the fields a 304 must carry when the 200 would have
// (RFC 9110 §15.4.5), with the finding ID for each one missing.
var keptBy304 = []struct{ field, id string }{
	{"Cache-Control", "304-missing-cache-control"},
	{"Content-Location", "304-missing-content-location"},
	{"Date", "304-missing-date"},
	{"Etag", "304-missing-etag"},
	{"Expires", "304-missing-expires"},
	{"Vary", "304-missing-vary"},
}

// notModified looks for content after the first 304's header section
// with a probe of its own, then judges every 304 the probes got.
func (r *run) notModified(get, again *Exchange) {
	var got []*Exchange
	for _, ex := range r.rep.Probes {
		if ex.status() == http.StatusNotModified {
			got = append(got, ex)
		}
	}
	if len(got) == 0 {
		return
	}
	raw, err := r.raw("raw-304", got[0])
	if err != nil {
		r.f.add("304-content-unchecked", Info, "RFC 9110 §15.4.5",
			fmt.Sprintf("Whether a 304 carries content was not checked: %v.", err), got[0].Name)
	}
	checkNotModified(&r.f, get, again, got, raw)
}

// checkNotModified judges the 304s in got against the 200 of get, with
// again telling which fields of the 200 are stable; raw is the probe that
// read past a 304's header section, or nil (RFC 9110 §15.4.5, §8.6).
func checkNotModified(f *findings, get, again *Exchange, got []*Exchange, raw *Exchange) {
	gh := get.header()
	stable := func(k string) bool {
		return again.Response == nil || strings.Join(again.header()[k], ", ") == strings.Join(gh[k], ", ")
	}
	length := gh.Get("Content-Length")
	if length == "" && !get.truncated {
		length = strconv.Itoa(len(get.content))
	}
	bad := 0
	var names []string
	for _, ex := range got {
		names = append(names, ex.Name)
		h := ex.header()
		if ex.chunked {
			bad++
			f.add("304-has-content", Must, "RFC 9110 §15.4.5",
				"A 304 came with chunked framing, so content follows its header section; a 304 ends with its header section.", ex.Name)
		}
		if cl := h.Get("Content-Length"); cl != "" && cl != "0" && cl != length {
			bad++
			f.add("304-content-length", Must, "RFC 9110 §8.6, §15.4.5",
				fmt.Sprintf("A 304 has Content-Length %s where the 200 has %s; a 304 may only repeat the 200's length.", cl, orAbsent(length)), ex.Name)
		}
		for _, k := range keptBy304 {
			if len(gh[k.field]) > 0 && len(h[k.field]) == 0 {
				bad++
				f.add(k.id, Must, "RFC 9110 §15.4.5",
					fmt.Sprintf("A 304 lacks the %s the 200 carries; a 304 must carry it, or caches update the stored response without it.", display(k.field)), ex.Name)
			}
		}
		if g, n := gh.Get("Etag"), h.Get("Etag"); g != "" && n != "" && g != n && stable("Etag") {
			bad++
			f.add("304-etag-differs", Must, "RFC 9110 §15.4.5; RFC 9111 §4.3.4",
				fmt.Sprintf("A 304 has ETag %s where the 200 has %s; caches cannot tell which stored response it validates.", n, g), ex.Name)
		}
		for _, k := range []string{"Cache-Control", "Vary", "Content-Location"} {
			g, n := strings.Join(gh[k], ", "), strings.Join(h[k], ", ")
			if g != "" && n != "" && g != n && stable(k) {
				bad++
				f.add("304-field-differs", Should, "RFC 9110 §15.4.5; RFC 9111 §3.2",
					fmt.Sprintf("A 304 has %s %q where the 200 has %q; caches replace the stored field with the 304's.", k, n, g), ex.Name)
			}
		}
		hasETag := len(h["Etag"]) > 0
		for _, k := range sortedKeys(h) {
			switch {
			case k == "Last-Modified" && hasETag:
				f.add("304-last-modified-with-etag", Info, "RFC 9110 §15.4.5",
					"A 304 carries Last-Modified next to ETag; harmless, though only useful without an ETag.", ex.Name)
			case k == "Content-Length" || k == "Transfer-Encoding" || k == "Accept-Ranges" || k == "Last-Modified":
			case precond.OmitFrom304(k, hasETag):
				bad++
				f.add("304-representation-metadata", Should, "RFC 9110 §15.4.5",
					fmt.Sprintf("A 304 carries %s, metadata of content it does not have; a 304 should carry only what guides cache updates.", k), ex.Name)
			}
		}
	}
	if raw != nil && raw.Response != nil {
		switch {
		case raw.status() != http.StatusNotModified:
			f.add("304-content-unchecked", Info, "RFC 9110 §15.4.5",
				fmt.Sprintf("Whether a 304 carries content was not checked: the repeated request got %d.", raw.status()), raw.Name)
		case raw.Response.ContentBytes > 0:
			bad++
			f.add("304-has-content", Must, "RFC 9110 §15.4.5",
				fmt.Sprintf("A 304 was followed by %d bytes of content; a 304 ends with its header section, and clients read those bytes as the start of the next response.", raw.Response.ContentBytes), raw.Name)
		case !f.has("304-has-content"):
			f.add("304-no-content", OK, "RFC 9110 §15.4.5",
				"A 304 ended with its header section: no content.", raw.Name)
		}
	} else if raw != nil {
		f.add("304-content-unchecked", Info, "RFC 9110 §15.4.5",
			fmt.Sprintf("Whether a 304 carries content was not checked: %s.", raw.Error), raw.Name)
	}
	if bad == 0 {
		var kept []string
		for _, k := range keptBy304 {
			if len(gh[k.field]) > 0 {
				kept = append(kept, display(k.field))
			}
		}
		what := "none of the fields a 304 repeats"
		if len(kept) > 0 {
			what = strings.Join(kept, ", ")
		}
		same := " and"
		if len(gh["Etag"]) > 0 {
			same = " with the same ETag and"
		}
		f.add("304-fields-kept", OK, "RFC 9110 §15.4.5",
			fmt.Sprintf("Every 304 (%d) carried what the 200 has of the fields a 304 must repeat (%s),%s no metadata of absent content.", len(got), what, same), names...)
	}
}

// errRawUnavailable says why content after a 304 cannot be looked for.
var errRawUnavailable = errors.New("the client's transport is not an *http.Transport")

// rawLinger is how long the raw probe waits for bytes after a response's
// header section once the server should have closed the connection.
const rawLinger = time.Second

// raw sends like's request again over a connection of its own, asking the
// server to close it, and reads everything after the response's header
// section: net/http's client discards content after a 304, and leaves it
// to be misread as the next response. It records the exchange as name.
// It returns an error, and no exchange, when it cannot dial as the
// client's transport would.
func (r *run) raw(name string, like *Exchange) (*Exchange, error) {
	t, ok := r.a.client.Transport.(*http.Transport)
	if r.a.client.Transport == nil {
		t, ok = http.DefaultTransport.(*http.Transport)
	}
	if !ok {
		return nil, errRawUnavailable
	}
	req, err := http.NewRequestWithContext(r.ctx, like.Request.Method, r.url.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header = like.Request.Header.Clone()
	req.Close = true
	if t.Proxy != nil {
		if p, err := t.Proxy(req); err != nil || p != nil {
			return nil, errors.New("the client goes through a proxy")
		}
	}
	timeout := r.a.client.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()

	ex := &Exchange{Name: name, at: r.a.opts.Now(),
		Request: RequestHead{Method: req.Method, Target: req.URL.RequestURI(), Header: req.Header.Clone()}}
	ex.Request.Header.Set("Connection", "close")
	r.rep.Probes = append(r.rep.Probes, ex)
	conn, err := dialLike(ctx, t, r.url.Scheme, hostPort(r.url))
	if err != nil {
		ex.Error = err.Error()
		return ex, nil
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	if err := req.Write(conn); err != nil {
		ex.Error = err.Error()
		return ex, nil
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		ex.Error = err.Error()
		return ex, nil
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, r.a.opts.MaxContent))
	resp.Body.Close()
	if linger := time.Now().Add(rawLinger); linger.Before(deadline) {
		conn.SetReadDeadline(linger)
	}
	ex.content, ex.truncated, _ = readContent(br, r.a.opts.MaxContent)
	ex.Response = &ResponseHead{Proto: resp.Proto, Status: resp.StatusCode, Header: resp.Header,
		ContentBytes: int64(len(ex.content))}
	return ex, nil
}

// dialLike dials addr as t would for scheme, over HTTP/1.1.
func dialLike(ctx context.Context, t *http.Transport, scheme, addr string) (net.Conn, error) {
	if scheme == "https" && t.DialTLSContext != nil {
		return t.DialTLSContext(ctx, "tcp", addr)
	}
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	conn, err := dial(ctx, "tcp", addr)
	if err != nil || scheme != "https" {
		return conn, err
	}
	cfg := &tls.Config{}
	if t.TLSClientConfig != nil {
		cfg = t.TLSClientConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// hostPort returns the URL's host with its port, the scheme's default
// when absent.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// display returns a canonical field name as the RFCs spell it.
func display(name string) string {
	if name == "Etag" {
		return "ETag"
	}
	return name
}

// sortedKeys returns the keys of h in order.
func sortedKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
