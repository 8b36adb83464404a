package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/ciamcheck/ciamcheck/loadgen"
	"github.com/ciamcheck/ciamcheck/profile"
)

// docFiles are the files whose ciamcheck command lines users copy: the
// READMEs and the CI pipelines.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"../../README.md", "../../emulator/README.md"}
	err := filepath.WalkDir("../../ci", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

var commandLine = regexp.MustCompile(`(?:^|[\s/(])ciamcheck ([a-z][a-z-]*)(.*)`)

// TestDocumentedCommandsExist checks every `ciamcheck <command> --flag` in
// the docs and pipelines against the CLI, so a renamed flag cannot leave a
// README or a gate pipeline broken.
func TestDocumentedCommandsExist(t *testing.T) {
	root := newRootCmd()
	checked := 0
	for _, file := range docFiles(t) {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range commandLines(string(raw)) {
			for _, m := range commandLine.FindAllStringSubmatch(line, -1) {
				cmd, _, err := root.Find([]string{m[1]})
				if err != nil || cmd == root {
					if strings.Contains(m[2], " --") {
						t.Errorf("%s:%d: unknown command %q in %q", file, i+1, m[1], line)
					}
					continue
				}
				args := shellWords(m[2])
				if len(args) > 0 { // a subcommand such as report merge, report verify
					if sub, _, err := cmd.Find(args[:1]); err == nil && sub != cmd {
						cmd = sub
					}
				}
				for _, a := range args {
					if !strings.HasPrefix(a, "-") || a == "-" {
						continue
					}
					if name, ok := strings.CutPrefix(a, "--"); ok {
						name, _, _ = strings.Cut(name, "=")
						if cmd.Flags().Lookup(name) == nil && cmd.InheritedFlags().Lookup(name) == nil {
							t.Errorf("%s:%d: ciamcheck %s has no flag --%s", file, i+1, cmd.Name(), name)
						}
					} else if len(a) == 2 && !hasShorthand(cmd, a[1:]) {
						t.Errorf("%s:%d: ciamcheck %s has no flag %s", file, i+1, cmd.Name(), a)
					}
				}
				checked++
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d command lines: the pattern no longer finds them", checked)
	}
}

// commandLines splits text into lines, joining a shell line continued with
// a trailing backslash onto the line it continues (keeping the numbering:
// the continuation's own line becomes empty).
func commandLines(text string) []string {
	lines := strings.Split(text, "\n")
	for i := len(lines) - 2; i >= 0; i-- {
		if strings.HasSuffix(strings.TrimRight(lines[i], " "), "\\") {
			lines[i] = strings.TrimSuffix(strings.TrimRight(lines[i], " "), "\\") + " " + lines[i+1]
			lines[i+1] = ""
		}
	}
	return lines
}

func hasShorthand(cmd *cobra.Command, s string) bool {
	return cmd.Flags().ShorthandLookup(s) != nil || s == "h"
}

// shellWords splits a command line's arguments up to the end of the
// command (a pipe, redirection, comment or the end of a Markdown span).
func shellWords(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		if strings.ContainsAny(w[:1], "|>&;#`\\)") {
			break
		}
		out = append(out, strings.Trim(w, `"'`))
	}
	return out
}

func TestCommandLines(t *testing.T) {
	got := commandLines("a \\\n  b \\\n  c\nd")
	if len(got) != 4 || strings.Join(strings.Fields(got[0]), " ") != "a b c" || got[3] != "d" {
		t.Errorf("commandLines = %q", got)
	}
}

func TestShellWords(t *testing.T) {
	tests := []struct{ in, want string }{
		{" run.json --format html --out r.html", "run.json --format html --out r.html"},
		{" --out x.json | tee log", "--out x.json"},
		{` --label-filter '!slow' >> "$GITHUB_STEP_SUMMARY"`, "--label-filter !slow"},
		{" conformance`   # comment", "conformance`"},
		{" --plan smoke # every flow", "--plan smoke"},
	}
	for _, tc := range tests {
		if got := strings.Join(shellWords(tc.in), " "); got != tc.want {
			t.Errorf("shellWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The shipped pipelines are valid YAML, the profiles load and the plans
// validate.
func TestCIFilesLoad(t *testing.T) {
	for _, file := range docFiles(t) {
		if !strings.HasSuffix(file, ".yml") && !strings.HasSuffix(file, ".yaml") {
			continue
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Errorf("%s: %v", file, err)
		}
		switch filepath.Base(filepath.Dir(file)) {
		case "profiles":
			if strings.HasSuffix(file, "-tenant.yaml") {
				continue // an emulator tenant configuration, loaded through its profile
			}
			if _, err := profile.Load(file); err != nil {
				t.Errorf("profile %s: %v", file, err)
			}
		case "plans":
			if _, err := loadgen.LoadPlan(file); err != nil {
				t.Errorf("plan %s: %v", file, err)
			}
		}
	}
}
