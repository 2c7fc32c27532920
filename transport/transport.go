// Package transport is notmod's private client cache: an
// [net/http.RoundTripper] that keeps responses for one client, answers
// from them while they are fresh, and revalidates them with the origin
// when they are not, with the same RFC 9111 core (package httpcache) as
// the shared cache.
//
// As a private cache (RFC 9111 §1) it stores responses marked private and
// responses to requests with Authorization, and ignores s-maxage. Put one
// Transport under one user's client; never share one between users.
package transport

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/store"
	"github.com/notmod/notmod/store/memory"
)

// DefaultMaxBytes bounds the memory store a Transport makes when
// Options.Store is nil.
const DefaultMaxBytes = 64 << 20

// Options configures a [Transport]. The zero value is ready to use.
type Options struct {
	// Base carries the requests that go to the network. Nil means
	// http.DefaultTransport.
	Base http.RoundTripper

	// Store keeps the responses. Nil means a store/memory of
	// DefaultMaxBytes.
	Store store.Store

	// MaxObjectSize is the largest content stored; zero means
	// httpcache.DefaultMaxObjectSize.
	MaxObjectSize int64

	// Name identifies the cache in Cache-Status; empty means
	// "notmod-private".
	Name string

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
}

// Transport is a private HTTP cache as an http.RoundTripper. It is safe for
// concurrent use.
type Transport struct {
	base  http.RoundTripper
	cache *httpcache.Cache
}

// New returns a Transport.
func New(o Options) (*Transport, error) {
	if o.Base == nil {
		o.Base = http.DefaultTransport
	}
	if o.Store == nil {
		m, err := memory.New(memory.Options{MaxBytes: DefaultMaxBytes, Clock: o.Now})
		if err != nil {
			return nil, err
		}
		o.Store = m
	}
	if o.Name == "" {
		o.Name = "notmod-private"
	}
	c, err := httpcache.New(httpcache.Options{
		Store:          o.Store,
		Name:           o.Name,
		Private:        true,
		MaxObjectSize:  o.MaxObjectSize,
		Transport:      o.Base,
		TargetedFields: []string{}, // targeted fields are for shared caches (RFC 9213)
		Now:            o.Now,
	})
	if err != nil {
		return nil, err
	}
	return &Transport{base: o.Base, cache: c}, nil
}

// RoundTrip answers req from the cache when it can, and otherwise sends
// it, with the stored validators when it revalidates (RFC 9111 §4.3.1).
// Responses carry Cache-Status (RFC 9211) and, from the cache, Age.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	l := t.cache.Lookup(req)
	if l.Decision == httpcache.Wait {
		if err := l.Wait(req.Context()); err != nil {
			l.Release()
			return nil, err
		}
		l = l.Retry()
	}
	switch l.Decision {
	case httpcache.Serve:
		defer l.Release()
		return l.Response(), nil
	case httpcache.ServeStale:
		resp := l.Response()
		out := req.Clone(req.Context())
		out.Header.Del("Range")
		out.Header.Del("If-Range")
		l.Revalidate(out) // takes l over
		return resp, nil
	case httpcache.GatewayTimeout:
		defer l.Release()
		h := http.Header{"Cache-Status": {string(l.AppendCacheStatus(nil))}}
		return &http.Response{
			Status: "504 Gateway Timeout", StatusCode: http.StatusGatewayTimeout,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: h, Body: io.NopCloser(strings.NewReader("")), Request: req,
		}, nil
	}
	out := req.Clone(req.Context())
	l.Outbound(out.Header)
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		if stale, ok := l.Fail(err); ok {
			l.Release()
			return stale, nil
		}
		l.Release()
		return nil, err
	}
	r, err := l.Receive(resp)
	l.Release() // safe while a storing body is read: it finishes the release
	if err != nil {
		return nil, errors.Join(errors.New("transport: handling the response"), err)
	}
	r.Request = req
	return r, nil
}
