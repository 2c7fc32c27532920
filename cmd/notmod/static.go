package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/notmod/notmod/precond"
	"github.com/notmod/notmod/static"
)

// staticCommand is "notmod static": a directory served with correct
// validators, through the precond middleware.
type staticCommand struct{}

func (staticCommand) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("notmod static", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8081", "address to listen on")
	cacheControl := fs.String("cache-control", "no-cache", "Cache-Control sent with every file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: notmod static [flags] DIR")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("static: want exactly one directory")
	}
	h, err := static.New(fs.Arg(0), static.Options{CacheControl: *cacheControl})
	if err != nil {
		return fmt.Errorf("static: %w", err)
	}
	defer h.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("static: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	log.Info("serving directory", "dir", fs.Arg(0), "addr", "http://"+ln.Addr().String())
	return serveUntilDone(ctx, &http.Server{Handler: precond.Middleware(h), ReadHeaderTimeout: 10 * time.Second}, ln, log)
}

// server is what serveUntilDone runs: an *http.Server or a
// *fastproxy.Server.
type server interface {
	Serve(ln net.Listener) error
	Shutdown(ctx context.Context) error
}

// serveUntilDone serves on ln until ctx is done, then shuts down
// gracefully: no new connections, idle ones closed, open requests given
// up to ten seconds.
func serveUntilDone(ctx context.Context, srv server, ln net.Listener, log *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
