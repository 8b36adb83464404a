package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/suites/conformance"
)

func init() { subcommands = append(subcommands, newConformanceCmd) }

// conformanceFlags are the flags of `ciamcheck conformance`.
type conformanceFlags struct {
	target      string
	labelFilter string
	focus       string
	junit       string
	out         string
	listLabels  bool
	verbose     bool
	timeout     time.Duration
}

func newConformanceCmd() *cobra.Command {
	var f conformanceFlags
	cmd := &cobra.Command{
		Use:   "conformance",
		Short: "Check a tenant (or the embedded emulator) against every documented behaviour",
		Long: `conformance runs one spec per catalog entry of documented behaviour of the
native authentication API, plus the documented flows end to end, and writes a
run record listing every entry as passed, failed or skipped with the reason.

With no --target it starts the embedded emulator on a loopback port. A case
the target cannot reach (no disabled client, no clock backdoor) is skipped
with the reason, never passed.

Exit status: 0 every entry that ran passed; 1 an entry failed (the target
deviates); 2 could not judge (a flag or profile error, the target could not
be reached or set up, a filter that selects nothing).`,
		Example: `  ciamcheck conformance
  ciamcheck conformance --out run.json --junit-report junit.xml
  ciamcheck conformance --target staging.yaml --label-filter 'flow:signup && !slow'
  ciamcheck conformance --list-labels`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.listLabels {
				return listLabels(cmd.OutOrStdout())
			}
			return runConformance(cmd.Context(), cmd.OutOrStdout(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.target, "target", "", "target profile YAML (default: the embedded emulator)")
	fl.StringVar(&f.labelFilter, "label-filter", "", "Ginkgo label filter, e.g. 'flow:signup && !needs:backdoor' (see --list-labels)")
	fl.StringVar(&f.focus, "focus", "", "run only specs whose text matches this regular expression (e.g. a catalog ID)")
	fl.StringVar(&f.junit, "junit-report", "", "write a JUnit XML report to this file")
	fl.StringVar(&f.out, "out", "", "write the run record (JSON) to this file")
	fl.BoolVar(&f.listLabels, "list-labels", false, "print the label vocabulary and exit")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "print every spec as it runs")
	fl.DurationVar(&f.timeout, "timeout", time.Hour, "bound on the whole run")
	return cmd
}

// preflight reads the profile at path and checks its target can be judged
// (profile.Target.Preflight); the embedded emulator (no path) always can.
func preflight(ctx context.Context, path string) error {
	if path == "" {
		return nil
	}
	p, err := profile.Load(path)
	if err != nil {
		return err
	}
	tgt, err := profile.Open(ctx, p)
	if err != nil {
		return err
	}
	defer tgt.Close()
	return tgt.Preflight(ctx)
}

// writeJUnit writes the JUnit XML of rec to path.
func writeJUnit(path string, rec *reports.Record) error {
	var b bytes.Buffer
	if err := reports.RenderJUnit(&b, rec); err != nil {
		return err
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("JUnit report: %w", err)
	}
	return nil
}

func listLabels(w io.Writer) error {
	for _, l := range conformance.LabelVocabulary() {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// colorTerminal says whether w is a terminal that wants colours: not a
// pipe or a file, not CI=true, and NO_COLOR unset (no-color.org).
func colorTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && !strings.EqualFold(os.Getenv("CI"), "true") && os.Getenv("NO_COLOR") == ""
}

func runConformance(ctx context.Context, w io.Writer, f conformanceFlags) error {
	// A profile that cannot be read, or a target that cannot be judged, is
	// refused before any spec exists: it is "could not judge", not 138
	// failed entries.
	if err := preflight(ctx, f.target); err != nil {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("conformance: %w", err)}
	}
	if err := reports.CheckSealKeys(); f.out != "" && err != nil {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("conformance: %w", err)}
	}
	opts := conformance.Options{
		Config: conformance.Config{
			ProfilePath: f.target,
			Out:         f.out,
			Tool:        tool(),
		},
		LabelFilter: f.labelFilter,
		FocusString: f.focus,
		Verbose:     f.verbose,
		Progress:    w,
		NoColor:     !colorTerminal(w),
		Timeout:     f.timeout,
	}
	target := "the embedded emulator"
	if f.target != "" {
		target = f.target
	}
	fmt.Fprintf(w, "conformance: target %s\n", target)
	rec, _, err := conformance.Run(opts)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("conformance: %w", err)}
	}
	// One JUnit: rendered from the record, as report --format junit does.
	if f.junit != "" {
		if err := writeJUnit(f.junit, &rec); err != nil {
			return &exitError{code: exitCouldNotRun, err: fmt.Errorf("conformance: %w", err)}
		}
	}
	s := conformance.Summarize(rec)
	fmt.Fprintf(w, "\nconformance: %d catalog entries: %d passed, %d failed, %d skipped\n", s.Passed+s.Failed+s.Skipped, s.Passed, s.Failed, s.Skipped)
	verdict := reports.Judge(&rec)
	if ids := conformance.FailedIDs(rec); len(ids) > 0 && verdict.Status == reports.StatusFailed {
		fmt.Fprintf(w, "failed: %s\n", strings.Join(ids, ", "))
	}
	for _, p := range []struct{ what, path string }{{"run record", f.out}, {"JUnit", f.junit}} {
		if p.path != "" {
			fmt.Fprintf(w, "%s: %s\n", p.what, p.path)
		}
	}
	switch verdict.Status {
	case reports.StatusNotJudged:
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("conformance: no verdict: %s", verdict.Reason)}
	case reports.StatusFailed:
		return &exitError{code: exitFailed, err: errors.New("conformance: the target deviates from the documented behaviour")}
	}
	return nil
}
