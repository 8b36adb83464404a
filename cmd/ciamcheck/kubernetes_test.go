package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

var yamlDocSep = regexp.MustCompile(`(?m)^---\s*$`)

// TestKubernetesManifests decodes every manifest under ci/kubernetes
// strictly into the Kubernetes API types, so a misspelt or misplaced field
// fails here rather than on a cluster, and checks that a load Job runs as
// the recipe says: Indexed, one segment per pod, a start time, records on
// stdout, fsGroup set, and arguments the load command accepts.
func TestKubernetesManifests(t *testing.T) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{batchv1.AddToScheme, corev1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	files, err := filepath.Glob("../../ci/kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests under ci/kubernetes: %v", err)
	}
	jobs := 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range yamlDocSep.Split(string(raw), -1) {
			if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(doc, "")) == "" {
				continue
			}
			where := filepath.Base(file) + " document " + string(rune('1'+i))
			// Strict: unknown, duplicate and wrongly cased fields fail, as
			// kubectl apply --validate=strict refuses them.
			obj, _, err := decoder.Decode([]byte(doc), nil, nil)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			if job, ok := obj.(*batchv1.Job); ok {
				jobs++
				checkLoadJob(t, where, job)
			}
		}
	}
	if jobs == 0 {
		t.Fatal("no Job among the manifests")
	}
}

func checkLoadJob(t *testing.T, where string, job *batchv1.Job) {
	t.Helper()
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("%s: completionMode: want Indexed", where)
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions != *s.Parallelism {
		t.Fatalf("%s: completions and parallelism: want equal (every segment at once)", where)
	}
	if s.BackoffLimit == nil || *s.BackoffLimit != 0 {
		t.Errorf("%s: backoffLimit: want 0 (a rerun pod would run its segment twice)", where)
	}
	pod := s.Template.Spec
	if pod.SecurityContext == nil || pod.SecurityContext.FSGroup == nil {
		t.Errorf("%s: securityContext.fsGroup: want set (the non-root user writes to volumes)", where)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%s: want one container, got %d", where, len(pod.Containers))
	}
	args := pod.Containers[0].Args
	if len(args) == 0 || args[0] != "load" {
		t.Fatalf("%s: args: want load ..., got %q", where, args)
	}
	cmd := newLoadCmd()
	if err := cmd.ParseFlags(args[1:]); err != nil {
		t.Fatalf("%s: load does not accept the args %q: %v", where, args[1:], err)
	}
	fl := cmd.Flags()
	segments, _ := fl.GetInt("segments")
	if int32(segments) != *s.Completions {
		t.Errorf("%s: --segments: want %d (completions), got %d", where, *s.Completions, segments)
	}
	for _, name := range []string{"start-at", "record-stdout"} {
		if !fl.Changed(name) {
			t.Errorf("%s: want --%s", where, name)
		}
	}
	// Every $(VAR) in the args is defined in the container's env.
	var env []string
	for _, e := range pod.Containers[0].Env {
		env = append(env, e.Name)
	}
	for _, m := range regexp.MustCompile(`\$\(([A-Z0-9_]+)\)`).FindAllStringSubmatch(strings.Join(args, " "), -1) {
		if !slices.Contains(env, m[1]) {
			t.Errorf("%s: args use $(%s), which the container's env does not define", where, m[1])
		}
	}
}
