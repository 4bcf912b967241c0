package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// setting is the value a Plaza flag gets in a container, and from where.
type setting struct {
	value  string // empty when secret
	secret bool   // from a Secret or the downward API: not known here
	ref    string // where a secret value comes from, to tell two apart
	from   string // for messages
}

// knownFlags holds, per subcommand (serve, migrate), the flags the plaza
// binary has. A nil knownFlags checks no flag names.
type knownFlags map[string]map[string]bool

// subcommands are the plaza commands the manifests run, each with the
// leading arguments a container gives it.
var subcommands = map[string][]string{
	"serve":   {"serve"},
	"migrate": {"migrate", "up"},
}

// boolFlags are plaza serve's flags that take no value on the command
// line; every other flag's value may be the next argument.
var boolFlags = map[string]bool{"one-account-per-phone": true}

// envFlag returns the flag a PLAZA_ variable sets, as plaza does: the
// flag name upper-cased with dashes as underscores.
func envFlag(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "PLAZA_")
	if !ok || rest == "" {
		return "", false
	}
	return strings.ToLower(strings.ReplaceAll(rest, "_", "-")), true
}

// containerSettings resolves the flags a container gives plaza sub (a
// key of subcommands), in plaza's order of precedence: the command line,
// then the container's env entries, then its envFrom sources. When known
// is not nil, a flag in args that sub lacks is an error (plaza refuses an
// unknown flag), and so is a PLAZA_ variable that names no flag of serve
// (plaza silently ignores it). Variables are held to serve's flags, not
// sub's: the ConfigMap is shared, and migrate ignores the server's
// settings as it should.
func containerSettings(c corev1.Container, configMaps map[string]*corev1.ConfigMap, known knownFlags, sub string) (map[string]setting, []error) {
	out := map[string]setting{}
	var errs []error
	checkIn := func(set, flag, from string) bool {
		if known != nil && !known[set][flag] {
			errs = append(errs, fmt.Errorf("%s sets --%s, which plaza %s does not have", from, flag, set))
			return false
		}
		return true
	}
	check := func(flag, from string) bool { return checkIn("serve", flag, from) }
	for _, src := range c.EnvFrom {
		switch {
		case src.ConfigMapRef != nil:
			cm, ok := configMaps[src.ConfigMapRef.Name]
			if !ok {
				if src.ConfigMapRef.Optional == nil || !*src.ConfigMapRef.Optional {
					errs = append(errs, fmt.Errorf("envFrom names ConfigMap %s, which the manifests do not define", src.ConfigMapRef.Name))
				}
				continue
			}
			for k, v := range cm.Data {
				if flag, ok := envFlag(src.Prefix + k); ok && check(flag, "ConfigMap "+cm.Name+" key "+k) {
					out[flag] = setting{value: v, from: "ConfigMap " + cm.Name}
				}
			}
		case src.SecretRef != nil:
			// Which keys a Secret holds is the operator's: the example
			// is not the truth. Name PLAZA_ settings in env instead.
			errs = append(errs, fmt.Errorf("envFrom Secret %s: list the variables in env with secretKeyRef, so the manifests say which settings come from it", src.SecretRef.Name))
		}
	}
	for _, e := range c.Env {
		flag, ok := envFlag(e.Name)
		if !ok || !check(flag, "env "+e.Name) {
			continue
		}
		if e.ValueFrom != nil {
			out[flag] = setting{secret: true, ref: e.ValueFrom.String(), from: "env " + e.Name}
		} else {
			out[flag] = setting{value: e.Value, from: "env " + e.Name}
		}
	}
	if len(c.Command) > 0 {
		errs = append(errs, fmt.Errorf("sets command %q: leave the image's entrypoint (plaza) and give args", c.Command))
		return out, errs
	}
	lead := subcommands[sub]
	if len(c.Args) < len(lead) || !slices.Equal(c.Args[:len(lead)], lead) {
		errs = append(errs, fmt.Errorf("args %q: want %s first", c.Args, strings.Join(lead, " ")))
		return out, errs
	}
	args := c.Args[len(lead):]
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, ok := strings.CutPrefix(a, "-")
		name = strings.TrimPrefix(name, "-")
		if !ok || name == "" {
			errs = append(errs, fmt.Errorf("argument %q: plaza serve takes only flags", a))
			continue
		}
		name, value, hasValue := strings.Cut(name, "=")
		if !hasValue {
			switch {
			case boolFlags[name]:
				value = "true"
			case i+1 < len(args):
				i++
				value = args[i]
			default:
				errs = append(errs, fmt.Errorf("flag %s needs a value", a))
				continue
			}
		}
		if checkIn(sub, name, "args") {
			out[name] = setting{value: value, from: "args"}
		}
	}
	return out, errs
}

// flagLine matches a flag in Go's flag.PrintDefaults output.
var flagLine = regexp.MustCompile(`^\s+-([a-z0-9][a-z0-9-]*)`)

// subcommandFlags runs `BINARY SUB -h` for each of plaza's subcommands
// the manifests use and returns the flags each lists.
func subcommandFlags(binary string) (knownFlags, error) {
	out := knownFlags{}
	for sub, lead := range subcommands {
		var stderr bytes.Buffer
		cmd := exec.Command(binary, append(slices.Clone(lead), "-h")...)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("%s %s -h: %w\n%s", binary, strings.Join(lead, " "), err, stderr.String())
		}
		flags := map[string]bool{}
		sc := bufio.NewScanner(&stderr)
		for sc.Scan() {
			if m := flagLine.FindStringSubmatch(sc.Text()); m != nil {
				flags[m[1]] = true
			}
		}
		if !flags["db"] || (sub == "serve" && (!flags["listen"] || !flags["drain-window"])) {
			return nil, fmt.Errorf("%s %s -h lists no --db, or serve no --listen or --drain-window: is it plaza?", binary, strings.Join(lead, " "))
		}
		out[sub] = flags
	}
	return out, nil
}
