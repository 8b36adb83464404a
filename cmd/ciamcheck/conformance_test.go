package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/suites/conformance"
)

func TestConformanceListLabels(t *testing.T) {
	out, _, err := runCLI("conformance", "--list-labels")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(out)
	want := conformance.LabelVocabulary()
	if len(want) == 0 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("--list-labels printed %q, want %q", got, want)
	}
	for _, l := range []string{"flow:signup", "method:password", "slow"} {
		if !strings.Contains(out, l+"\n") {
			t.Errorf("--list-labels lacks %q", l)
		}
	}
}

func TestConformanceBadLabelFilter(t *testing.T) {
	_, _, err := runCLI("conformance", "--label-filter", "flow:signup &&")
	if exitCode(err) != 2 {
		t.Fatalf("err = %v, want exit code 2", err)
	}
}

// TestConformanceRun runs a slice of the suite from the CLI against the
// embedded emulator (Ginkgo runs once per process, so only this test runs
// specs) and checks the exit status and the record.
func TestConformanceRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run.json")
	junit := filepath.Join(dir, "junit.xml")
	stdout, _, err := runCLI("conformance", "--label-filter", "flow:sspr && !needs:tenant-sspr-disabled", "--focus", "sspr", "--out", out, "--junit-report", junit)
	if err != nil {
		t.Fatalf("conformance failed: %v\n%s", err, stdout)
	}
	rec := readRecord(t, out)
	if rec.Kind != reports.KindConformance || rec.Tool.Name != "ciamcheck" || rec.Target.Kind != "emulator" || rec.Target.ProfileHash == "" {
		t.Errorf("record metadata = %+v %+v", rec.Tool, rec.Target)
	}
	// A partial run says what selected it.
	if rec.Conformance.LabelFilter != "flow:sspr && !needs:tenant-sspr-disabled" || !slices.Equal(rec.Conformance.Focus, []string{"sspr"}) {
		t.Errorf("record selection: label filter %q, focus %q", rec.Conformance.LabelFilter, rec.Conformance.Focus)
	}
	s := conformance.Summarize(*rec)
	if s.Passed == 0 || s.Failed != 0 {
		t.Errorf("summary %+v, want some passed and none failed", s)
	}
	if s.Passed+s.Failed+s.Skipped != len(conformance.Entries()) {
		t.Errorf("record has %d rows, want one per catalog entry", s.Passed+s.Failed+s.Skipped)
	}
	if !strings.Contains(stdout, "catalog entries:") {
		t.Errorf("no summary line in %q", stdout)
	}
}
