package framing

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptrace"
)

// Transport is an [http.RoundTripper] that sends each request once through
// the [http.Transport] given to [Wrap], which then reads the responses
// whose framing net/http refuses as RFC 9112 §6.3 frames them. It is safe
// for concurrent use.
type Transport struct {
	base *http.Transport
}

// Wrap sets up t so that [Transport.RoundTrip] reframes the response
// heads of its connections with [Reframe], and returns that Transport.
//
// It replaces t.DialContext and t.DialTLSContext with functions that call
// them (when set; a zero [net.Dialer] and a TLS client handshake otherwise)
// and wrap the connections they return. The TLS handshake it does itself
// uses t.TLSClientConfig (ServerName defaulting to the host dialed) and
// t.TLSHandshakeTimeout, as t would, and offers no ALPN protocol: the
// connections speak HTTP/1.1, which is what t speaks when DialContext is
// set. t.DialTLS, which is deprecated, must not be set.
//
// Wrap must be called before t is used, and t must afterwards be used only
// through the returned Transport: requests sent through t directly get
// net/http's framing, unchanged.
func Wrap(t *http.Transport) *Transport {
	dial := t.DialContext
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	dialTLS := t.DialTLSContext
	if dialTLS == nil {
		dialTLS = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return handshake(ctx, t, dial, network, addr)
		}
	}
	t.DialContext = wrapDial(dial)
	t.DialTLSContext = wrapDial(dialTLS)
	return &Transport{base: t}
}

type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

func wrapDial(dial dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return newConn(c), nil
	}
}

// handshake dials addr and makes it a TLS client connection, as
// http.Transport does when it has no TLS dialer of its own.
func handshake(ctx context.Context, t *http.Transport, dial dialFunc, network, addr string) (net.Conn, error) {
	raw, err := dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{}
	if t.TLSClientConfig != nil {
		cfg = t.TLSClientConfig.Clone()
	}
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg.ServerName = host
	}
	cfg.NextProtos = nil
	if t.TLSHandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.TLSHandshakeTimeout)
		defer cancel()
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return tc, nil
}

// RoundTrip sends req through the wrapped transport, once: the connection
// the transport takes for it is armed (through an [httptrace.ClientTrace]
// GotConn hook, added to any trace req's context already carries) so that
// the response heads to req are reframed. It does not modify req; the
// response's Request is a shallow copy of req with the added trace.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if c, ok := info.Conn.(*conn); ok {
			c.arm(req.Method) // "" is GET, as Reframe reads it
		}
	}}
	return t.base.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
}

// CloseIdleConnections closes the idle connections of the wrapped
// transport.
func (t *Transport) CloseIdleConnections() { t.base.CloseIdleConnections() }
