package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// object is one decoded YAML document of the manifests.
type object struct {
	where string // file#index, for messages
	kind  string // apiVersion/kind
	name  string
	value any // *appsv1.Deployment, *corev1.Service, …
}

func (o object) String() string { return fmt.Sprintf("%s %s (%s)", o.kind, o.name, o.where) }

// kinds are the types Plaza's manifests may use. Anything else is refused:
// a typo in apiVersion or kind would otherwise go unchecked until a
// cluster rejects it.
var kinds = map[string]func() any{
	"apps/v1/Deployment":            func() any { return &appsv1.Deployment{} },
	"v1/Service":                    func() any { return &corev1.Service{} },
	"v1/ConfigMap":                  func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                     func() any { return &corev1.Secret{} },
	"networking.k8s.io/v1/Ingress":  func() any { return &networkingv1.Ingress{} },
	"policy/v1/PodDisruptionBudget": func() any { return &policyv1.PodDisruptionBudget{} },
	kustomizationAPIVersion + "/" + "Kustomization": nil, // decoded on its own, see loadKustomization
}

const (
	kustomizationAPIVersion = "kustomize.config.k8s.io/v1beta1"
	kustomizationFile       = "kustomization.yaml"
)

// loadManifests decodes every YAML document in dir's *.yaml and *.yml
// files (the kustomization aside) strictly: an unknown or misplaced field
// is an error, as are unknown kinds, a missing name, a namespace (the
// manifests leave it to whoever applies them) and a kind/name twice.
func loadManifests(dir string) ([]object, []string, error) {
	files, err := yamlFiles(dir)
	if err != nil {
		return nil, nil, err
	}
	var objs []object
	var errs []error
	seen := map[string]string{}
	for _, name := range files {
		if name == kustomizationFile {
			continue
		}
		docs, err := readDocuments(filepath.Join(dir, name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for i, doc := range docs {
			o, err := decode(doc)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s#%d: %w", name, i+1, err))
				continue
			}
			o.where = fmt.Sprintf("%s#%d", name, i+1)
			id := o.kind + " " + o.name
			if prev, ok := seen[id]; ok {
				errs = append(errs, fmt.Errorf("%s: %s is already defined in %s", o.where, id, prev))
				continue
			}
			seen[id] = o.where
			objs = append(objs, o)
		}
	}
	return objs, files, errors.Join(errs...)
}

// yamlFiles lists dir's YAML files, sorted.
func yamlFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, e.Name())
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s holds no YAML file", dir)
	}
	sort.Strings(files)
	return files, nil
}

// readDocuments splits a file at its "---" lines, dropping documents
// that hold nothing but comments.
func readDocuments(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		if !blank(doc) {
			docs = append(docs, doc)
		}
	}
}

func blank(doc []byte) bool {
	for line := range strings.Lines(string(doc)) {
		if s := strings.TrimSpace(line); s != "" && !strings.HasPrefix(s, "#") {
			return false
		}
	}
	return true
}

// strictUnmarshal decodes a YAML document as the API server does with
// strict field validation: YAML to JSON with duplicate keys refused, then
// JSON into v with field names matched case-sensitively and unknown or
// duplicate fields refused, each error naming the field's path.
func strictUnmarshal(doc []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := sigsjson.UnmarshalStrict(j, v)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// decode reads a document's apiVersion and kind, then decodes it strictly
// into the matching Kubernetes type.
func decode(doc []byte) (object, error) {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return object{}, err
	}
	kind := tm.APIVersion + "/" + tm.Kind
	newValue, ok := kinds[kind]
	if !ok || newValue == nil {
		return object{}, fmt.Errorf("unknown kind %q (apiVersion %q); known: %s", tm.Kind, tm.APIVersion, knownKinds())
	}
	v := newValue()
	if err := strictUnmarshal(doc, v); err != nil {
		return object{}, fmt.Errorf("%s: %w", kind, err)
	}
	meta := v.(metav1.Object)
	o := object{kind: kind, name: meta.GetName(), value: v}
	if o.name == "" {
		return object{}, fmt.Errorf("%s without metadata.name", kind)
	}
	if ns := meta.GetNamespace(); ns != "" {
		return object{}, fmt.Errorf("%s %s sets metadata.namespace %q: leave the namespace to kubectl -n or a kustomize overlay", kind, o.name, ns)
	}
	return o, nil
}

func knownKinds() string {
	var out []string
	for k, v := range kinds {
		if v != nil {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// checkKustomization decodes dir's kustomization strictly, checks that it
// lists every other YAML file of dir and sets no namespace, then builds it
// as kubectl apply -k would and checks that it yields the objects the
// files hold.
func checkKustomization(dir string, files []string, objs []object) error {
	raw, err := os.ReadFile(filepath.Join(dir, kustomizationFile))
	if err != nil {
		return err
	}
	var k types.Kustomization
	if err := strictUnmarshal(raw, &k); err != nil {
		return fmt.Errorf("%s: %w", kustomizationFile, err)
	}
	if k.APIVersion != kustomizationAPIVersion || k.Kind != "Kustomization" {
		return fmt.Errorf("%s: want apiVersion %s and kind Kustomization, got %q %q", kustomizationFile, kustomizationAPIVersion, k.APIVersion, k.Kind)
	}
	var errs []error
	if k.Namespace != "" {
		errs = append(errs, fmt.Errorf("%s sets namespace %q: leave it to an overlay or kubectl -n", kustomizationFile, k.Namespace))
	}
	for _, f := range files {
		if f != kustomizationFile && !slices.Contains(k.Resources, f) {
			errs = append(errs, fmt.Errorf("%s does not list %s in resources", kustomizationFile, f))
		}
	}
	for _, r := range k.Resources {
		if !slices.Contains(files, r) {
			errs = append(errs, fmt.Errorf("%s lists %s, which is not a YAML file of %s", kustomizationFile, r, dir))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	built, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var got, want []string
	for _, r := range built.Resources() {
		got = append(got, r.GetApiVersion()+"/"+r.GetKind()+" "+r.GetName())
	}
	for _, o := range objs {
		want = append(want, o.kind+" "+o.name)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		return fmt.Errorf("kustomize build %s: got objects %v, want those of the files, %v", dir, got, want)
	}
	out, err := built.AsYaml()
	if err != nil {
		return fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	// What kubectl would apply must still decode strictly.
	for i, doc := range bytes.Split(out, []byte("\n---\n")) {
		if _, err := decode(doc); err != nil {
			return fmt.Errorf("kustomize build %s, object %d: %w", dir, i+1, err)
		}
	}
	return nil
}
