// Command plaza runs the Plaza messaging server and its operator tools:
//
//	plaza serve     run the server
//	plaza admin     operator commands (roles, audit log) against a server's data
//	plaza migrate   apply database migrations, or report their status
//	plaza bench     load-test a server and report throughput and latency
//	plaza healthcheck  exit 0 if a running server is ready, for container health checks
//	plaza version   print the version
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

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `Plaza: a self-hostable messaging server.

Usage:
  plaza serve   [flags]                     run the server (plaza serve -h for flags)
  plaza admin   grant|revoke [flags] HANDLE ROLE
  plaza admin   audit verify [flags]        check the audit log's hash chain
  plaza migrate [up|status] [flags]         apply migrations (serve also does at start)
  plaza bench   [flags]                     load-test a server (plaza bench -h)
  plaza healthcheck [--path P | --url URL]  exit 0 if the server's /readyz (or P) is 200
  plaza version

Every flag also reads PLAZA_<FLAG> from the environment, e.g. PLAZA_LISTEN.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "plaza:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific exit status (e.g. 1 for "audit chain
// broken", 2 for usage errors).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0 // -h asked for the usage, which was printed
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 1
}

func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError("no command given")
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stderr)
	case "admin":
		return runAdmin(ctx, args[1:], stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "plaza", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError("unknown command %q", args[0])
	}
}
