//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// helperEnv names the environment variable that turns the test binary into
// "notmod serve" (or any subcommand): it holds the arguments of Run as a
// JSON array. This is how the tests below run real, separate processes
// that they can stop, restart and kill -9.
const helperEnv = "NOTMOD_TEST_RUN_ARGS"

// TestMain runs the test binary as a notmod process when helperEnv is set,
// and runs the tests otherwise.
func TestMain(m *testing.M) {
	if raw, ok := os.LookupEnv(helperEnv); ok {
		os.Exit(runHelper(raw))
	}
	os.Exit(m.Run())
}

// runHelper is the main of a helper process: Run with the arguments in raw
// until SIGINT, SIGTERM or the end of standard input (the test closes it
// to stop the process, and it closes by itself when the test binary dies,
// so no helper outlives its test).
func runHelper(raw string) int {
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	if err := Run(ctx, args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "notmod:", err)
		return 1
	}
	return 0
}

// processStartTimeout bounds the wait for a process to say it listens.
const processStartTimeout = 20 * time.Second

// processStopTimeout bounds the wait for a process to exit once asked to.
const processStopTimeout = 15 * time.Second

// tailLog keeps the last lines a process printed, for failure messages and
// for the addresses it logs.
type tailLog struct {
	mu    sync.Mutex
	lines []string
	seen  int // lines ever written
}

func (l *tailLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen++
	if l.lines = append(l.lines, line); len(l.lines) > 400 {
		l.lines = l.lines[len(l.lines)-400:]
	}
}

func (l *tailLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// node is a "notmod serve" process started by a test.
type node struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	logs  *tailLog
	done  chan struct{} // closed once the process has exited
	err   error         // the process's exit, set before done closes

	base  string // http://127.0.0.1:PORT of the cache
	admin string // http://127.0.0.1:PORT of the admin listener
}

var (
	listenLine = regexp.MustCompile(`msg="notmod serve" listen=(http://127\.0\.0\.1:\d+)`)
	adminLine  = regexp.MustCompile(`msg="admin listener" addr=(http://127\.0\.0\.1:\d+)`)
)

// startNode runs "notmod serve" with args in a new process, on kernel-chosen
// loopback ports for the cache and its admin listener, and waits until it
// listens. The process is killed, if still running, when the test ends.
func startNode(t *testing.T, name string, args ...string) *node {
	t.Helper()
	all := append([]string{"serve", "-listen", "127.0.0.1:0", "-admin", "127.0.0.1:0"}, frontArgs(args)...)
	raw, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+string(raw))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	n := &node{t: t, name: name, cmd: cmd, stdin: stdin, logs: &tailLog{}, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var base, admin string
		for sc.Scan() {
			line := sc.Text()
			n.logs.add(line)
			if base == "" || admin == "" {
				if m := listenLine.FindStringSubmatch(line); m != nil {
					base = m[1]
				}
				if m := adminLine.FindStringSubmatch(line); m != nil {
					admin = m[1]
				}
				if base != "" && admin != "" {
					n.base, n.admin = base, admin
					close(ready)
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		n.err = cmd.Wait()
		close(n.done)
	}()
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			t.Logf("log of %s:\n%s", n.name, n.logs.String())
		}
	})
	timer := time.NewTimer(processStartTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-n.done:
		t.Fatalf("%s exited before listening (%v):\n%s", name, n.err, n.logs.String())
	case <-timer.C:
		t.Fatalf("%s did not listen within %v:\n%s", name, processStartTimeout, n.logs.String())
	}
	return n
}

// stop asks the process to shut down gracefully and fails the test unless
// it exits with status 0 in time.
func (n *node) stop() {
	n.t.Helper()
	_ = n.stdin.Close()
	timer := time.NewTimer(processStopTimeout)
	defer timer.Stop()
	select {
	case <-n.done:
	case <-timer.C:
		n.t.Fatalf("%s did not stop within %v", n.name, processStopTimeout)
	}
	if n.err != nil {
		n.t.Fatalf("%s exited with %v:\n%s", n.name, n.err, n.logs.String())
	}
}

// kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (n *node) kill() {
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Kill()
	<-n.done
}

// statusDoc returns the JSON of the node's GET /status.
func (n *node) statusDoc() map[string]any {
	n.t.Helper()
	resp, err := testClient.Get(n.admin + "/status")
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		n.t.Fatalf("%s /status: %v", n.name, err)
	}
	return doc
}

// metricsText returns the node's GET /metrics.
func (n *node) metricsText() (string, error) {
	resp, err := testClient.Get(n.admin + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// purge posts form to the node's admin /purge and returns the time its
// 200 arrived; any other answer fails the test.
func (n *node) purge(form url.Values) time.Time {
	n.t.Helper()
	resp, err := testClient.PostForm(n.admin+"/purge", form)
	if err != nil {
		n.t.Fatal(err)
	}
	at := time.Now()
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		n.t.Fatalf("%s purge %v: %d %s", n.name, form, resp.StatusCode, b)
	}
	return at
}

// testClient is the HTTP client of the process tests: its own connection
// pool, with room for the concurrent requests of the fleet tests, and a
// bound on every request.
var testClient = &http.Client{
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
	Timeout:   20 * time.Second,
}

// reply is what a test keeps of a response.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// cacheStatus returns the response's Cache-Status field.
func (r reply) cacheStatus() string { return r.header.Get("Cache-Status") }

// hit reports whether the response came from the cache (RFC 9211 §2.1).
func (r reply) hit() bool { return strings.HasPrefix(r.cacheStatus(), "notmod; hit") }

// fetch sends GET rawURL with the Host field host (when not empty) and the
// other header fields given as name, value pairs, and reads the whole body.
// It does not touch the test, so goroutines may call it.
func fetch(rawURL, host string, fields ...string) (reply, error) {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return reply{}, err
	}
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(fields); i += 2 {
		req.Header.Set(fields[i], fields[i+1])
	}
	resp, err := testClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// mustFetch is fetch for the test's own goroutine: a transport error fails
// the test.
func mustFetch(t *testing.T, rawURL, host string, fields ...string) reply {
	t.Helper()
	r, err := fetch(rawURL, host, fields...)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	return r
}

// inCI reports whether the environment variable CI says the tests run in
// continuous integration: set, and not to "0" or "false".
func inCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "0" && v != "false"
}

// redisServer is a redis-server process a test started, on a unix socket
// only, with persistence off: a restart loses its data, as a crash of a
// cache-only Redis does.
type redisServer struct {
	t    *testing.T
	bin  string
	dir  string
	sock string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	logs *tailLog
}

// startRedis starts a redis-server for t, killed when t ends. Without
// redis-server on the PATH the test is skipped, or fails when CI is set.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if inCI() {
			t.Fatalf("redis-server is not installed (%v), and CI is set: the fleet tests must run in CI (apt-get install -y redis-server)", err)
		}
		t.Skipf("redis-server is not installed (%v); skipping (set CI=true to make this a failure)", err)
	}
	// A short path: a unix socket's must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "notmod-fleet-")
	if err != nil {
		t.Fatal(err)
	}
	r := &redisServer{t: t, bin: bin, dir: dir, sock: filepath.Join(dir, "redis.sock")}
	t.Cleanup(func() {
		r.kill()
		if t.Failed() && r.logs != nil {
			t.Logf("redis-server output:\n%s", r.logs.String())
		}
		_ = os.RemoveAll(dir)
	})
	r.start()
	return r
}

// url is the -store value for this server.
func (r *redisServer) url() string { return "unix://" + r.sock }

// start runs redis-server on r's socket and waits until it accepts
// connections.
func (r *redisServer) start() {
	t := r.t
	t.Helper()
	cmd := exec.Command(r.bin,
		"--port", "0",
		"--unixsocket", r.sock,
		"--unixsocketperm", "700",
		"--save", "",
		"--appendonly", "no",
		"--dir", r.dir,
		"--daemonize", "no",
	)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	logs := &tailLog{}
	ready, done := make(chan struct{}), make(chan struct{})
	r.mu.Lock()
	r.cmd, r.done, r.logs = cmd, done, logs
	r.mu.Unlock()
	go func() {
		sc := bufio.NewScanner(out)
		isReady := false
		for sc.Scan() {
			logs.add(sc.Text())
			if !isReady && strings.Contains(strings.ToLower(sc.Text()), "ready to accept connections") {
				isReady = true
				close(ready)
			}
		}
		_ = cmd.Wait()
		close(done)
	}()
	timer := time.NewTimer(processStartTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-done:
		t.Fatalf("redis-server exited before accepting connections:\n%s", logs.String())
	case <-timer.C:
		t.Fatalf("redis-server did not accept connections within %v", processStartTimeout)
	}
	c, err := net.DialTimeout("unix", r.sock, processStartTimeout)
	if err != nil {
		t.Fatalf("redis-server said it was ready, but: %v", err)
	}
	_ = c.Close()
}

// kill sends SIGKILL to the server, if it runs, and waits for it to exit.
func (r *redisServer) kill() {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// poll calls cond every few milliseconds until it returns true, and fails
// the test if that does not happen within limit. It is for conditions
// that no event announces, such as another process's state.
func poll(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		<-tick.C
	}
}
