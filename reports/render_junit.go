package reports

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// JUnit XML, the subset CI systems (GitLab, Jenkins, GitHub test reporters)
// read: one testsuite, one testcase per catalog entry.
type junitSuites struct {
	XMLName xml.Name `xml:"testsuites"`
	junitTotals
	Suites []junitRun `xml:"testsuite"`
}

// junitTotals are the attributes the document and its testsuite both carry.
type junitTotals struct {
	Name     string `xml:"name,attr"`
	Tests    int    `xml:"tests,attr"`
	Failures int    `xml:"failures,attr"`
	Errors   int    `xml:"errors,attr"`
	Skipped  int    `xml:"skipped,attr"`
	Time     string `xml:"time,attr"`
}

type junitRun struct {
	junitTotals
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string `xml:"name,attr"`
	Classname string `xml:"classname,attr"`
	Time      string `xml:"time,attr"`
	// Properties carry the entry's strength (normative or inferred).
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitMessage   `xml:"failure,omitempty"`
	Error      *junitMessage   `xml:"error,omitempty"`
	Skipped    *junitMessage   `xml:"skipped,omitempty"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// RenderJUnit writes a record as JUnit XML. A conformance record has a
// testcase per entry (name = catalog ID, classname = spec source, time in
// seconds, the entry's strength as a property, the counts of each strength
// as suite properties), a failure or skipped element carrying the reason, and the
// redacted evidence as system-out of failed cases. A load record has the
// cases renderLoadJUnit makes.
func RenderJUnit(w io.Writer, r *Record) error {
	if r != nil && r.Kind == KindLoad && r.Load != nil {
		return renderLoadJUnit(w, r)
	}
	if r == nil || r.Conformance == nil {
		return errors.New("render junit: the record has neither conformance entries nor a load result")
	}
	v, err := buildView(r)
	if err != nil {
		return err
	}
	run := junitRun{
		junitTotals: junitTotals{Name: "ciamcheck conformance", Tests: v.Conf.Total, Failures: v.Conf.Failed, Skipped: v.Conf.Skipped},
		Properties: []junitProperty{
			{"target", v.Target}, {"tool", v.Tool}, {"profile_hash", v.ProfileHash},
			{"label_filter", v.Conf.LabelFilter}, {"focus", v.Conf.Focus}, {"integrity", v.Integrity},
			{"entries_normative", fmt.Sprint(v.Conf.Normative)}, {"entries_inferred", fmt.Sprint(v.Conf.Inferred)},
		},
	}
	if !r.StartedAt.IsZero() {
		run.Timestamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}
	var total time.Duration
	for _, e := range r.Conformance.Entries {
		total += e.Duration
		c := junitCase{Name: e.ID, Classname: classname(e.Source), Time: seconds(e.Duration)}
		if e.Strength != "" {
			c.Properties = []junitProperty{{"strength", string(e.Strength)}}
		}
		switch e.Outcome {
		case OutcomeFailed:
			c.Failure = &junitMessage{Message: firstLine(e.Reason), Type: "failed", Text: e.Reason}
			c.SystemOut = evidenceText(e.Evidence)
		case OutcomeSkipped:
			c.Skipped = &junitMessage{Message: e.Reason}
		}
		run.Cases = append(run.Cases, c)
	}
	if v.NotJudged != "" {
		// CI systems show a red test for an error: the run is not green,
		// and the one testcase says why, instead of entries that never ran.
		run.Cases = []junitCase{{Name: "ciamcheck: run", Classname: "ciamcheck", Error: &junitMessage{Message: v.NotJudged, Type: "not judged"}}}
		run.Tests, run.Failures, run.Skipped, run.Errors = 1, 0, 0, 1
	}
	run.Time = seconds(total)
	// The run's own length: entries share flow specs, so their times add
	// up to more than the run took.
	if !r.StartedAt.IsZero() && r.EndedAt.After(r.StartedAt) {
		run.Time = seconds(r.EndedAt.Sub(r.StartedAt))
	}
	return writeJUnit(w, run, v.Tampered)
}

// renderLoadJUnit writes a load record as JUnit: a testcase "load applied"
// (an error when the run could not apply its load or was interrupted,
// carrying the cause), one per threshold of the plan (a failure reads
// "p99: want < 400ms, got 512ms"), and one for the measurement checks. The
// run's time is the record's duration, carried by the "load applied" case,
// so the cases add up to it.
func renderLoadJUnit(w io.Writer, r *Record) error {
	v, err := buildView(r)
	if err != nil {
		return err
	}
	verdict := v.Load.Verdict
	var elapsed time.Duration
	if !r.StartedAt.IsZero() && r.EndedAt.After(r.StartedAt) {
		elapsed = r.EndedAt.Sub(r.StartedAt)
	}
	run := junitRun{
		junitTotals: junitTotals{Name: "ciamcheck load", Time: seconds(elapsed)},
		Properties: []junitProperty{
			{"target", v.Target}, {"tool", v.Tool}, {"profile_hash", v.ProfileHash},
			{"min_applied", percent(r.Load.MinApplied)}, {"result", verdict.Status.String()}, {"integrity", v.Integrity},
		},
	}
	if !r.StartedAt.IsZero() {
		run.Timestamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}
	const class = "ciamcheck.load"
	applied := junitCase{Name: "load applied", Classname: class, Time: seconds(elapsed), SystemOut: rowsText(verdict.Applied)}
	if verdict.Status == StatusNotJudged {
		applied.Error = &junitMessage{Message: "could not judge: " + firstLine(oneLine(verdict.Reason)), Type: "not-judged", Text: verdict.Reason}
		run.Errors++
	}
	run.Cases = append(run.Cases, applied)
	for _, t := range verdict.Thresholds {
		c := junitCase{Name: t.Expr, Classname: class + ".thresholds", Time: seconds(0)}
		if !t.Passed {
			c.Failure = &junitMessage{Message: thresholdFailure(t), Type: "threshold", Text: fmt.Sprintf("%s (actual %s)", t.Expr, t.Actual)}
			run.Failures++
		}
		run.Cases = append(run.Cases, c)
	}
	checks := junitCase{Name: "measurement checks", Classname: class, Time: seconds(0), SystemOut: rowsText(verdict.Checks)}
	var failedChecks []string
	for _, c := range verdict.Checks {
		if !c.Passed {
			failedChecks = append(failedChecks, fmt.Sprintf("%s: got %s", strings.TrimPrefix(c.Expr, "integrity: "), c.Actual))
		}
	}
	if len(failedChecks) > 0 {
		checks.Failure = &junitMessage{Message: failedChecks[0], Type: "measurement", Text: strings.Join(failedChecks, "\n")}
		run.Failures++
	}
	run.Cases = append(run.Cases, checks)
	run.Tests = len(run.Cases)
	return writeJUnit(w, run, v.Tampered)
}

// thresholdFailure is a failed threshold as "metric: want op value, got
// actual", the subject being the testcase's name.
func thresholdFailure(t ThresholdResult) string {
	f := strings.Fields(t.Expr)
	if len(f) < 3 {
		return fmt.Sprintf("%s: got %s", t.Expr, t.Actual)
	}
	metric, op, value := f[len(f)-3], f[len(f)-2], f[len(f)-1]
	return fmt.Sprintf("%s: want %s %s, got %s", metric, op, value, t.Actual)
}

func rowsText(rows []ThresholdResult) string {
	var b strings.Builder
	for _, t := range rows {
		fmt.Fprintf(&b, "%s  %s  (actual %s)\n", passFail(t.Passed), t.Expr, t.Actual)
	}
	return b.String()
}

// writeJUnit writes the document of one testsuite.
func writeJUnit(w io.Writer, run junitRun, tampered bool) error {
	doc := junitSuites{junitTotals: run.junitTotals, Suites: []junitRun{run}}
	doc.Name = "ciamcheck"
	if tampered {
		doc.Name = "ciamcheck (TAMPERED RECORD)"
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("render junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("render junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("render junit: %w", err)
	}
	return nil
}

func classname(source string) string {
	if source == "" {
		return "ciamcheck.conformance"
	}
	return source
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func evidenceText(ex []Exchange) string {
	var b strings.Builder
	for _, e := range ex {
		fmt.Fprintf(&b, "%s %s -> %d (%s)\n", e.Method, e.Path, e.Status, e.DurationNS)
		for _, k := range sortedKeys(e.Form) {
			fmt.Fprintf(&b, "  %s=%s\n", k, e.Form[k])
		}
		if e.Body != "" {
			fmt.Fprintf(&b, "  %s\n", e.Body)
		}
	}
	return b.String()
}
