// Command check validates Plaza's deployment files without a cluster or a
// container engine. It decodes every Kubernetes manifest in a directory
// strictly into its k8s.io/api type (unknown fields and kinds are errors),
// builds the kustomization, and applies Plaza's own rules: readiness on
// /readyz at the port plaza listens on, migrations in an init container
// of the server's image, a grace period longer than the graceful
// shutdown, GOMEMLIMIT below the memory limit, no whole private range
// among the trusted proxies, WebSocket timeouts on the ingress, non-root
// pods with resources set. It can also check the Dockerfile and the
// systemd unit.
//
// It is a module of its own so that the server's module does not depend
// on Kubernetes' libraries.
//
//	go run . [-plaza BINARY] [-dockerfile FILE] [-systemd DIR] KUBERNETES_DIR
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	binary := fs.String("plaza", "", "plaza `binary`: check the flags and PLAZA_ variables the manifests set against its serve -h and migrate up -h")
	dockerfile := fs.String("dockerfile", "", "also check this Dockerfile")
	systemd := fs.String("systemd", "", "also check plaza.service and plaza.env in this `directory`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: check [flags] KUBERNETES_DIR")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	errs := checkAll(fs.Arg(0), *binary, *dockerfile, *systemd, stdout)
	for _, err := range errs {
		fmt.Fprintln(stderr, "FAIL", err)
	}
	if len(errs) > 0 {
		fmt.Fprintf(stderr, "%d problems\n", len(errs))
		return 1
	}
	return 0
}

// checkAll runs every check asked for and returns every problem found,
// reporting what passed on out.
func checkAll(dir, binary, dockerfile, systemd string, out io.Writer) []error {
	var errs []error
	var known knownFlags
	if binary != "" {
		var err error
		if known, err = subcommandFlags(binary); err != nil {
			return []error{err}
		}
	}
	// The kustomization and the rules need every object: after a decoding
	// error they would only add consequences of it.
	objs, files, err := loadManifests(dir)
	switch {
	case err != nil:
		errs = append(errs, unwrap(err)...)
	default:
		if err := checkKustomization(dir, files, objs); err != nil {
			errs = append(errs, unwrap(err)...)
		}
		errs = append(errs, checkRules(objs, known)...)
	}
	if len(errs) == 0 {
		fmt.Fprintf(out, "ok   %s: %d objects decode strictly, kustomize builds them, Plaza's rules hold", dir, len(objs))
		if known != nil {
			fmt.Fprintf(out, ", every setting is a flag of %s", binary)
		}
		fmt.Fprintln(out)
	}
	if dockerfile != "" {
		if e := checkDockerfile(dockerfile); len(e) > 0 {
			errs = append(errs, e...)
		} else {
			fmt.Fprintf(out, "ok   %s\n", dockerfile)
		}
	}
	if systemd != "" {
		if e := checkSystemd(systemd); len(e) > 0 {
			errs = append(errs, e...)
		} else {
			fmt.Fprintf(out, "ok   %s: hardening and stop timeout\n", systemd)
		}
	}
	return errs
}

// unwrap splits a joined error into its parts, one problem a line.
func unwrap(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unwrap(e)...)
		}
		return out
	}
	return []error{err}
}
