// Command notmod makes HTTP validation work at every hop: a caching reverse
// proxy (notmod serve), a static origin with correct validators
// (notmod static) and more. Run "notmod help" for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "notmod:", err)
		os.Exit(1)
	}
}

// command is one subcommand: it parses its own flags and runs until ctx
// is done or its work is over.
type command interface {
	run(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands by name, with a one-line summary each.
var commands = []struct {
	name, summary string
	cmd           command
}{
	{"serve", "run the caching reverse proxy in front of an origin", serveCommand{}},
	{"static", "serve a directory with content-hash ETags and conditional requests", staticCommand{}},
	{"check", "audit URLs' validators, conditional requests and caching against the RFCs", checkCommand{}},
}

// Run runs the subcommand named by args[0].
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return flag.ErrHelp
		}
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.cmd.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: notmod <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'notmod <command> -h' for a command's flags.")
}
