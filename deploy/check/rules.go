package main

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Plaza's defaults, as in cmd/plaza/config.go.
const (
	defaultShutdownTimeout = 20 * time.Second
	defaultDrainWindow     = 10 * time.Second
)

// Ingress needs, from what Plaza does.
const (
	// streamTimeout is the least proxy read and send timeout, in seconds,
	// for event streams: nginx closes a WebSocket idle this long.
	streamTimeout = 3600
	// maxUpload is the largest upload Plaza takes (a video, media.Config)
	// and so the least request body the ingress must let through.
	maxUpload = 200 << 20
)

const nginx = "nginx.ingress.kubernetes.io/"

// plazaContainer is the container that runs plaza serve; migrateContainer
// the init container that runs plaza migrate up before it.
const (
	plazaContainer   = "plaza"
	migrateContainer = "migrate"
)

// problems collects what a rule finds wrong, each naming its object.
type problems []error

func (p *problems) add(o object, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", o, fmt.Sprintf(format, args...)))
}

// checkRules applies Plaza's own rules, those a schema cannot express,
// to the decoded manifests. known is as for containerSettings.
func checkRules(objs []object, known knownFlags) []error {
	var p problems
	configMaps := map[string]*corev1.ConfigMap{}
	services := map[string]*corev1.Service{}
	var deployments []object
	for _, o := range objs {
		switch v := o.value.(type) {
		case *corev1.ConfigMap:
			configMaps[v.Name] = v
		case *corev1.Service:
			services[v.Name] = v
		case *appsv1.Deployment:
			deployments = append(deployments, o)
		}
	}
	if len(deployments) == 0 {
		p = append(p, fmt.Errorf("no Deployment: nothing runs plaza"))
	}
	for _, o := range deployments {
		checkDeployment(&p, o, configMaps, known)
	}
	for _, o := range objs {
		switch v := o.value.(type) {
		case *corev1.Service:
			checkService(&p, o, v, deployments)
		case *networkingv1.Ingress:
			checkIngress(&p, o, v, services)
		case *policyv1.PodDisruptionBudget:
			checkPDB(&p, o, v, deployments)
		}
	}
	return p
}

func checkDeployment(p *problems, o object, configMaps map[string]*corev1.ConfigMap, known knownFlags) {
	d := o.value.(*appsv1.Deployment)
	pod := d.Spec.Template.Spec
	if d.Spec.Selector == nil {
		p.add(o, "spec.selector is missing")
	} else if sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		p.add(o, "spec.selector does not match the pod template's labels")
	}
	if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
		p.add(o, "set enableServiceLinks: false: a Service named plaza injects PLAZA_* variables, which Plaza reads as settings")
	}
	podNonRoot := pod.SecurityContext != nil && pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot
	for i := range pod.InitContainers {
		checkContainerSecurity(p, o, &pod.InitContainers[i], podNonRoot, pod.SecurityContext)
		checkMemoryLimit(p, o, &pod.InitContainers[i])
	}
	var c *corev1.Container
	for i := range pod.Containers {
		ci := &pod.Containers[i]
		checkContainerSecurity(p, o, ci, podNonRoot, pod.SecurityContext)
		checkMemoryLimit(p, o, ci)
		if ci.Name == plazaContainer {
			c = ci
		}
	}
	if c == nil {
		p.add(o, "no container named %s", plazaContainer)
		return
	}
	set, errs := containerSettings(*c, configMaps, known, "serve")
	for _, err := range errs {
		p.add(o, "container %s: %v", c.Name, err)
	}
	checkMigrate(p, o, pod, c, set, configMaps, known)
	checkTrustedProxies(p, o, set)

	// The probe must reach the port plaza listens on.
	listen, ok := set["listen"]
	var listenPort int32
	switch {
	case !ok || listen.secret:
		p.add(o, "set --listen in args (e.g. --listen=:8080): plaza's default, 127.0.0.1:8080, cannot be reached from outside the pod")
	default:
		host, port, err := net.SplitHostPort(listen.value)
		n, perr := strconv.Atoi(port)
		switch {
		case err != nil || perr != nil:
			p.add(o, "--listen %q is not host:port", listen.value)
		case host == "127.0.0.1" || host == "localhost" || host == "::1":
			p.add(o, "--listen %q only answers inside the pod: use :%s", listen.value, port)
		default:
			listenPort = int32(n)
		}
	}
	if listenPort != 0 && !hasPort(c, listenPort) {
		p.add(o, "container %s listens on %d but declares no containerPort %d", c.Name, listenPort, listenPort)
	}
	rp := c.ReadinessProbe
	switch {
	case rp == nil || rp.HTTPGet == nil:
		p.add(o, "container %s needs an httpGet readinessProbe on /readyz", c.Name)
	default:
		if rp.HTTPGet.Path != "/readyz" {
			p.add(o, "readinessProbe path is %q, want /readyz (503 while draining or when the database is unreachable)", rp.HTTPGet.Path)
		}
		if port, ok := containerPort(c, rp.HTTPGet.Port); !ok {
			p.add(o, "readinessProbe port %s is not a port of container %s", rp.HTTPGet.Port.String(), c.Name)
		} else if listenPort != 0 && port != listenPort {
			p.add(o, "readinessProbe goes to port %d, but plaza listens on %d", port, listenPort)
		}
	}
	lp := c.LivenessProbe
	switch {
	case lp == nil:
		p.add(o, "container %s needs a livenessProbe", c.Name)
	case lp.HTTPGet != nil && lp.HTTPGet.Path != "/livez":
		p.add(o, "livenessProbe on %s would restart pods that drain or lose their database, which a restart does not help: use /livez", lp.HTTPGet.Path)
	case lp.HTTPGet != nil:
		if _, ok := containerPort(c, lp.HTTPGet.Port); !ok {
			p.add(o, "livenessProbe port %s is not a port of container %s", lp.HTTPGet.Port.String(), c.Name)
		}
	}

	// The grace period must cover the preStop hook and the whole
	// shutdown, or Kubernetes kills plaza in the middle of its drain.
	shutdown, okS := duration(p, o, set, "shutdown-timeout", defaultShutdownTimeout)
	drain, okD := duration(p, o, set, "drain-window", defaultDrainWindow)
	if okS && okD {
		if drain >= shutdown {
			p.add(o, "--drain-window %v must be less than --shutdown-timeout %v", drain, shutdown)
		}
		var preStop time.Duration
		if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
			switch h := c.Lifecycle.PreStop; {
			case h.Sleep != nil:
				preStop = time.Duration(h.Sleep.Seconds) * time.Second
			case h.Exec != nil || h.HTTPGet != nil:
				p.add(o, "preStop must be a sleep: the image has no shell, and the checker cannot bound other hooks")
			}
		}
		grace := 30 * time.Second // Kubernetes' default
		if pod.TerminationGracePeriodSeconds != nil {
			grace = time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
		}
		if need := preStop + shutdown; grace <= need {
			p.add(o, "terminationGracePeriodSeconds %v must exceed the preStop sleep %v plus --shutdown-timeout %v (which holds --drain-window %v)", grace, preStop, shutdown, drain)
		}
	}

	// Several pods must share one database, bus, media store and key.
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	if replicas > 1 {
		shared := []struct{ flag, local, why string }{
			{"db", "sqlite:", "each pod would have its own SQLite database"},
			{"bus", "local", "pods would not see each other's events"},
			{"media", "file:", "each pod would keep its own media"},
			{"secret-key-file", "", "each pod would generate its own identity key"},
		}
		for _, s := range shared {
			v, ok := set[s.flag]
			switch {
			case !ok:
				p.add(o, "%d replicas need --%s set (from a Secret or args): %s", replicas, s.flag, s.why)
			case s.local != "" && !v.secret && strings.HasPrefix(v.value, s.local):
				p.add(o, "%d replicas with --%s %q: %s", replicas, s.flag, v.value, s.why)
			}
		}
	}

	// With a read-only root, the data directory must be a volume.
	data := "plaza-data" // plaza's default, relative to the working directory
	if v, ok := set["data"]; ok {
		data = v.value
	}
	if !mounted(c, data) {
		p.add(o, "--data %q is not on a volumeMount of container %s", data, c.Name)
	}
}

// checkMigrate requires an init container that runs plaza migrate up on
// the server's database with the server's image. Migrations then run to
// completion before the server starts, however long they take; run by
// serve, a long one would outlast the startup probe and be killed and
// restarted forever. Several pods starting at once are safe: an advisory
// lock lets one migrate while the others wait.
func checkMigrate(p *problems, o object, pod corev1.PodSpec, c *corev1.Container, set map[string]setting, configMaps map[string]*corev1.ConfigMap, known knownFlags) {
	var m *corev1.Container
	for i := range pod.InitContainers {
		if pod.InitContainers[i].Name == migrateContainer {
			m = &pod.InitContainers[i]
		}
	}
	if m == nil {
		p.add(o, "no initContainer named %s running migrate up: serve would migrate within the startup probe's window, which kills a long migration and starts it again, forever", migrateContainer)
		return
	}
	if m.Image != c.Image {
		p.add(o, "initContainer %s runs image %q, container %s %q: the schema must be the one the server's binary expects", m.Name, m.Image, c.Name, c.Image)
	}
	if m.RestartPolicy != nil {
		p.add(o, "initContainer %s sets restartPolicy, making it a sidecar that does not finish before the server starts", m.Name)
	}
	mset, errs := containerSettings(*m, configMaps, known, "migrate")
	for _, err := range errs {
		p.add(o, "initContainer %s: %v", m.Name, err)
	}
	if len(errs) > 0 {
		return
	}
	same := func(flag string) bool {
		a, okA := set[flag]
		b, okB := mset[flag]
		return okA == okB && a.value == b.value && a.secret == b.secret && a.ref == b.ref
	}
	if !same("db") {
		p.add(o, "initContainer %s and container %s take --db from different places (%s, %s): migrate the server's database", m.Name, c.Name, describe(mset, "db"), describe(set, "db"))
	}
	if _, ok := set["db"]; !ok {
		// The database is SQLite in the data directory.
		if !same("data") {
			p.add(o, "initContainer %s and container %s use different --data (%s, %s): migrate the server's database", m.Name, c.Name, describe(mset, "data"), describe(set, "data"))
		}
	}
}

// describe says where a flag's value comes from, for messages.
func describe(set map[string]setting, flag string) string {
	v, ok := set[flag]
	switch {
	case !ok:
		return "not set"
	case v.secret:
		return v.from
	}
	return fmt.Sprintf("%q from %s", v.value, v.from)
}

// checkTrustedProxies refuses to believe X-Forwarded-For from a whole
// private range: any pod or VPC client in it could claim any address and
// escape the per-address rate limits. Only the ingress controller's pods
// should be listed. IPv4 prefixes shorter than /16 (and the /16 of
// 192.168.0.0, all of that RFC 1918 range) and IPv6 ones shorter than /48
// are too broad for that.
func checkTrustedProxies(p *problems, o object, set map[string]setting) {
	v, ok := set["trusted-proxies"]
	if !ok || v.secret {
		return
	}
	for _, s := range strings.Split(v.value, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			p.add(o, "--trusted-proxies (%s): %v", v.from, err)
			continue
		}
		pfx = pfx.Masked()
		addr, bits := pfx.Addr(), pfx.Bits()
		if addr.Is4In6() && bits >= 96 {
			addr, bits = addr.Unmap(), bits-96
		}
		broad := false
		switch {
		case addr.Is4():
			broad = bits < 16 || (bits == 16 && addr == netip.MustParseAddr("192.168.0.0"))
		default:
			broad = bits < 48
		}
		if broad {
			p.add(o, "--trusted-proxies (%s) trusts X-Forwarded-For from all of %s: any pod or VPC client there could claim any address and escape per-address rate limits; list only the ingress controller pods' CIDR (IPv4 /16 or longer, IPv6 /48 or longer)", v.from, s)
		}
	}
}

// checkMemoryLimit: GOMEMLIMIT must sit below the container's memory
// limit, so the Go runtime collects garbage harder before the kernel
// kills the process. Taken whole from limits.memory it equals the limit,
// and with a divisor it is a bare count that Go reads as bytes.
func checkMemoryLimit(p *problems, o object, c *corev1.Container) {
	limit, ok := c.Resources.Limits[corev1.ResourceMemory]
	if !ok || limit.Sign() <= 0 {
		return
	}
	suggest := fmt.Sprintf("e.g. %dMiB, about 90 %% of %s", limit.Value()*9/10>>20, limit.String())
	for _, e := range c.Env {
		if e.Name != "GOMEMLIMIT" {
			continue
		}
		switch {
		case e.ValueFrom != nil && e.ValueFrom.ResourceFieldRef != nil && e.ValueFrom.ResourceFieldRef.Resource == "limits.memory":
			p.add(o, "container %s: GOMEMLIMIT from limits.memory is the limit itself, or with a divisor a number Go reads as bytes: give a value below the limit (%s)", c.Name, suggest)
		case e.ValueFrom != nil:
			// Another source: its value is not known here.
		case e.Value == "off":
		default:
			n, err := goByteCount(e.Value)
			switch {
			case err != nil:
				p.add(o, "container %s: GOMEMLIMIT %q: %v", c.Name, e.Value, err)
			case n >= limit.Value():
				p.add(o, "container %s: GOMEMLIMIT %s is not below limits.memory %s: give a value below the limit (%s)", c.Name, e.Value, limit.String(), suggest)
			}
		}
	}
}

// goByteCount parses a byte count as the Go runtime reads GOMEMLIMIT: a
// number with an optional unit, B, KiB, MiB, GiB or TiB. Kubernetes'
// units (Mi, M) are not among them: Go would refuse to start.
func goByteCount(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("not a byte count the Go runtime reads (a number with B, KiB, MiB, GiB or TiB, e.g. 920MiB)")
	}
	return n * mult, nil
}

// duration returns a duration flag's value, or def when not set.
func duration(p *problems, o object, set map[string]setting, flag string, def time.Duration) (time.Duration, bool) {
	v, ok := set[flag]
	switch {
	case !ok:
		return def, true
	case v.secret:
		p.add(o, "--%s comes from %s: give it in args, where the grace period can be checked against it", flag, v.from)
		return 0, false
	}
	d, err := time.ParseDuration(v.value)
	if err != nil {
		p.add(o, "--%s %q: %v", flag, v.value, err)
		return 0, false
	}
	return d, true
}

func checkContainerSecurity(p *problems, o object, c *corev1.Container, podNonRoot bool, podSC *corev1.PodSecurityContext) {
	sc := c.SecurityContext
	nonRoot := podNonRoot
	if sc != nil && sc.RunAsNonRoot != nil {
		nonRoot = *sc.RunAsNonRoot
	}
	if !nonRoot {
		p.add(o, "container %s: set runAsNonRoot: true (pod or container securityContext)", c.Name)
	}
	uid := (*int64)(nil)
	if podSC != nil {
		uid = podSC.RunAsUser
	}
	if sc != nil && sc.RunAsUser != nil {
		uid = sc.RunAsUser
	}
	if uid != nil && *uid == 0 {
		p.add(o, "container %s runs as user 0", c.Name)
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		p.add(o, "container %s: set securityContext.allowPrivilegeEscalation: false", c.Name)
	}
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		p.add(o, "container %s: set securityContext.readOnlyRootFilesystem: true (plaza writes only to --data)", c.Name)
	}
	r := c.Resources
	for _, need := range []struct {
		list corev1.ResourceList
		what string
		name corev1.ResourceName
	}{
		{r.Requests, "requests", corev1.ResourceCPU},
		{r.Requests, "requests", corev1.ResourceMemory},
		{r.Limits, "limits", corev1.ResourceMemory},
	} {
		if q, ok := need.list[need.name]; !ok || q.Sign() <= 0 {
			p.add(o, "container %s: set resources.%s.%s", c.Name, need.what, need.name)
		}
	}
}

// containerPort resolves a probe's or Service's port against a
// container's named and numbered ports.
func containerPort(c *corev1.Container, port intstr.IntOrString) (int32, bool) {
	for _, cp := range c.Ports {
		if (port.Type == intstr.String && cp.Name == port.StrVal) || (port.Type == intstr.Int && cp.ContainerPort == port.IntVal) {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

func hasPort(c *corev1.Container, n int32) bool {
	_, ok := containerPort(c, intstr.FromInt32(n))
	return ok
}

// mounted reports whether path is at or under one of c's volume mounts.
func mounted(c *corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		mp := strings.TrimSuffix(m.MountPath, "/")
		if !m.ReadOnly && (path == mp || strings.HasPrefix(path, mp+"/")) {
			return true
		}
	}
	return false
}

// selects returns the Deployments whose pods a selector picks.
func selects(sel labels.Selector, deployments []object) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, o := range deployments {
		d := o.value.(*appsv1.Deployment)
		if !sel.Empty() && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			out = append(out, d)
		}
	}
	return out
}

func checkService(p *problems, o object, s *corev1.Service, deployments []object) {
	ds := selects(labels.SelectorFromSet(s.Spec.Selector), deployments)
	if len(ds) == 0 {
		p.add(o, "selector %v picks the pods of no Deployment", s.Spec.Selector)
		return
	}
	for _, port := range s.Spec.Ports {
		target := port.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 {
			target = intstr.FromInt32(port.Port) // Kubernetes' default
		}
		for _, d := range ds {
			found := false
			for i := range d.Spec.Template.Spec.Containers {
				if _, ok := containerPort(&d.Spec.Template.Spec.Containers[i], target); ok {
					found = true
				}
			}
			if !found {
				p.add(o, "port %d targets %s, which no container of Deployment %s declares", port.Port, target.String(), d.Name)
			}
		}
	}
}

func checkIngress(p *problems, o object, ing *networkingv1.Ingress, services map[string]*corev1.Service) {
	a := ing.Annotations
	for _, key := range []string{"proxy-read-timeout", "proxy-send-timeout"} {
		v, ok := a[nginx+key]
		n, err := strconv.Atoi(v)
		switch {
		case !ok:
			p.add(o, "annotation %s%s is missing: event streams (WebSockets) need %d seconds or more", nginx, key, streamTimeout)
		case err != nil || n < streamTimeout:
			p.add(o, "annotation %s%s is %q: event streams (WebSockets) need %d seconds or more", nginx, key, v, streamTimeout)
		}
	}
	if v, ok := a[nginx+"proxy-body-size"]; !ok {
		p.add(o, "annotation %sproxy-body-size is missing: nginx's 1m default refuses most media uploads", nginx)
	} else if n, err := nginxSize(v); err != nil {
		p.add(o, "annotation %sproxy-body-size %q: %v", nginx, v, err)
	} else if n != 0 && n < maxUpload {
		p.add(o, "annotation %sproxy-body-size %q is less than the largest upload, %d MiB", nginx, v, maxUpload>>20)
	}
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, path := range r.HTTP.Paths {
			b := path.Backend.Service
			if b == nil {
				p.add(o, "path %s has no service backend", path.Path)
				continue
			}
			svc, ok := services[b.Name]
			if !ok {
				p.add(o, "path %s goes to Service %s, which the manifests do not define", path.Path, b.Name)
				continue
			}
			if !servicePort(svc, b.Port) {
				p.add(o, "path %s goes to port %v of Service %s, which it does not have", path.Path, backendPort(b.Port), b.Name)
			}
		}
	}
}

// nginxSize parses an nginx size such as 210m, 1g or 0 (no limit).
func nginxSize(v string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(v, "k") || strings.HasSuffix(v, "K"):
		mult, v = 1<<10, v[:len(v)-1]
	case strings.HasSuffix(v, "m") || strings.HasSuffix(v, "M"):
		mult, v = 1<<20, v[:len(v)-1]
	case strings.HasSuffix(v, "g") || strings.HasSuffix(v, "G"):
		mult, v = 1<<30, v[:len(v)-1]
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not an nginx size (e.g. 210m)")
	}
	return n * mult, nil
}

func servicePort(s *corev1.Service, port networkingv1.ServiceBackendPort) bool {
	for _, sp := range s.Spec.Ports {
		if (port.Name != "" && sp.Name == port.Name) || (port.Name == "" && sp.Port == port.Number) {
			return true
		}
	}
	return false
}

func backendPort(port networkingv1.ServiceBackendPort) string {
	if port.Name != "" {
		return port.Name
	}
	return strconv.Itoa(int(port.Number))
}

func checkPDB(p *problems, o object, pdb *policyv1.PodDisruptionBudget, deployments []object) {
	if pdb.Spec.Selector == nil {
		p.add(o, "spec.selector is missing")
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		p.add(o, "spec.selector: %v", err)
		return
	}
	if len(selects(sel, deployments)) == 0 {
		p.add(o, "selector picks the pods of no Deployment")
	}
	if pdb.Spec.MinAvailable == nil && pdb.Spec.MaxUnavailable == nil {
		p.add(o, "set maxUnavailable (or minAvailable)")
	}
}
