// Package conformance holds the ciamcheck conformance specs and runs them
// from `go test`, from the ginkgo CLI or from the ciamcheck binary with no
// Go toolchain: the specs live in this ordinary package and RunSpecs is
// called programmatically.
//
// Each catalog spec runs its catalog.Entry itself: the scenarios' Walker
// reaches the entry's endpoint, the driver of the entry's trigger changes
// the call about to be sent (drivers, one per trigger of the catalog's
// vocabulary, in files by trigger family), and the answer is checked
// against the entry. A spec sees its target through Env, a small interface
// with one implementation for a tenant and one for a target with the
// emulator's backdoor. Every spec carries the IDs of the entries it proves
// as catalog: labels, which suites/specreport reads back into the run
// record.
package conformance

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/formatter"
	"github.com/onsi/ginkgo/v2/types"
	"github.com/onsi/gomega"

	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/suites/specreport"
)

// SuiteDescription names the suite in reports and JUnit.
const SuiteDescription = "ciamcheck conformance"

// Config says what a run targets and where its record goes. The zero value
// runs against the embedded emulator and writes no record.
type Config struct {
	// ProfilePath is a target profile YAML; empty means the embedded emulator.
	ProfilePath string
	// WrapHandler wraps the embedded emulator's handler. The project's own
	// tests use it to prove the suite fails against a deviating server.
	WrapHandler func(http.Handler) http.Handler
	// Out is where the run record (JSON) is written; empty writes none.
	Out string
	// Tool identifies the binary in the record.
	Tool reports.Tool
}

var (
	cfgMu   sync.Mutex
	cfg     Config
	lastRec *reports.Record
	// lastWillRun is how many specs the last run's filters selected.
	lastWillRun int
	started     time.Time
)

// Configure sets the configuration the next RunSpecs uses. Call it before
// RunSpecs (the CLI's Run does; suite_test.go does for `go test`).
func Configure(c Config) {
	cfgMu.Lock()
	defer cfgMu.Unlock()
	if c.Tool.Name == "" {
		c.Tool.Name = "ciamcheck"
	}
	if c.Tool.Version == "" {
		c.Tool.Version = "dev"
	}
	cfg = c
	started = time.Now()
	watchInterrupts()
}

func currentConfig() Config {
	cfgMu.Lock()
	defer cfgMu.Unlock()
	return cfg
}

// ConfigFromEnv reads the configuration `go test` and `ginkgo` runs take
// from the environment: CIAMCHECK_TARGET (profile path) and CIAMCHECK_OUT
// (record path).
func ConfigFromEnv() Config {
	return Config{ProfilePath: os.Getenv("CIAMCHECK_TARGET"), Out: os.Getenv("CIAMCHECK_OUT")}
}

// Options are the knobs of a run from the CLI.
type Options struct {
	Config
	LabelFilter string
	FocusString string
	Verbose     bool
	// Progress, when set and the run is not verbose, receives a line per
	// failure and a progress line every 10 s instead of Ginkgo's own
	// output, which counts specs rather than catalog entries.
	Progress io.Writer
	// NoColor turns off ANSI colours (for logs, files and CI).
	NoColor bool
	// Timeout bounds the whole run; zero means one hour.
	Timeout time.Duration
}

// failRecorder is the GinkgoTestingT of a run outside `go test`.
type failRecorder struct{ failed bool }

func (f *failRecorder) Fail() { f.failed = true }

// Run runs the conformance specs in this process and returns the run record
// and whether every selected spec passed. Ginkgo runs a suite once per
// process, so Run may be called once.
func Run(opts Options) (reports.Record, bool, error) {
	if err := CheckSelection(opts.LabelFilter, opts.FocusString); err != nil {
		return reports.Record{}, false, err
	}
	Configure(opts.Config)
	suiteCfg, repCfg := GinkgoConfiguration()
	suiteCfg.LabelFilter = opts.LabelFilter
	if opts.FocusString != "" {
		suiteCfg.FocusStrings = []string{opts.FocusString}
	}
	suiteCfg.Timeout = opts.Timeout
	if suiteCfg.Timeout == 0 {
		suiteCfg.Timeout = time.Hour
	}
	repCfg.Verbose = opts.Verbose
	repCfg.Succinct = !opts.Verbose
	repCfg.NoColor = opts.NoColor
	gomega.RegisterFailHandler(Fail)
	t := &failRecorder{}
	if opts.Progress != nil && !opts.Verbose {
		setProgress(opts.Progress)
		defer setProgress(nil)
		stdout := formatter.ColorableStdOut
		formatter.ColorableStdOut = io.Discard
		defer func() { formatter.ColorableStdOut = stdout }()
	}
	passed := RunSpecs(t, SuiteDescription, suiteCfg, repCfg)
	cfgMu.Lock()
	rec, willRun := lastRec, lastWillRun
	cfgMu.Unlock()
	if rec == nil {
		return reports.Record{}, false, errors.New("conformance: the suite ended without a run record")
	}
	if err := selectionError(opts.LabelFilter, opts.FocusString, willRun); err != nil {
		return *rec, false, err
	}
	return *rec, passed && !t.failed, nil
}

// CheckSelection refuses a label filter or focus that does not parse.
// One that parses but selects no spec is refused after the run
// (selectionError): previewing the specs before RunSpecs would need
// PreviewSpecs, which drops the suite's top-level AfterEach (the evidence)
// from the run that follows.
func CheckSelection(labelFilter, focus string) error {
	if labelFilter != "" {
		if _, err := types.ParseLabelFilter(labelFilter); err != nil {
			// Ginkgo colours its parse errors; ours go to logs and files.
			return fmt.Errorf("label filter %q: %s", labelFilter, ansiEscape.ReplaceAllString(err.Error(), ""))
		}
	}
	if focus != "" {
		if _, err := regexp.Compile(focus); err != nil {
			return fmt.Errorf("focus %q: %w", focus, err)
		}
	}
	return nil
}

// ansiEscape matches a terminal colour or style sequence.
var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// selectionError says why a run with a label filter or focus that left
// willRun specs failed, or nil. A typo such as flow:sigup would otherwise
// select nothing, skip every entry and exit 0: a CI gate that passes having
// checked nothing.
func selectionError(labelFilter, focus string, willRun int) error {
	if willRun > 0 || (labelFilter == "" && focus == "") {
		return nil
	}
	switch {
	case focus == "":
		return fmt.Errorf("label filter %q selects no spec; see --list-labels for the vocabulary", labelFilter)
	case labelFilter == "":
		return fmt.Errorf("focus %q matches no spec; specs are named by catalog ID (see ciamcheck catalog)", focus)
	}
	return fmt.Errorf("label filter %q with focus %q selects no spec", labelFilter, focus)
}

// Entries lists every catalog entry for the run record, in catalog order.
func Entries() []specreport.EntryRef { return specreport.Entries() }

// Summarize counts a record's entries by outcome.
func Summarize(rec reports.Record) specreport.Summary { return specreport.Summarize(rec) }

// FailedIDs lists the failed entries' IDs, sorted.
func FailedIDs(rec reports.Record) []string { return specreport.FailedIDs(rec) }

// LastRecord returns the record of the run that ended in this process, if
// any (for `go test` callers).
func LastRecord() (reports.Record, bool) {
	cfgMu.Lock()
	defer cfgMu.Unlock()
	if lastRec == nil {
		return reports.Record{}, false
	}
	return *lastRec, true
}

// The record is built once, on the process that sees the whole report
// (process 1 under ginkgo -p).
var _ = ReportAfterSuite("ciamcheck run record", func(report types.Report) {
	c := currentConfig()
	start := report.StartTime
	if start.IsZero() {
		start = started
	}
	meta := specreport.RunMeta{
		Tool:        c.Tool,
		Target:      describeTarget(c),
		LabelFilter: report.SuiteConfig.LabelFilter,
		Focus:       report.SuiteConfig.FocusStrings,
		StartedAt:   start.UTC(),
		EndedAt:     report.EndTime.UTC(),
		Interrupted: interrupted.Load(),
	}
	if t := report.SuiteConfig.Timeout; t > 0 {
		meta.Deadline = start.Add(t).UTC()
	}
	if meta.EndedAt.IsZero() {
		meta.EndedAt = time.Now().UTC()
	}
	rec := specreport.BuildRecord(report, specreport.Entries(), meta)
	cfgMu.Lock()
	lastRec, lastWillRun = &rec, report.PreRunStats.SpecsThatWillRun
	cfgMu.Unlock()
	if c.Out != "" {
		if err := reports.WriteFile(c.Out, &rec); err != nil {
			Fail(err.Error())
		}
	}
})

// Every spec carries the exchanges it made, redacted, as its evidence.
var _ = AfterEach(func() {
	if env == nil || recorder == nil {
		return
	}
	if ex := recorder.Take(); len(ex) > 0 {
		AddReportEntry(specreport.EvidenceEntry, ex, ReportEntryVisibilityNever)
	}
})
