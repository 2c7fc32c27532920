//go:build unix

package redis

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// TestMain silences go-redis's own logger, which is package-wide and
// prints each failed dial; the fault tests fail thousands on purpose. The
// store's own logs go to each test's output.
func TestMain(m *testing.M) {
	goredis.SetLogger(discard{})
	os.Exit(m.Run())
}

type discard struct{}

func (discard) Printf(context.Context, string, ...any) {}

// serverStartTimeout bounds the wait for a redis-server to accept
// connections.
const serverStartTimeout = 20 * time.Second

// server is a redis-server process that a test started, listening on a
// unix socket only (no TCP port), with persistence off.
type server struct {
	tb   testing.TB
	bin  string
	dir  string
	sock string
	args []string // more arguments for redis-server
	// first are the arguments before the test's own: a configuration
	// file and "--sentinel" for a Sentinel.
	first []string
	// ready is the line (in lower case) that says the server accepts
	// connections.
	ready string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the output reader has finished
	log  []string      // the last lines the server printed
}

// startServer starts a redis-server for tb and stops it in tb.Cleanup;
// args are given to redis-server after the test's own. Without
// redis-server on the PATH the test is skipped, or fails when the
// environment variable CI is set, since CI must run these tests.
func startServer(tb testing.TB, args ...string) *server {
	tb.Helper()
	return launch(tb, "", args...)
}

// startSentinel starts a Sentinel that monitors the primary at
// masterAddr (host:port) under the name "mymaster", as startServer does.
func startSentinel(tb testing.TB, masterAddr string) *server {
	tb.Helper()
	host, port, err := net.SplitHostPort(masterAddr)
	if err != nil {
		tb.Fatal(err)
	}
	return launch(tb, "sentinel monitor mymaster "+host+" "+port+" 1\n")
}

// inCI reports whether the environment variable CI says the tests run in
// continuous integration: set, and not to "0" or "false".
func inCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "0" && v != "false"
}

// launch starts a redis-server, or a Sentinel when sentinelConf is not
// empty, for startServer and startSentinel.
func launch(tb testing.TB, sentinelConf string, args ...string) *server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if inCI() {
			tb.Fatalf("redis-server is not installed (%v), and CI is set: the redis store must be tested in CI; install it (apt-get install -y redis-server)", err)
		}
		tb.Skipf("redis-server is not installed (%v); skipping the tests that need a real Redis (set CI=true to make this a failure)", err)
	}
	// A short directory under the system's temp dir: a unix socket path
	// must fit in 108 bytes, which t.TempDir's long names may not.
	dir, err := os.MkdirTemp("", "notmod-redis-")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &server{
		tb: tb, bin: bin, dir: dir, sock: filepath.Join(dir, "redis.sock"), args: args,
		ready: "ready to accept connections",
	}
	if sentinelConf != "" {
		// A Sentinel rewrites its configuration file, and says it is
		// ready by naming the primary it monitors.
		conf := filepath.Join(dir, "sentinel.conf")
		if err := os.WriteFile(conf, []byte(sentinelConf), 0o600); err != nil {
			tb.Fatal(err)
		}
		srv.first = []string{conf, "--sentinel"}
		srv.ready = "+monitor master"
	}
	tb.Cleanup(func() {
		srv.stop()
		if tb.Failed() {
			srv.mu.Lock()
			tb.Logf("redis-server output:\n%s", strings.Join(srv.log, "\n"))
			srv.mu.Unlock()
		}
		_ = os.RemoveAll(dir)
	})
	srv.start()
	return srv
}

// start runs redis-server and waits until it accepts connections.
func (srv *server) start() {
	tb := srv.tb
	tb.Helper()
	args := append(slices.Clone(srv.first),
		"--port", "0",
		"--unixsocket", srv.sock,
		"--unixsocketperm", "700",
		"--save", "",
		"--appendonly", "no",
		"--dir", srv.dir,
		"--daemonize", "no",
	)
	args = append(args, srv.args...)
	cmd := exec.Command(srv.bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting redis-server: %v", err)
	}
	ready := make(chan struct{})
	done := make(chan struct{})
	srv.mu.Lock()
	srv.cmd, srv.done = cmd, done
	srv.mu.Unlock()
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		isReady := false
		for sc.Scan() {
			line := sc.Text()
			srv.mu.Lock()
			if srv.log = append(srv.log, line); len(srv.log) > 200 {
				srv.log = srv.log[len(srv.log)-200:]
			}
			srv.mu.Unlock()
			if !isReady && strings.Contains(strings.ToLower(line), srv.ready) {
				isReady = true
				close(ready)
			}
		}
	}()
	timer := time.NewTimer(serverStartTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-done:
		srv.mu.Lock()
		defer srv.mu.Unlock()
		tb.Fatalf("redis-server exited before accepting connections:\n%s", strings.Join(srv.log, "\n"))
	case <-timer.C:
		tb.Fatalf("redis-server did not accept connections within %v", serverStartTimeout)
	}
	// The log line comes once the socket listens; check it accepts.
	c, err := net.DialTimeout("unix", srv.sock, serverStartTimeout)
	if err != nil {
		tb.Fatalf("redis-server said it was ready, but: %v", err)
	}
	_ = c.Close()
}

// stop kills the server, if it runs, and waits for it to exit.
func (srv *server) stop() {
	srv.mu.Lock()
	cmd, done := srv.cmd, srv.done
	srv.cmd = nil
	srv.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // in case a test paused it
	_ = cmd.Process.Kill()
	<-done
	_ = cmd.Wait()
}

// restart kills the server and starts a new one on the same socket; the
// data is gone, as after a crash without persistence.
func (srv *server) restart() {
	srv.tb.Helper()
	srv.stop()
	srv.start()
}

// signal sends sig to the running server (SIGSTOP makes it hang without
// closing its connections, SIGCONT resumes it).
func (srv *server) signal(sig syscall.Signal) {
	srv.tb.Helper()
	srv.mu.Lock()
	cmd := srv.cmd
	srv.mu.Unlock()
	if cmd == nil {
		srv.tb.Fatal("signal: the server is not running")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		srv.tb.Fatal(err)
	}
	if sig == syscall.SIGSTOP {
		srv.tb.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGCONT) })
	}
}

// admin returns a plain go-redis client on the server, with generous
// timeouts, for the test's own inspection.
func (srv *server) admin(db int) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{
		Addr:        srv.sock,
		DB:          db,
		Protocol:    2,
		ReadTimeout: 10 * time.Second,
		MaxRetries:  -1,
	})
	srv.tb.Cleanup(func() { _ = c.Close() })
	return c
}

// newStore returns a Store on srv configured by o (whose Addrs it sets),
// closed in tb.Cleanup.
func newStore(tb testing.TB, srv *server, o Options) *Store {
	tb.Helper()
	o.Addrs = []string{srv.sock}
	if o.Logger == nil {
		o.Logger = testLogger(tb)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := New(ctx, o)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// testLogger returns a logger that writes to tb's output.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), nil))
}

// wait fails the test unless ch is closed or yields a value within d.
func wait[T any](tb testing.TB, ch <-chan T, d time.Duration, what string) T {
	tb.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		tb.Fatalf("%s: nothing within %v", what, d)
	}
	var zero T
	return zero
}
