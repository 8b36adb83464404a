package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/reports"
)

func TestToolFrom(t *testing.T) {
	commit := time.Date(2026, 11, 29, 17, 0, 0, 0, time.UTC)
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "abc1234def5678"},
		{Key: "vcs.time", Value: commit.Format(time.RFC3339)},
		{Key: "vcs.modified", Value: "true"},
	}
	tests := []struct {
		name    string
		bi      *debug.BuildInfo
		ldflags string
		want    reports.Tool
	}{
		{"no build information", nil, "dev", reports.Tool{Version: "dev"}},
		{"checkout build: (devel) is no version", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs}, "dev",
			reports.Tool{Version: "dev", Revision: "abc1234def5678", Dirty: true, RevisionTime: commit}},
		{"go install: the module version", &debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}}, "dev", reports.Tool{Version: "v0.3.0"}},
		{"ldflags version wins", &debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}, Settings: vcs}, "v0.4.0-rc1",
			reports.Tool{Version: "v0.4.0-rc1", Revision: "abc1234def5678", Dirty: true, RevisionTime: commit}},
		{"clean tree, unparsable time", &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "ffff"}, {Key: "vcs.modified", Value: "false"}, {Key: "vcs.time", Value: "yesterday"}}}, "dev",
			reports.Tool{Version: "dev", Revision: "ffff"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := toolFrom(tc.bi, tc.ldflags)
			got.GoVersion = "" // the toolchain's, checked below
			tc.want.Name = "ciamcheck"
			if got != tc.want {
				t.Errorf("toolFrom = %+v, want %+v", got, tc.want)
			}
		})
	}
	if got := toolFrom(&debug.BuildInfo{GoVersion: "go1.26.1"}, "dev"); got.GoVersion != "go1.26.1" {
		t.Errorf("go_version: want go1.26.1, got %q", got.GoVersion)
	}
}

func TestVersionLine(t *testing.T) {
	tests := []struct {
		tool reports.Tool
		want []string
		not  []string
	}{
		{reports.Tool{Name: "ciamcheck", Version: "dev", GoVersion: "go1.26.0", Revision: "abc1234def5678", Dirty: true, RevisionTime: time.Date(2026, 11, 29, 17, 0, 0, 0, time.UTC)},
			[]string{"ciamcheck dev (rev abc1234, dirty), commit of 2026-11-29T17:00:00Z, go1.26.0 "}, []string{"abc1234d", "no VCS revision"}},
		{reports.Tool{Name: "ciamcheck", Version: "v0.3.0", GoVersion: "go1.26.0", Revision: "abc1234def5678"},
			[]string{"ciamcheck v0.3.0 (rev abc1234), go1.26.0 "}, []string{"dirty"}},
		{reports.Tool{Name: "ciamcheck", Version: "dev", GoVersion: "go1.26.0"},
			[]string{"ciamcheck dev (no VCS revision"}, []string{"rev "}},
	}
	for _, tc := range tests {
		got := versionLine(tc.tool)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("version line: want %q in it, got %q", w, got)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("version line: want no %q, got %q", n, got)
			}
		}
	}
}

// A binary built from a git checkout names its commit and dirty state in
// `ciamcheck version` and in the records it writes. The source tree is
// copied into a fresh repository (the go command does not stamp builds in a
// git worktree, and the copy has a known commit and dirty state whatever
// the developer's tree has).
func TestBuiltBinaryCarriesRevision(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ciamcheck")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	src, err := exec.Command("git", "-C", "../..", "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	repo := copyCheckout(t, strings.Split(strings.TrimSpace(string(src)), "\n"))
	gitIn(t, repo, "init", "-q")
	gitIn(t, repo, "add", "-A")
	gitIn(t, repo, "commit", "-q", "-m", "snapshot")
	rev := gitIn(t, repo, "rev-parse", "HEAD")

	clean := buildCiamcheck(t, repo, "clean")
	if err := os.WriteFile(filepath.Join(repo, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dirty := buildCiamcheck(t, repo, "dirty")

	for bin, wantDirty := range map[string]bool{clean: false, dirty: true} {
		out, err := exec.Command(bin, "version").Output()
		if err != nil {
			t.Fatalf("ciamcheck version: %v", err)
		}
		if want := "(rev " + rev[:7]; !strings.Contains(string(out), want) {
			t.Errorf("ciamcheck version: want %q in it, got %q", want, out)
		}
		if got := strings.Contains(string(out), ", dirty)"); got != wantDirty {
			t.Errorf("ciamcheck version: dirty: want %v, got %q", wantDirty, out)
		}
	}

	checkRecordRevision(t, dirty, rev)
}

// copyCheckout copies the files of this checkout (paths from its root)
// into a new folder and returns it.
func copyCheckout(t *testing.T, files []string) string {
	t.Helper()
	repo := t.TempDir()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("../..", f))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the working tree
		} else if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(repo, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return repo
}

// gitIn runs git in repo as a test user and returns its output.
func gitIn(t *testing.T, repo string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = repo
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// buildCiamcheck builds ciamcheck from repo with its VCS stamp, as name.
func buildCiamcheck(t *testing.T, repo, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	// -buildvcs=true on the command line overrides GOFLAGS=-buildvcs=false.
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=true", "-o", bin, "./cmd/ciamcheck")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// checkRecordRevision runs a load with the dirty binary bin and asserts
// its record names revision rev, dirty, with a time.
func checkRecordRevision(t *testing.T, bin, rev string) {
	t.Helper()
	record := filepath.Join(t.TempDir(), "load.json")
	cmd := exec.Command(bin, "load", "--plan", writePlan(t, []string{"signup-password"}), "--out", record, "-q")
	cmd.Env = append(os.Environ(), reports.RecordKeyEnv+"=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ciamcheck load: %v\n%s", err, out)
	}
	rec := readRecord(t, record)
	if rec.Tool.Revision != rev || !rec.Tool.Dirty || rec.Tool.RevisionTime.IsZero() {
		t.Errorf("record tool: want revision %s, dirty, with a time; got %+v", rev, rec.Tool)
	}
	raw, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"revision": "` + rev + `"`, `"dirty": true`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("record JSON: want %s in it", want)
		}
	}
}
