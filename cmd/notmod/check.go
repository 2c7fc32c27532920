package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/notmod/notmod/audit"
	"github.com/notmod/notmod/internal/httplex"
)

// checkCommand is "notmod check": the audit of URLs' validators,
// conditional requests and caching (package audit). Its zero value reads
// the terminal and environment of the process; tests set the fields.
type checkCommand struct {
	terminal func(w io.Writer) bool // whether w is a terminal; nil: a character device
	getenv   func(string) string    // nil: os.Getenv
	stdin    io.Reader              // for "-f -"; nil: os.Stdin
}

// headerFlag collects repeated -H "Name: value" flags.
type headerFlag struct{ h http.Header }

func (f *headerFlag) String() string { return "" }

func (f *headerFlag) Set(s string) error {
	name, value, err := parseField(s)
	if err != nil {
		return err
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	f.h.Add(name, value)
	return nil
}

// parseField splits "Name: value" into a field name, which must be a
// token, and its value without surrounding whitespace, which must not hold
// CR, LF or NUL (RFC 9110 §5.1, §5.5).
func parseField(s string) (name, value string, err error) {
	name, value, ok := strings.Cut(s, ":")
	if !ok || !httplex.IsToken(name) {
		return "", "", fmt.Errorf("check: header %q is not Name: value", s)
	}
	value = httplex.TrimOWS(value)
	if strings.ContainsAny(value, "\r\n\x00") {
		return "", "", fmt.Errorf("check: header %s has a line break or NUL in its value", name)
	}
	return name, value, nil
}

// readURLs reads URLs one per line; blank lines and lines starting with
// "#" are skipped, surrounding whitespace removed.
func readURLs(r io.Reader) ([]string, error) {
	var urls []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		urls = append(urls, line)
	}
	return urls, sc.Err()
}

// isCharDevice reports whether w is a file on a terminal.
func isCharDevice(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (c checkCommand) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	terminal, getenv, stdin := c.terminal, c.getenv, c.stdin
	if terminal == nil {
		terminal = isCharDevice
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	if stdin == nil {
		stdin = os.Stdin
	}

	fs := flag.NewFlagSet("notmod check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "read URLs from `FILE`, one per line (# comments); - for standard input")
	parallel := fs.Int("c", 4, "audit up to `N` URLs at once")
	asJSON := fs.Bool("json", false, "write the reports as JSON (schema "+audit.Schema+")")
	verbose := fs.Bool("v", false, "show the request and response heads of the probes behind each finding")
	var extra headerFlag
	fs.Var(&extra, "H", "extra request header `\"Name: value\"` sent with every probe (repeatable)")
	method := fs.String("if-match-method", "GET", "`METHOD` of the If-Match and If-Unmodified-Since probes")
	unsafe := fs.Bool("unsafe", false, "allow -if-match-method to be a method that can change the resource (PUT, DELETE, ...)")
	timeout := fs.Duration("timeout", 10*time.Second, "time limit of each request")
	follow := fs.Bool("follow", false, "follow redirects (by default a redirect is reported, not followed)")
	insecure := fs.Bool("insecure", false, "do not verify TLS certificates")
	repeat := fs.Int("repeat", 0, "after the probes, `N` more GETs to watch a cache in front (Age, revalidation, stale)")
	interval := fs.Duration("interval", audit.DefaultInterval, "time between the -repeat GETs")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: notmod check [flags] URL...\n       notmod check [flags] -f FILE")
		fmt.Fprintln(stderr, "\nAudits each URL's validators, conditional requests and caching against RFC 9110 and")
		fmt.Fprintln(stderr, "RFC 9111. Exits with status 1 when a URL violates a MUST or cannot be audited.")
		fmt.Fprintln(stderr, "\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	urls := fs.Args()
	if *file != "" {
		r := stdin
		if *file != "-" {
			f, err := os.Open(*file)
			if err != nil {
				return fmt.Errorf("check: %w", err)
			}
			defer f.Close()
			r = f
		}
		more, err := readURLs(r)
		if err != nil {
			return fmt.Errorf("check: reading %s: %w", *file, err)
		}
		urls = append(urls, more...)
	}
	if len(urls) == 0 {
		fs.Usage()
		return errors.New("check: no URL given")
	}
	if *parallel < 1 {
		return errors.New("check: -c must be at least 1")
	}
	if *timeout <= 0 {
		return errors.New("check: -timeout must be positive")
	}

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: *insecure}
	tr.DisableCompression = true
	client := &http.Client{Transport: tr, Timeout: *timeout}
	defer tr.CloseIdleConnections()
	if !*follow {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	a, err := audit.New(audit.Options{
		Client:        client,
		Header:        extra.h,
		IfMatchMethod: strings.ToUpper(*method),
		AllowUnsafe:   *unsafe,
		Repeat:        *repeat,
		Interval:      *interval,
	})
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}

	progress := terminal(stderr)
	done := 0
	reports := a.CheckAll(ctx, urls, *parallel, func(i int, r *audit.Report) {
		done++
		if progress {
			fmt.Fprintf(stderr, "\r\x1b[K[%d/%d] %s", done, len(urls), r.URL)
		}
	})
	if progress {
		fmt.Fprint(stderr, "\r\x1b[K")
	}

	if *asJSON {
		err = audit.WriteJSON(stdout, reports)
	} else {
		color := terminal(stdout) && getenv("NO_COLOR") == ""
		err = audit.WriteText(stdout, reports, audit.TextOptions{Color: color, Verbose: *verbose})
		if err == nil && len(reports) > 1 {
			fmt.Fprintln(stdout)
			err = audit.WriteSummary(stdout, reports)
		}
	}
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	failed := 0
	for _, r := range reports {
		if r.Failed() {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("check: %d of %d URLs violate a MUST or could not be audited", failed, len(reports))
	}
	return nil
}
