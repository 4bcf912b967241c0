package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The files under test: the repository's own.
const (
	kubernetesDir = "../kubernetes"
	dockerfile    = "../../Dockerfile"
	systemdDir    = "../systemd"
)

// edit replaces old with new in a file, once; the test fails if old is
// not there, so an edit cannot silently stop applying when the
// manifests change.
type edit struct {
	file, old, new string
}

// copyWith copies dir's regular files to a temp dir and applies edits.
func copyWith(t *testing.T, dir string, edits ...edit) string {
	t.Helper()
	out := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		if e.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			files[e.Name()] = string(b)
		}
	}
	for _, e := range edits {
		s, ok := files[e.file]
		if !ok && e.old == "" {
			files[e.file] = e.new // a new file
			continue
		}
		if !strings.Contains(s, e.old) {
			t.Fatalf("%s does not contain %q: update the test", e.file, e.old)
		}
		files[e.file] = strings.Replace(s, e.old, e.new, 1)
	}
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(out, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func joined(errs []error) string {
	var b strings.Builder
	for _, err := range errs {
		b.WriteString(err.Error() + "\n")
	}
	return b.String()
}

// TestRepositoryFilesPass: the checked-in manifests, Dockerfile and unit
// pass every check.
func TestRepositoryFilesPass(t *testing.T) {
	var out bytes.Buffer
	if errs := checkAll(kubernetesDir, "", dockerfile, systemdDir, &out); len(errs) > 0 {
		t.Fatalf("got problems, want none:\n%s", joined(errs))
	}
	for _, want := range []string{"7 objects", "Dockerfile", "hardening"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("got report %q, want it to mention %q", out.String(), want)
		}
	}
}

// TestBrokenManifestsFail breaks the manifests one way at a time and
// checks that the checker names the problem.
func TestBrokenManifestsFail(t *testing.T) {
	const dep, ing, cm = "deployment.yaml", "ingress.yaml", "configmap.yaml"
	// The server container's PLAZA_DB and GOMEMLIMIT; the init container
	// has its own, earlier in the file.
	const serverDB = "- name: PLAZA_DB\n              valueFrom:\n                secretKeyRef:\n                  name: plaza-env\n                  key: PLAZA_DB\n            - name: PLAZA_BUS"
	const serverMemLimit = "value: 920MiB\n          ports:"
	const trusted = `"192.0.2.0/24"`
	memLimit := func(v string) edit { return edit{dep, serverMemLimit, v + "\n          ports:"} }
	tests := []struct {
		name string
		edit edit
		want string
	}{
		{"unknown field", edit{dep, "periodSeconds: 5", "periodSecond: 5"}, `unknown field "spec.template.spec.containers[0].readinessProbe.periodSecond"`},
		{"field in the wrong case", edit{dep, "readinessProbe:", "ReadinessProbe:"}, `unknown field "spec.template.spec.containers[0].ReadinessProbe"`},
		{"misplaced field", edit{dep, "      enableServiceLinks: false", "      replicas: 3\n      enableServiceLinks: false"}, `unknown field "spec.template.spec.replicas"`},
		{"duplicate key", edit{dep, "periodSeconds: 5", "periodSeconds: 5\n            periodSeconds: 6"}, `"periodSeconds" already set in map`},
		{"wrong type", edit{dep, "replicas: 3", "replicas: three"}, "cannot unmarshal string"},
		{"unknown kind", edit{"extra.yaml", "", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n"}, `unknown kind "Pod"`},
		{"misspelt apiVersion", edit{"pdb.yaml", "policy/v1", "policy/v1beta1"}, `unknown kind "PodDisruptionBudget"`},
		{"namespace", edit{"service.yaml", "  name: plaza\n", "  name: plaza\n  namespace: prod\n"}, "sets metadata.namespace"},
		{"file not in kustomization", edit{"kustomization.yaml", "  - pdb.yaml\n", ""}, "does not list pdb.yaml"},
		{"readiness path", edit{dep, "path: /readyz", "path: /healthz"}, `readinessProbe path is "/healthz", want /readyz`},
		{"readiness port", edit{dep, "path: /readyz\n              port: http", "path: /readyz\n              port: 9090"}, "readinessProbe port 9090 is not a port"},
		{"liveness on readyz", edit{dep, "path: /livez\n              port: http\n            periodSeconds: 10", "path: /readyz\n              port: http\n            periodSeconds: 10"}, "livenessProbe on /readyz"},
		{"liveness on healthz", edit{dep, "path: /livez\n              port: http\n            periodSeconds: 10", "path: /healthz\n              port: http\n            periodSeconds: 10"}, "livenessProbe on /healthz"},
		{"listen port not declared", edit{dep, "--listen=:8080", "--listen=:9090"}, "listens on 9090 but declares no containerPort 9090"},
		{"listen on loopback", edit{dep, "--listen=:8080", "--listen=127.0.0.1:8080"}, "only answers inside the pod"},
		{"grace period too short", edit{dep, "terminationGracePeriodSeconds: 35", "terminationGracePeriodSeconds: 20"}, "terminationGracePeriodSeconds 20s must exceed the preStop sleep 5s plus --shutdown-timeout 20s"},
		{"drain window too long", edit{dep, "--drain-window=10s", "--drain-window=30s"}, "--drain-window 30s must be less than --shutdown-timeout 20s"},
		{"shutdown timeout past the grace period", edit{dep, "--shutdown-timeout=20s", "--shutdown-timeout=40s"}, "must exceed the preStop sleep 5s plus --shutdown-timeout 40s"},
		{"not non-root", edit{dep, "runAsNonRoot: true", "runAsNonRoot: false"}, "set runAsNonRoot: true"},
		{"root user", edit{dep, "runAsUser: 65532", "runAsUser: 0"}, "runs as user 0"},
		{"no memory limit", edit{dep, "            limits:\n              memory: 1Gi\n", ""}, "set resources.limits.memory"},
		{"service links", edit{dep, "enableServiceLinks: false", "enableServiceLinks: true"}, "enableServiceLinks: false"},
		{"replicas without a shared database", edit{dep, serverDB, strings.Replace(serverDB, "- name: PLAZA_DB", "- name: DATABASE_URL", 1)}, "3 replicas need --db set"},
		{"data not on a volume", edit{dep, "--data=/data", "--data=/var/plaza"}, `--data "/var/plaza" is not on a volumeMount`},
		{"missing configmap", edit{dep, "name: plaza-config", "name: plaza-settings"}, "ConfigMap plaza-settings, which the manifests do not define"},
		{"websocket read timeout missing", edit{ing, "    nginx.ingress.kubernetes.io/proxy-read-timeout: \"3600\"\n", ""}, "proxy-read-timeout is missing"},
		{"websocket send timeout short", edit{ing, "proxy-send-timeout: \"3600\"", "proxy-send-timeout: \"60\""}, `proxy-send-timeout is "60"`},
		{"body size small", edit{ing, `proxy-body-size: "210m"`, `proxy-body-size: "8m"`}, "less than the largest upload"},
		{"ingress to a missing service", edit{ing, "name: plaza\n                port:", "name: plaza-web\n                port:"}, "Service plaza-web, which the manifests do not define"},
		{"service selects nothing", edit{"service.yaml", "app.kubernetes.io/component: server\n  ports", "app.kubernetes.io/component: web\n  ports"}, "picks the pods of no Deployment"},
		{"pdb selects nothing", edit{"pdb.yaml", "component: server", "component: web"}, "picks the pods of no Deployment"},

		{"all of 10/8 trusted", edit{cm, trusted, `"10.0.0.0/8"`}, "trusts X-Forwarded-For from all of 10.0.0.0/8"},
		{"all of 172.16/12 trusted", edit{cm, trusted, `"10.244.0.0/16, 172.16.0.0/12"`}, "from all of 172.16.0.0/12"},
		{"all of 192.168/16 trusted", edit{cm, trusted, `"192.168.0.0/16"`}, "from all of 192.168.0.0/16"},
		{"a /15 trusted", edit{cm, trusted, `"10.244.0.0/15"`}, "from all of 10.244.0.0/15"},
		{"everything trusted", edit{cm, trusted, `"0.0.0.0/0"`}, "from all of 0.0.0.0/0"},
		{"IPv6 ULA trusted", edit{cm, trusted, `"fd00::/8"`}, "from all of fd00::/8"},
		{"mapped 10/8 trusted", edit{cm, trusted, `"::ffff:10.0.0.0/104"`}, "from all of ::ffff:10.0.0.0/104"},
		{"trusted in args", edit{dep, "- --listen=:8080", "- --listen=:8080\n            - --trusted-proxies=172.16.0.0/12"}, "--trusted-proxies (args) trusts X-Forwarded-For from all of 172.16.0.0/12"},
		{"trusted proxy not a CIDR", edit{cm, trusted, `"10.244.1.0"`}, `--trusted-proxies (ConfigMap plaza-config): netip.ParsePrefix("10.244.1.0")`},

		{"no migrate init container", edit{dep, "- name: migrate\n", "- name: migrations\n"}, "no initContainer named migrate"},
		{"migrate with another image", edit{dep, "- name: migrate\n          image: plaza\n", "- name: migrate\n          image: plaza:previous\n"}, `initContainer migrate runs image "plaza:previous", container plaza "plaza"`},
		{"migrate status", edit{dep, "- migrate\n            - up\n", "- migrate\n            - status\n"}, "want migrate up first"},
		{"migrate through a command", edit{dep, "- migrate\n            - up\n", "- migrate\n            - up\n          command: [\"/usr/local/bin/plaza\"]\n"}, "initContainer migrate: sets command"},
		{"migrate as a sidecar", edit{dep, "- name: migrate\n          image: plaza\n", "- name: migrate\n          image: plaza\n          restartPolicy: Always\n"}, "initContainer migrate sets restartPolicy"},
		{"migrate another database", edit{dep, "                  key: PLAZA_DB\n", "                  key: PLAZA_DB_OLD\n"}, "initContainer migrate and container plaza take --db from different places"},
		{"migrate without a database", edit{dep, "- name: PLAZA_DB\n", "- name: DATABASE_URL\n"}, "take --db from different places (not set, env PLAZA_DB)"},
		{"migrate as root", edit{dep, "            readOnlyRootFilesystem: true\n", "            readOnlyRootFilesystem: true\n            runAsUser: 0\n"}, "container migrate runs as user 0"},
		{"migrate without resources", edit{dep, "          resources:\n            requests:\n              cpu: 250m\n              memory: 256Mi\n            limits:\n              memory: 1Gi\n          securityContext:\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n            capabilities:\n              drop: [\"ALL\"]\n      containers:", "          securityContext:\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n            capabilities:\n              drop: [\"ALL\"]\n      containers:"}, "container migrate: set resources.requests.cpu"},
		{"unknown field in the init container", edit{dep, "- name: migrate\n", "- name: migrate\n          restartPolicyy: Never\n"}, `unknown field "spec.template.spec.initContainers[0].restartPolicyy"`},

		{"GOMEMLIMIT at the limit", memLimit("value: 1GiB"), "container plaza: GOMEMLIMIT 1GiB is not below limits.memory 1Gi"},
		{"GOMEMLIMIT above the limit", memLimit("value: 2048MiB"), "GOMEMLIMIT 2048MiB is not below limits.memory 1Gi"},
		{"GOMEMLIMIT from the limit", memLimit("valueFrom:\n                resourceFieldRef:\n                  resource: limits.memory"), "GOMEMLIMIT from limits.memory is the limit itself"},
		{"GOMEMLIMIT from the limit with a divisor", memLimit("valueFrom:\n                resourceFieldRef:\n                  resource: limits.memory\n                  divisor: 1Mi"), "e.g. 921MiB, about 90 % of 1Gi"},
		{"GOMEMLIMIT in Kubernetes units", memLimit("value: 920Mi"), `GOMEMLIMIT "920Mi": not a byte count the Go runtime reads`},
		{"limit lowered below GOMEMLIMIT", edit{dep, "            limits:\n              memory: 1Gi\n          securityContext:\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n            capabilities:\n              drop: [\"ALL\"]\n          volumeMounts:", "            limits:\n              memory: 512Mi\n          securityContext:\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n            capabilities:\n              drop: [\"ALL\"]\n          volumeMounts:"}, "container plaza: GOMEMLIMIT 920MiB is not below limits.memory 512Mi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyWith(t, kubernetesDir, tt.edit)
			errs := checkAll(dir, "", "", "", &bytes.Buffer{})
			if len(errs) == 0 {
				t.Fatalf("got no problem, want one containing %q", tt.want)
			}
			if got := joined(errs); !strings.Contains(got, tt.want) {
				t.Errorf("got problems:\n%s\nwant one containing %q", got, tt.want)
			}
		})
	}
}

// TestUnknownFlagFails: with the binary's flags known, a misspelt flag in
// args or a PLAZA_ variable that names no flag (which plaza would ignore)
// is an error.
func TestUnknownFlagFails(t *testing.T) {
	bin := fakePlaza(t)
	tests := []struct {
		name string
		edit edit
		want string
	}{
		{"arg", edit{"deployment.yaml", "--drain-window=10s", "--drain-windw=10s"}, "args sets --drain-windw, which plaza serve does not have"},
		{"env", edit{"deployment.yaml", "- name: PLAZA_BUS\n", "- name: PLAZA_NATS\n"}, "env PLAZA_NATS sets --nats"},
		{"configmap", edit{"configmap.yaml", "PLAZA_TIME_ZONE", "PLAZA_TIMEZONE"}, "key PLAZA_TIMEZONE sets --timezone"},
		{"serve's flag given to migrate", edit{"deployment.yaml", "- migrate\n            - up\n", "- migrate\n            - up\n            - --listen=:8080\n"}, "initContainer migrate: args sets --listen, which plaza migrate does not have"},
		{"migrate's misspelt flag", edit{"deployment.yaml", "- migrate\n            - up\n", "- migrate\n            - up\n            - --log-levl=debug\n"}, "args sets --log-levl, which plaza migrate does not have"},
	}
	if errs := checkAll(kubernetesDir, bin, "", "", &bytes.Buffer{}); len(errs) > 0 {
		t.Fatalf("the repository's manifests with the fake binary's flags: got\n%s", joined(errs))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := checkAll(copyWith(t, kubernetesDir, tt.edit), bin, "", "", &bytes.Buffer{})
			if got := joined(errs); !strings.Contains(got, tt.want) {
				t.Errorf("got problems:\n%s\nwant one containing %q", got, tt.want)
			}
		})
	}
}

// fakePlaza writes a script that prints serve -h and migrate up -h as
// plaza does, with the flags the manifests use.
func fakePlaza(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	usage := func(cmd string, flags []string) {
		b.WriteString("cat >&2 <<'EOF'\nUsage of plaza " + cmd + ":\n")
		for _, f := range flags {
			b.WriteString("  -" + f + " string\n    \tsomething\n")
		}
		b.WriteString("EOF\n")
	}
	data := []string{"data", "db", "log-format", "log-level", "secret-key-file"}
	b.WriteString("#!/bin/sh\nif [ \"$1\" = migrate ]; then\n")
	usage("migrate up", data)
	b.WriteString("exit 0\nfi\n")
	usage("serve", append(data, "listen", "bus", "media", "shutdown-timeout", "drain-window", "trusted-proxies", "time-zone", "bus-prefix"))
	b.WriteString("exit 0\n")
	path := filepath.Join(t.TempDir(), "plaza")
	if err := os.WriteFile(path, []byte(b.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBrokenDockerfileFails(t *testing.T) {
	tests := []struct {
		name string
		edit edit
		want string
	}{
		{"no user", edit{"Dockerfile", "USER 65532:65532\n", ""}, "sets no USER"},
		{"root", edit{"Dockerfile", "USER 65532:65532", "USER 0"}, `USER "0" is root`},
		{"named user", edit{"Dockerfile", "USER 65532:65532", "USER nonroot"}, "numeric user ID"},
		{"no health check", edit{"Dockerfile", "HEALTHCHECK", "# HEALTHCHECK"}, "no HEALTHCHECK"},
		{"health check in shell form", edit{"Dockerfile", `CMD ["/usr/local/bin/plaza", "healthcheck", "--path=/livez"]`, "CMD /usr/local/bin/plaza healthcheck --path=/livez"}, "HEALTHCHECK CMD in shell form"},
		{"health check on readyz", edit{"Dockerfile", `"--path=/livez"`, `"--path", "/readyz"`}, "HEALTHCHECK asks /readyz"},
		{"health check on the default path", edit{"Dockerfile", `, "--path=/livez"]`, `]`}, "HEALTHCHECK asks /readyz (the default)"},
		{"health check on a readyz URL", edit{"Dockerfile", `"--path=/livez"`, `"--url=http://127.0.0.1:8080/readyz"`}, "HEALTHCHECK asks /readyz"},
		{"single stage", edit{"Dockerfile", "FROM gcr.io/distroless/static-debian12:nonroot\n", ""}, "want a multi-stage build"},
		{"cgo", edit{"Dockerfile", "CGO_ENABLED=0 go build", "go build"}, "CGO_ENABLED=0"},
		{"run without a shell", edit{"Dockerfile", "USER 65532:65532\n", "RUN mkdir /x\nUSER 65532:65532\n"}, "RUN in the final stage"},
		{"no volume", edit{"Dockerfile", "VOLUME /data\n", ""}, "no VOLUME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyWith(t, filepath.Dir(dockerfile), tt.edit)
			errs := checkDockerfile(filepath.Join(dir, "Dockerfile"))
			if got := joined(errs); !strings.Contains(got, tt.want) {
				t.Errorf("got problems:\n%s\nwant one containing %q", got, tt.want)
			}
		})
	}
}

func TestBrokenUnitFails(t *testing.T) {
	tests := []struct {
		name string
		edit edit
		want string
	}{
		{"stop timeout short", edit{unitFile, "TimeoutStopSec=30s", "TimeoutStopSec=15s"}, "TimeoutStopSec=15s must exceed --shutdown-timeout 20s"},
		{"stop timeout below the env's shutdown", edit{envFile, "PLAZA_SHUTDOWN_TIMEOUT=20s", "PLAZA_SHUTDOWN_TIMEOUT=45s"}, "must exceed --shutdown-timeout 45s"},
		{"stop timeout below ExecStart's shutdown", edit{unitFile, "ExecStart=/usr/local/bin/plaza serve", "ExecStart=/usr/local/bin/plaza serve --shutdown-timeout=60s"}, "must exceed --shutdown-timeout 1m0s"},
		{"systemd time span in a flag", edit{unitFile, "ExecStart=/usr/local/bin/plaza serve", "ExecStart=/usr/local/bin/plaza serve --shutdown-timeout=1min"}, `--shutdown-timeout "1min"`},
		{"stop timeout in minutes", edit{unitFile, "TimeoutStopSec=30s", "TimeoutStopSec=1min 30s"}, ""},
		{"drain past shutdown", edit{envFile, "PLAZA_DRAIN_WINDOW=10s", "PLAZA_DRAIN_WINDOW=25s"}, "--drain-window 25s must be less than"},
		{"no NoNewPrivileges", edit{unitFile, "NoNewPrivileges=yes\n", ""}, "want NoNewPrivileges=yes"},
		{"capabilities kept", edit{unitFile, "CapabilityBoundingSet=\n", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"}, "want CapabilityBoundingSet="},
		{"root", edit{unitFile, "User=plaza", "User=root"}, "unprivileged user"},
		{"address families", edit{unitFile, "AF_INET AF_INET6 AF_UNIX", "AF_INET AF_INET6 AF_UNIX AF_NETLINK"}, "RestrictAddressFamilies"},
		{"few descriptors", edit{unitFile, "LimitNOFILE=1048576", "LimitNOFILE=1024"}, "LimitNOFILE=1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := checkSystemd(copyWith(t, systemdDir, tt.edit))
			got := joined(errs)
			if tt.want == "" {
				if len(errs) > 0 {
					t.Errorf("got problems:\n%s\nwant none", got)
				}
				return
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("got problems:\n%s\nwant one containing %q", got, tt.want)
			}
		})
	}
}

// TestRunExitStatus: the command exits 0 on the repository's files, 1
// with the problems listed on a broken one, 2 on bad usage.
func TestRunExitStatus(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-dockerfile", dockerfile, "-systemd", systemdDir, kubernetesDir}, &out, &errOut); code != 0 {
		t.Errorf("repository files: got exit %d, want 0; stderr:\n%s", code, errOut.String())
	}
	broken := copyWith(t, kubernetesDir, edit{"deployment.yaml", "path: /readyz", "path: /ready"})
	out.Reset()
	errOut.Reset()
	if code := run([]string{broken}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "FAIL") {
		t.Errorf("broken manifests: got exit %d, stderr %q; want 1 and FAIL lines", code, errOut.String())
	}
	if code := run(nil, &out, &errOut); code != 2 {
		t.Errorf("no directory: got exit %d, want 2", code)
	}
}

func TestUnwrapSplitsJoinedErrors(t *testing.T) {
	a, b, c := errors.New("a"), errors.New("b"), errors.New("c")
	got := unwrap(errors.Join(a, errors.Join(b, c)))
	if len(got) != 3 || got[0] != a || got[1] != b || got[2] != c {
		t.Errorf("got %v, want [a b c]", got)
	}
}
