package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case
	args string
}

type stage struct {
	base, name string
	ins        []instruction
}

// parseDockerfile splits a Dockerfile into stages. It knows no more of
// the syntax than the checks below need (no heredocs).
func parseDockerfile(text string) ([]stage, error) {
	var stages []stage
	var pending strings.Builder
	start := 0
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if pending.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if pending.Len() > 0 && strings.HasPrefix(trimmed, "#") {
			continue // comment lines inside a continued instruction
		}
		if pending.Len() == 0 {
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			pending.WriteString(cont + " ")
			continue
		}
		pending.WriteString(trimmed)
		full := pending.String()
		pending.Reset()
		cmd, args, _ := strings.Cut(full, " ")
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			for len(f) > 0 && strings.HasPrefix(f[0], "--") {
				f = f[1:] // --platform=…
			}
			if len(f) == 0 {
				return nil, fmt.Errorf("line %d: FROM without an image", in.line)
			}
			st := stage{base: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			if in.cmd == "ARG" {
				continue // ARGs before the first FROM
			}
			return nil, fmt.Errorf("line %d: %s before FROM", in.line, in.cmd)
		}
		stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
	}
	if pending.Len() > 0 {
		return nil, fmt.Errorf("the last instruction ends in a line continuation")
	}
	return stages, nil
}

// checkDockerfile checks what a linter would and Plaza needs: a
// multi-stage build of a static binary, a final stage that runs as a
// numeric non-root user (so Kubernetes' runAsNonRoot can verify it) and
// has a health check in exec form (distroless has no shell).
func checkDockerfile(path string) []error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return []error{err}
	}
	stages, err := parseDockerfile(string(raw))
	if err != nil {
		return []error{fmt.Errorf("%s: %w", path, err)}
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	if len(stages) < 2 {
		bad("want a multi-stage build (a build stage, then a small final one), got %d FROM", len(stages))
		return errs
	}
	static := false
	for _, st := range stages[:len(stages)-1] {
		for _, in := range st.ins {
			if (in.cmd == "RUN" || in.cmd == "ENV") && strings.Contains(in.args, "CGO_ENABLED=0") {
				static = true
			}
		}
	}
	if !static {
		bad("no build stage sets CGO_ENABLED=0: the binary must be static to run on distroless or scratch")
	}

	final := stages[len(stages)-1]
	shell := !strings.Contains(final.base, "distroless") && final.base != "scratch"
	var user, health, expose, volume *instruction
	for i, in := range final.ins {
		switch in.cmd {
		case "USER":
			user = &final.ins[i]
		case "HEALTHCHECK":
			health = &final.ins[i]
		case "EXPOSE":
			expose = &final.ins[i]
		case "VOLUME":
			volume = &final.ins[i]
		case "RUN":
			if !shell {
				bad("line %d: RUN in the final stage, whose base %s has no shell", in.line, final.base)
			}
		case "ENTRYPOINT", "CMD":
			if !shell && !execForm(in.args) {
				bad("line %d: %s in shell form, but %s has no shell: use the JSON form", in.line, in.cmd, final.base)
			}
		}
	}
	switch {
	case user == nil:
		bad("the final stage sets no USER: it would run as root")
	default:
		name, _, _ := strings.Cut(user.args, ":")
		uid, err := strconv.Atoi(name)
		switch {
		case err != nil:
			bad("line %d: USER %q: give a numeric user ID, so Kubernetes' runAsNonRoot can check it", user.line, user.args)
		case uid == 0:
			bad("line %d: USER %q is root", user.line, user.args)
		}
	}
	switch {
	case health == nil:
		bad("the final stage has no HEALTHCHECK")
	case strings.EqualFold(strings.TrimSpace(health.args), "NONE"):
		bad("line %d: HEALTHCHECK NONE", health.line)
	default:
		_, cmd, ok := strings.Cut(health.args, "CMD ")
		if !ok {
			bad("line %d: HEALTHCHECK without CMD", health.line)
		} else if !shell && !execForm(cmd) {
			bad("line %d: HEALTHCHECK CMD in shell form, but %s has no shell: use the JSON form", health.line, final.base)
		} else if path := healthcheckPath(cmd); path != "/livez" {
			bad("line %d: HEALTHCHECK asks %s: runtimes that replace unhealthy containers (Swarm, ECS) would restart every replica during a drain or a database outage; run plaza healthcheck --path=/livez", health.line, path)
		}
	}
	if expose == nil {
		bad("the final stage has no EXPOSE")
	}
	if volume == nil {
		bad("the final stage declares no VOLUME for the data directory")
	}
	return errs
}

// healthcheckPath returns the endpoint a HEALTHCHECK CMD's plaza
// healthcheck asks: its --path, the path of its --url, or "/readyz (the
// default)" when it names none, since an older binary's default is
// /readyz whatever a newer one's is.
func healthcheckPath(cmd string) string {
	var argv []string
	if json.Unmarshal([]byte(strings.TrimSpace(cmd)), &argv) != nil {
		argv = strings.Fields(cmd)
	}
	path := "/readyz (the default)"
	for i := 0; i < len(argv); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(argv[i], "-"), "=")
		if !strings.HasPrefix(argv[i], "-") || (name != "path" && name != "url") {
			continue
		}
		if !hasValue && i+1 < len(argv) {
			i++
			value = argv[i]
		}
		if name == "url" {
			u, err := url.Parse(value)
			if err != nil {
				return fmt.Sprintf("%q", value)
			}
			value = u.Path
		}
		path = value
	}
	return path
}

// execForm reports whether an ENTRYPOINT, CMD or HEALTHCHECK CMD is a
// JSON array, run without a shell.
func execForm(args string) bool {
	var argv []string
	return json.Unmarshal([]byte(strings.TrimSpace(args)), &argv) == nil && len(argv) > 0
}
