package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ciamcheck/ciamcheck/reports"
)

func init() { subcommands = append(subcommands, newReportCmd) }

type reportFlags struct {
	format           string
	out              string
	compare          string
	failOnRegression bool
	latencyTolerance float64
	errorTolerance   float64
	minLatency       time.Duration
	confidence       float64
	fullReport       string
}

// Exit codes of `ciamcheck report` and `report merge`, the contract of
// every command: 0 judged and passed, 1 judged and failed, 2 could not judge.
const (
	exitRegression = 1 // the record failed, or --fail-on-regression and Compare found one
	exitBadRecord  = 2 // unreadable, invalid or tampered record; records that cannot be merged
)

func newReportCmd() *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report RUN.json",
		Short: "Render a run record as text, Markdown, HTML, JUnit or JSON, and compare it with a previous run",
		Long: `report reads a run record written by "ciamcheck conformance" or "ciamcheck load"
and renders it. It never re-runs anything.

It judges the record as the command that wrote it did, with the same code:
a conformance run fails when a catalog entry failed; a load run fails when
a threshold of its plan fails on the record's data (the record carries the
thresholds; a merged record's are evaluated on the merged data), a
measurement check failed, or the run was aborted.
Exit status: 0 the record passed (and, with --fail-on-regression, did not
regress); 1 it failed or regressed; 2 it could not be judged (unreadable,
invalid or tampered record, or thresholds this version cannot evaluate).

The record's seal is checked on reading: a record modified after it was
written is refused (exit 2). A plain SHA-256 digest detects accidents only
(anyone can recompute it) and reads "digest only — not evidence". If
CIAMCHECK_RECORD_KEY is set, records are verified (and, by "report merge",
signed) with HMAC-SHA256 under that key, and a record that is unsealed or
only carries a digest is refused (exit 2). Ed25519-signed records and audit
bundles are checked by "report verify --key KEY.pub" (see report bundle).

With --compare, the previous record is read too and what changed is added
to the report (text, Markdown and HTML; JUnit and JSON print it on stderr);
the HTML report draws the previous run's load figures, dashed, on the same
charts. Markdown is made for a pull-request comment: verdict, regressions
and failures first, cut to stay under GitHub's limit, and --full-report
names where the whole HTML report is.
Conformance: entries that now fail, are fixed, newly skipped, added or
removed. Load: per scenario and step, the response-time p50 and p99 (from the
intended start, from the decoded histograms) and the error rate of both runs.

A load step regresses when its p50 or p99 rose by more than
--latency-tolerance (relative, 0.1 = 10%) AND by at least --min-latency
(absolute, so 40µs → 60µs is not a regression), or when its error rate rose
by more than --error-tolerance (absolute, 0.01 = one percentage point).
Each change is judged with its uncertainty: the old run's percentile is taken
at the highest and the new run's at the lowest value their samples allow at
--confidence (order-statistic bounds from the histograms; Wilson bounds for
error rates), and only a change beyond the tolerance even then regresses. So
two runs of the same system are called regressed at most 1% of the time per
figure at the default 0.99, and a percentile that too few values cannot bound
(p99 of a 20-iteration smoke run) is reported "not judged".
A conformance run regresses when an entry that did not fail now fails.
--fail-on-regression then exits 1. Setting all four to 0 flags any increase.

Example: the previous p99 of signin-password/token.password was 40ms. With
--latency-tolerance 0.2 --min-latency 5ms, a new p99 whose lower confidence
bound is 47ms passes when the old one's upper bound is 40ms (+17.5%), and one
of 49ms regresses (+22.5%, and 9ms ≥ 5ms).`,
		Example: `  ciamcheck report run.json
  ciamcheck report run.json --format markdown --compare previous.json > comment.md
  ciamcheck report run.json --format html --out report.html
  ciamcheck report run.json --format junit --out junit.xml
  ciamcheck report run.json --format html --compare previous.json --out report.html
  ciamcheck report load.json --compare main-load.json --fail-on-regression --latency-tolerance 0.2 --min-latency 5ms --error-tolerance 0.005
  ciamcheck report merge worker1.json worker2.json --out merged.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReport(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "text", "output format: text, markdown, html, junit or json")
	fl.StringVarP(&f.out, "out", "o", "", "write to this file instead of stdout")
	fl.StringVar(&f.compare, "compare", "", "previous run record to compare with")
	fl.BoolVar(&f.failOnRegression, "fail-on-regression", false, "exit 1 when the comparison finds a regression (needs --compare)")
	fl.Float64Var(&f.latencyTolerance, "latency-tolerance", reports.DefaultTolerance.Latency, "allowed relative increase of a load step's response-time p50 or p99 (0.1 = 10%)")
	fl.DurationVar(&f.minLatency, "min-latency", reports.DefaultTolerance.MinLatency, "ignore latency increases smaller than this, whatever the percentage")
	fl.Float64Var(&f.confidence, "confidence", reports.DefaultTolerance.Confidence, "how sure a regression must be, from 0.5 to 0.9999 (0.99: identical runs regress at most 1% of the time per figure)")
	fl.StringVar(&f.fullReport, "full-report", "", "Markdown only: link or path of the full HTML report, named at the end of the comment")
	fl.Float64Var(&f.errorTolerance, "error-tolerance", reports.DefaultTolerance.ErrorRate, "allowed absolute increase of a load step's error rate (0.01 = 1 percentage point)")
	cmd.AddCommand(newReportMergeCmd())
	cmd.AddCommand(newReportCollectCmd())
	cmd.AddCommand(newReportBundleCmd(), newReportVerifyCmd())
	return cmd
}

func newReportMergeCmd() *cobra.Command {
	var out string
	var opts reports.MergeOptions
	cmd := &cobra.Command{
		Use:   "merge RUN.json RUN.json... --out MERGED.json",
		Short: "Merge load records of one plan run on several machines, and judge the whole run",
		Long: `merge combines the load records of one plan run on several machines into one
run record: counters summed, histograms merged exactly (a histogram of
another geometry is refused, never widened or dropped).

It refuses what cannot be one run: a record that is not a load record, or
of another plan, target profile (profile hash) or ciamcheck version, and the
same record given twice (same SHA-256 of its bytes, or same run ID).
Records of execution segments (load --segment i/n) must be of one split
(one n), never the same segment twice, and cover every segment — unless
--allow-partial, which the merged record states. Inputs whose scenarios
began more than 1s apart merge with a warning (see load --start-at). The
merged record lists each input (path, run ID, SHA-256), keeps each input's
measurement checks and abort reason, and carries the plan's thresholds.

The thresholds are then evaluated on the merged data — not per worker:
a p99 or a rate of the whole run is not any worker's — and the verdict is
printed. "ciamcheck report MERGED.json" gives the same verdict.
Exit status: 0 every threshold passed; 1 one failed (or a worker aborted,
or a measurement check failed); 2 could not judge: an input unreadable,
invalid or tampered, or the records cannot be one run.`,
		Example: `  ciamcheck report merge worker1.json worker2.json worker3.json --out merged.json
  ciamcheck report merged.json --format html --out merged.html`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReportMerge(cmd.OutOrStdout(), args, out, opts)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "merged record path (required)")
	cmd.Flags().BoolVar(&opts.AllowPartial, "allow-partial", false, "merge segment records that leave segments missing; the merged record says which")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// readRecordForReport reads a record, turning every failure into exit 2.
func readRecordForReport(path string) (*reports.Record, error) {
	r, err := reports.ReadFile(path)
	if err != nil {
		return nil, badRecord(err)
	}
	return r, nil
}

// badRecord is exit 2 for a record that cannot be read.
func badRecord(err error) error {
	if errors.Is(err, reports.ErrTampered) {
		return &exitError{code: exitBadRecord, err: fmt.Errorf("refusing a tampered record: %w", err)}
	}
	return &exitError{code: exitBadRecord, err: err}
}

func runReport(stdout, stderr io.Writer, path string, f reportFlags) error {
	render, ok := map[string]func(io.Writer, *reports.Record) error{
		"text": reports.RenderText, "markdown": reports.RenderMarkdown, "md": reports.RenderMarkdown,
		"html": reports.RenderHTML, "junit": reports.RenderJUnit, "json": reports.Write,
	}[f.format]
	if !ok {
		return fmt.Errorf("--format %q: want text, markdown, html, junit or json", f.format)
	}
	if f.failOnRegression && f.compare == "" {
		return errors.New("--fail-on-regression needs --compare PREVIOUS.json")
	}
	tol, err := f.tolerance()
	if err != nil {
		return err
	}
	rec, err := readRecordForReport(path)
	if err != nil {
		return err
	}
	var cmp *reports.Comparison
	var prev *reports.Record
	if f.compare != "" {
		prev, err = readRecordForReport(f.compare)
		if err != nil {
			return err
		}
		c := reports.CompareWithTolerance(prev, rec, tol)
		if c.Problem != "" {
			return &exitError{code: exitBadRecord, err: fmt.Errorf("compare %s with %s: %s", f.compare, path, c.Problem)}
		}
		cmp = &c
	}
	var buf bytes.Buffer
	switch f.format {
	case "html":
		err = reports.RenderHTMLWith(&buf, rec, reports.HTMLOptions{Comparison: cmp, Previous: prev})
	case "markdown", "md":
		err = reports.RenderMarkdownWith(&buf, rec, reports.MarkdownOptions{Comparison: cmp, FullReport: f.fullReport})
	default:
		err = render(&buf, rec)
	}
	if err != nil {
		return fmt.Errorf("render %s: %w", path, err)
	}
	if cmp != nil {
		switch f.format {
		case "text":
			buf.WriteString("\n")
			err = reports.RenderComparisonText(&buf, *cmp)
		case "markdown", "md", "html":
		default: // JUnit and JSON have no place for it
			err = reports.RenderComparisonText(stderr, *cmp)
		}
		if err != nil {
			return err
		}
	}
	if f.out == "" {
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	} else if err := writeFileAtomic(f.out, buf.Bytes()); err != nil {
		return err
	}
	return reportStatus(path, reports.Judge(rec), f.failOnRegression && cmp.Regressed(), f.compare)
}

// reportStatus is the exit of report: the record's verdict, and 1 for a
// regression --fail-on-regression asked about.
func reportStatus(path string, verdict reports.Verdict, regressed bool, previous string) error {
	var why []string
	if !verdict.Passed() {
		why = append(why, fmt.Sprintf("%s: %s (%s)", path, verdict.Status, verdict.Reason))
	}
	if regressed {
		why = append(why, fmt.Sprintf("%s regressed against %s", path, previous))
	}
	if len(why) == 0 {
		return nil
	}
	code := verdict.Status.ExitCode()
	if code == 0 {
		code = exitRegression
	}
	return &exitError{code: code, err: errors.New(strings.Join(why, "; "))}
}

// tolerance is the comparison tolerance the flags ask for.
func (f reportFlags) tolerance() (reports.Tolerance, error) {
	switch {
	case f.latencyTolerance < 0:
		return reports.Tolerance{}, fmt.Errorf("--latency-tolerance %v: must not be negative", f.latencyTolerance)
	case f.errorTolerance < 0 || f.errorTolerance > 1:
		return reports.Tolerance{}, fmt.Errorf("--error-tolerance %v: want a fraction from 0 to 1", f.errorTolerance)
	case f.minLatency < 0:
		return reports.Tolerance{}, fmt.Errorf("--min-latency %v: must not be negative", f.minLatency)
	case f.confidence < 0.5 || f.confidence > 0.9999:
		return reports.Tolerance{}, fmt.Errorf("--confidence %v: want a value from 0.5 to 0.9999", f.confidence)
	}
	tol := reports.Tolerance{Latency: f.latencyTolerance, ErrorRate: f.errorTolerance, MinLatency: f.minLatency, Confidence: f.confidence}
	if tol.Latency == 0 && tol.ErrorRate == 0 && tol.MinLatency == 0 {
		// The zero Tolerance means DefaultTolerance to CompareWithTolerance;
		// all flags at zero mean "any change": 1 ns is below the histograms'
		// microsecond resolution.
		tol.MinLatency = time.Nanosecond
	}
	return tol, nil
}

// runReportMerge merges the records, writes the merged record and judges
// it: exit 0 or 1 by its thresholds, 2 when the records cannot be one run.
func runReportMerge(stdout io.Writer, paths []string, out string, opts reports.MergeOptions) error {
	parts := make([]reports.Part, 0, len(paths))
	for _, p := range paths {
		part, err := reports.ReadPart(p)
		if err != nil {
			return badRecord(err)
		}
		parts = append(parts, part)
	}
	merged, err := reports.MergeWith(opts, parts...)
	if err != nil {
		return &exitError{code: exitBadRecord, err: err} // "merge: why"
	}
	if err := reports.WriteFile(out, merged); err != nil {
		return &exitError{code: exitBadRecord, err: fmt.Errorf("report merge: %w", err)}
	}
	fmt.Fprintf(stdout, "merged %d records into %s\n", len(parts), out)
	for i, in := range merged.Load.MergedFrom {
		seg := ""
		if in.Segment != "" {
			seg = "  segment " + in.Segment
		}
		fmt.Fprintf(stdout, "  %d. %s  sha256 %s%s\n", i+1, in.Source, in.SHA256, seg)
	}
	if merged.Load.Partial != "" {
		fmt.Fprintf(stdout, "PARTIAL: %s\n", merged.Load.Partial)
	}
	for _, w := range merged.Load.MergeWarnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	verdict := reports.Judge(merged)
	if err := reports.WriteVerdict(stdout, verdict); err != nil {
		return err
	}
	if !verdict.Passed() {
		return &exitError{code: verdict.Status.ExitCode(), err: fmt.Errorf("report merge: %s: %s (%s)", out, verdict.Status, verdict.Reason)}
	}
	return nil
}

// writeFileAtomic writes a rendered report so a reader never sees half of it.
func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
