package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/notmod/notmod/fastproxy"
	"github.com/notmod/notmod/httpcache"
	"github.com/notmod/notmod/metrics"
	"github.com/notmod/notmod/precond"
	"github.com/notmod/notmod/proxy"
	"github.com/notmod/notmod/static"
	"github.com/notmod/notmod/store/memory"
)

// serveCommand is "notmod serve": the shared cache in front of an origin.
type serveCommand struct{}

// serveConfig holds the parsed flags of "notmod serve".
type serveConfig struct {
	origin          string
	demo            bool
	listen          string
	memory          byteSize
	store           string
	maxObject       byteSize
	streamThreshold byteSize
	name            string
	stripSetCookie  bool
	keepStale       time.Duration
	responseTimeout time.Duration
	originIdle      time.Duration
	preserveHost    bool
	admin           string
	adminToken      string
	tlsCert         string
	tlsKey          string
	front           string
	loops           int
	loopCopies      byteSize
	logLevel        string
}

func (serveCommand) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := serveConfig{memory: 256 << 20, maxObject: 16 << 20, streamThreshold: httpcache.DefaultStreamThreshold, loopCopies: fastproxy.DefaultLoopCopyBytes}
	fs := flag.NewFlagSet("notmod serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.origin, "origin", "", "origin server URL, such as http://127.0.0.1:8081 (required unless -demo)")
	fs.BoolVar(&cfg.demo, "demo", false, "serve a bundled demo origin (a small static site) behind the cache")
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.Var(&cfg.memory, "memory", "memory store size (the memory tier, with -store disk or redis), such as 512MiB or 2GiB")
	fs.StringVar(&cfg.store, "store", "memory", "where responses are kept: memory, disk:PATH (persistent), or a redis://, rediss:// or unix:// URL (shared by a fleet)")
	fs.Var(&cfg.maxObject, "max-object", "largest response stored; larger ones pass through unstored")
	fs.Var(&cfg.streamThreshold, "stream-threshold", "with -store disk, responses larger than this are written to disk as they pass and served from it a chunk at a time, never held whole in memory; 0 holds every response whole")
	fs.StringVar(&cfg.name, "name", httpcache.DefaultName, "cache name in Cache-Status")
	fs.BoolVar(&cfg.stripSetCookie, "strip-set-cookie", false, "store responses with Set-Cookie, without it (default: do not store them)")
	fs.DurationVar(&cfg.keepStale, "keep-stale", httpcache.DefaultKeepStale, "how long stale responses with validators are kept for revalidation")
	fs.DurationVar(&cfg.responseTimeout, "origin-timeout", proxy.DefaultResponseTimeout, "how long to wait for the origin's response header")
	fs.DurationVar(&cfg.originIdle, "origin-idle-timeout", proxy.DefaultIdleTimeout, "how long an idle connection to the origin is kept; keep it below the origin's keep-alive timeout")
	fs.BoolVar(&cfg.preserveHost, "preserve-host", false, "send the client's Host to the origin")
	fs.StringVar(&cfg.admin, "admin", "127.0.0.1:9091", "admin listener (purge, metrics, status); empty to disable")
	fs.StringVar(&cfg.adminToken, "admin-token", os.Getenv("NOTMOD_ADMIN_TOKEN"), "bearer token the admin listener requires (default $NOTMOD_ADMIN_TOKEN); required unless it listens on loopback")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "certificate file: serve HTTPS (with HTTP/2)")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "private key file for -tls-cert")
	fs.Var(&cfg.loopCopies, "loop-copies", "memory each event loop of the fast front end may keep, beside the store's, for copies of large content it sends with sendfile; 0 sends all content from the store's memory")
	fs.IntVar(&cfg.loops, "loops", 0, "event loops of the fast front end that answer cache hits (Linux): `N`; 0 is one per CPU, -1 none (fasthttp serves every connection)")
	fs.StringVar(&cfg.front, "front", "", "HTTP front end: fast (fasthttp; HTTP/1.1 and 1.0, the default without TLS) or net (net/http; also TLS, HTTP/2 and h2c; the default with -tls-cert)")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: notmod serve -origin URL [flags]\n       notmod serve -demo [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return fmt.Errorf("serve: -log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return errors.New("serve: -tls-cert and -tls-key go together")
	}
	switch cfg.front {
	case "":
		cfg.front = "fast"
		if cfg.tlsCert != "" {
			cfg.front = "net"
		}
	case "net":
	case "fast":
		if cfg.tlsCert != "" {
			return errors.New("serve: -front fast does not serve TLS: use -front net with -tls-cert")
		}
	default:
		return fmt.Errorf("serve: -front %q: want fast or net", cfg.front)
	}

	if cfg.demo {
		if cfg.origin != "" {
			return errors.New("serve: -demo and -origin exclude each other")
		}
		demo, stop, err := startDemoOrigin()
		if err != nil {
			return fmt.Errorf("serve: demo origin: %w", err)
		}
		defer stop()
		cfg.origin = demo
		log.Info("demo origin", "url", demo)
	}
	if cfg.origin == "" {
		fs.Usage()
		return errors.New("serve: -origin is required")
	}
	origin, err := url.Parse(cfg.origin)
	if err != nil || origin.Host == "" || (origin.Scheme != "http" && origin.Scheme != "https") {
		return fmt.Errorf("serve: -origin %q is not an http or https URL", cfg.origin)
	}

	if cfg.admin != "" && cfg.adminToken == "" && !loopback(cfg.admin) {
		return fmt.Errorf("serve: -admin %s is not a loopback address: set -admin-token", cfg.admin)
	}
	front, err := memory.New(memory.Options{MaxBytes: int64(cfg.memory), Logger: log})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	m := metrics.New(front)
	st, err := openStorage(ctx, cfg.store, front, log, func(err error) { m.SharedStoreUp(err == nil) })
	if err != nil {
		return fmt.Errorf("serve: -store: %w", err)
	}
	defer st.close()
	go st.run(ctx)
	streamThreshold := int64(cfg.streamThreshold)
	if streamThreshold == 0 {
		streamThreshold = -1 // httpcache: hold every response whole
	}
	cache, err := httpcache.New(httpcache.Options{
		Observe:         m.Observe,
		Store:           st.store,
		Lease:           st.lease,
		Name:            cfg.name,
		MaxObjectSize:   int64(cfg.maxObject),
		StreamThreshold: streamThreshold,
		KeepStale:       cfg.keepStale,
		StripSetCookie:  cfg.stripSetCookie,
		Logger:          log,
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	p, err := proxy.New(proxy.Options{
		Origin:          origin,
		Cache:           cache,
		ResponseTimeout: cfg.responseTimeout,
		IdleTimeout:     cfg.originIdle,
		PreserveHost:    cfg.preserveHost,
		Logger:          log,
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if cfg.admin != "" {
		aln, err := net.Listen("tcp", cfg.admin)
		if err != nil {
			ln.Close()
			return fmt.Errorf("serve: admin: %w", err)
		}
		admin := &http.Server{
			Handler: proxy.Admin(cache, proxy.AdminOptions{
				Token:   cfg.adminToken,
				Metrics: m.Handler(),
				Status: func() map[string]any {
					doc := st.status()
					doc["origin"] = origin.String()
					return doc
				},
			}),
			ReadHeaderTimeout: 10 * time.Second,
		}
		go func() { _ = admin.Serve(aln) }()
		defer admin.Close()
		log.Info("admin listener", "addr", "http://"+aln.Addr().String())
	}
	if cfg.front == "fast" {
		fast, err := fastproxy.New(fastproxy.Options{Proxy: p, MaxHeaderBytes: 64 << 10, Loops: cfg.loops, LoopCopyBytes: loopCopyBytes(cfg.loopCopies), Logger: log})
		if err != nil {
			ln.Close()
			return fmt.Errorf("serve: %w", err)
		}
		log.Info("notmod serve", "listen", "http://"+ln.Addr().String(), "front", "fast", "origin", origin.String(),
			"store", st.kind, "memory", cfg.memory.String(), "max_object", cfg.maxObject.String(),
			"stream_threshold", cfg.streamThreshold.String())
		return serveUntilDone(ctx, fast, ln, log)
	}
	srv := &http.Server{
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	scheme := "http"
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("serve: %w", err)
		}
		protocols.SetHTTP2(true)
		srv.TLSConfig = &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"h2", "http/1.1"}, // ALPN: the listener is wrapped here, not by ServeTLS
		}
		ln = tls.NewListener(ln, srv.TLSConfig)
		scheme = "https"
	} else {
		protocols.SetUnencryptedHTTP2(true) // h2c with prior knowledge
	}
	srv.Protocols = &protocols
	log.Info("notmod serve", "listen", scheme+"://"+ln.Addr().String(), "front", "net", "origin", origin.String(),
		"store", st.kind, "memory", cfg.memory.String(), "max_object", cfg.maxObject.String(),
		"stream_threshold", cfg.streamThreshold.String())
	return serveUntilDone(ctx, srv, ln, log)
}

// loopback reports whether addr (host:port) listens on a loopback address
// only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// startDemoOrigin serves a small generated site with "notmod static" on a
// loopback port: pages with validators and Cache-Control, to show hits and
// 304s in the first minute.
func startDemoOrigin() (url string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "notmod-demo-")
	if err != nil {
		return "", nil, err
	}
	files := map[string]string{
		"index.html": "<!doctype html><title>notmod demo</title><h1>notmod demo origin</h1>\n<p>Fetch me twice through notmod serve: the second time is a hit.</p>\n",
		"style.css":  "body { font-family: sans-serif; }\n",
		"data.json":  `{"validators": ["ETag", "Last-Modified"], "answer": 304}` + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
	}
	h, err := static.New(dir, static.Options{CacheControl: "public, max-age=60"})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.Close()
		os.RemoveAll(dir)
		return "", nil, err
	}
	srv := &http.Server{Handler: precond.Middleware(h), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		srv.Close()
		h.Close()
		os.RemoveAll(dir)
	}, nil
}

// loopCopyBytes is -loop-copies as fastproxy takes it: 0 is none.
func loopCopyBytes(b byteSize) int64 {
	if b == 0 {
		return -1
	}
	return int64(b)
}
