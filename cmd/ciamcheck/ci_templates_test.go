package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

// The files under ci/ (gate pipelines, distributed-load manifests) are
// checked against the commands and types they drive.

// ciCommand is one ciamcheck invocation found under ci/.
type ciCommand struct {
	where string   // file:line
	args  []string // after "ciamcheck"
}

// TestCICommandsParse finds every ciamcheck command line under ci/ — YAML
// run/script steps, container args, example commands in comments, README
// code blocks, shell scripts — and runs cobra's parsing on it (command
// lookup, flags, required flags, positional arguments) without executing
// it, so a renamed flag or command breaks this test and not a user's gate.
func TestCICommandsParse(t *testing.T) {
	var all []ciCommand
	perFile := map[string][]ciCommand{}
	err := filepath.WalkDir("../../ci", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		cmds, err := ciCommands(path, string(raw))
		if err != nil {
			t.Errorf("%s: %v", path, err)
		}
		perFile[path] = cmds
		all = append(all, cmds...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		t.Logf("%s: ciamcheck %s", c.where, strings.Join(c.args, " "))
		if err := parseCommandLine(c.args); err != nil {
			t.Errorf("%s: ciamcheck %s: %v", c.where, strings.Join(c.args, " "), err)
		}
	}
	// Each gate template builds ciamcheck, runs conformance with JUnit and
	// load, and gates on the comparison with main.
	for _, tmpl := range []string{"../../ci/github/ciamcheck-gate.yml", "../../ci/gitlab/ciamcheck-gate.gitlab-ci.yml", "../../ci/azure/ciamcheck-gate.azure-pipelines.yml"} {
		cmds, ok := perFile[tmpl]
		if !ok {
			t.Errorf("%s: missing", tmpl)
			continue
		}
		var words []string
		for _, c := range cmds {
			words = append(words, c.args...)
		}
		for _, want := range []string{"version", "conformance", "--junit-report", "load", "report", "--compare", "--fail-on-regression", "--format"} {
			if !slices.Contains(words, want) {
				t.Errorf("%s: no ciamcheck command uses %q (found %d commands)", tmpl, want, len(cmds))
			}
		}
		raw, _ := os.ReadFile(tmpl)
		for _, bad := range []string{"@latest", "unzip", "continue-on-error: true"} {
			if strings.Contains(string(raw), bad) {
				t.Errorf("%s: contains %q (an install that fails, or a comparison skipped silently)", tmpl, bad)
			}
		}
	}
	if len(all) < 25 {
		t.Errorf("found %d ciamcheck commands under ci/: want at least 25, the extraction no longer finds them", len(all))
	}
}

// parseCommandLine parses args as the CLI would, without running anything.
func parseCommandLine(args []string) error {
	root := newRootCmd()
	cmd, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if cmd == root {
		return fmt.Errorf("no such command %q", args[0])
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return err
	}
	if err := cmd.ValidateArgs(cmd.Flags().Args()); err != nil {
		return err
	}
	if err := cmd.ValidateRequiredFlags(); err != nil {
		return err
	}
	return cmd.ValidateFlagGroups()
}

// ciCommands extracts the ciamcheck commands of one file under ci/.
func ciCommands(path, text string) ([]ciCommand, error) {
	switch ext := filepath.Ext(path); ext {
	case ".yml", ".yaml":
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
			return nil, fmt.Errorf("not YAML: %w", err)
		}
		var out []ciCommand
		walkYAML(&doc, false, func(n *yaml.Node, script bool) {
			block := n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
			line := n.Line
			if block {
				line++ // the text starts below the | or >
			}
			if script || block {
				out = append(out, scriptCommands(path, line, n.Value, block)...)
			}
		}, func(where int, argv []string) {
			out = append(out, ciCommand{where: fmt.Sprintf("%s:%d", path, where), args: argv})
		})
		// Example commands in comments, indented like code ("#   ciamcheck …").
		for i, line := range strings.Split(text, "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "#  "); ok {
				out = append(out, scriptCommands(path, i+1, strings.TrimSpace(rest), false)...)
			}
		}
		return out, nil
	case ".md":
		var out []ciCommand
		in := false
		var block []string
		start := 0
		for i, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				if in {
					out = append(out, scriptCommands(path, start, strings.Join(block, "\n"), true)...)
				}
				in, block, start = !in, nil, i+2
				continue
			}
			if in {
				block = append(block, line)
			}
		}
		return out, nil
	default:
		return scriptCommands(path, 1, text, true), nil
	}
}

// scriptKeys hold shell commands in the CI systems' YAML.
var scriptKeys = map[string]bool{"run": true, "script": true, "before_script": true, "after_script": true, "bash": true, "pwsh": true, "command": true}

// walkYAML calls onScalar for every string scalar, saying whether it sits
// under a script key (run, script, bash steps), and onArgv for a
// container's args whose image is ciamcheck's.
func walkYAML(n *yaml.Node, script bool, onScalar func(n *yaml.Node, script bool), onArgv func(line int, argv []string)) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!str" || n.Tag == "" {
			onScalar(n, script)
		}
	case yaml.MappingNode:
		var image string
		var args *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k, v := n.Content[i].Value, n.Content[i+1]; {
			case k == "image" && v.Kind == yaml.ScalarNode:
				image = v.Value
			case k == "args" && v.Kind == yaml.SequenceNode:
				args = v
			}
		}
		if args != nil && strings.Contains(image, "ciamcheck") {
			var argv []string
			for _, a := range args.Content {
				argv = append(argv, a.Value)
			}
			onArgv(args.Line, argv)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i+1] != args {
				walkYAML(n.Content[i+1], scriptKeys[n.Content[i].Value], onScalar, onArgv)
			}
		}
	default:
		for _, c := range n.Content {
			walkYAML(c, script, onScalar, onArgv)
		}
	}
}

// commandStart is where a shell command begins: the start of a line or
// after an operator or keyword, then ciamcheck as the command word
// (echo "… ciamcheck …" is text, not a command).
var commandStart = regexp.MustCompile(`(?:^|[;&|(]\s*|\$\(\s*|\b(?:then|do|else)\s+)ciamcheck\s+(.*)$`)

// scriptCommands finds the ciamcheck commands of shell text starting at
// line first. A one-line YAML scalar is a command only if it starts with
// ciamcheck (a display name that mentions ciamcheck is not one).
func scriptCommands(path string, first int, text string, block bool) []ciCommand {
	var out []ciCommand
	for i, line := range commandLines(text) {
		line = strings.TrimSpace(line)
		if !block && !strings.HasPrefix(line, "ciamcheck ") {
			continue
		}
		m := commandStart.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		out = append(out, ciCommand{where: fmt.Sprintf("%s:%d", path, first+i), args: shellArgs(m[1])})
	}
	return out
}

// shellArgs splits a command's arguments as the shell would (quotes
// removed, variables left as written) up to an operator, redirection or
// comment.
func shellArgs(s string) []string {
	var out []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		case strings.IndexByte("|;&<>#`)", c) >= 0 && !(c == '#' && inWord) && !(c == ')' && strings.Contains(cur.String(), "$(")):
			if inWord {
				out = append(out, cur.String())
			}
			return out
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

func TestShellArgs(t *testing.T) {
	tests := []struct{ in, want string }{
		{`report "records/$kind.json" --format html --out "records/$kind.html"`, "report|records/$kind.json|--format|html|--out|records/$kind.html"},
		{`conformance --label-filter '!slow' --out a.json >> "$GITHUB_STEP_SUMMARY"`, "conformance|--label-filter|!slow|--out|a.json"},
		{`load --plan smoke # every flow`, "load|--plan|smoke"},
		{`load --out=/results/load-$(JOB_COMPLETION_INDEX).json && echo done`, "load|--out=/results/load-$(JOB_COMPLETION_INDEX).json"},
		{`version; echo`, "version"},
	}
	for _, tc := range tests {
		if got := strings.Join(shellArgs(tc.in), "|"); got != tc.want {
			t.Errorf("shellArgs(%q): want %q, got %q", tc.in, tc.want, got)
		}
	}
}

// The check must fail for what it is there to catch.
func TestParseCommandLineRefuses(t *testing.T) {
	for _, args := range [][]string{
		{"report", "run.json", "--fail-on-regresion"},
		{"conformance", "--junit", "j.xml"},
		{"lode", "--plan", "smoke"},
		{"report", "merge", "a.json", "b.json"}, // --out is required
		{"version", "extra"},
	} {
		if err := parseCommandLine(args); err == nil {
			t.Errorf("ciamcheck %s: want a parse error", strings.Join(args, " "))
		}
	}
	for _, args := range [][]string{
		{"report", "run.json", "--compare", "old.json", "--fail-on-regression"},
		{"load", "--target=/config/profile.yaml", "--plan", "$LOAD_PLAN"},
		{"report", "merge", "a.json", "b.json", "--out", "m.json"},
	} {
		if err := parseCommandLine(args); err != nil {
			t.Errorf("ciamcheck %s: %v", strings.Join(args, " "), err)
		}
	}
	cmds := scriptCommands("x", 1, "echo \"no ciamcheck run on main\"\nif [ -f a ]; then ciamcheck report a.json --bogus\nfi\n  ciamcheck load \\\n   --plan smoke", true)
	if len(cmds) != 2 || cmds[0].args[0] != "report" || strings.Join(cmds[1].args, " ") != "load --plan smoke" {
		t.Errorf("scriptCommands: want the report and the continued load command, got %+v", cmds)
	}
}

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
