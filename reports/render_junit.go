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
	XMLName  xml.Name   `xml:"testsuites"`
	Name     string     `xml:"name,attr"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Errors   int        `xml:"errors,attr"`
	Skipped  int        `xml:"skipped,attr"`
	Time     string     `xml:"time,attr"`
	Suites   []junitRun `xml:"testsuite"`
}

type junitRun struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// RenderJUnit writes a conformance record as JUnit XML: a testcase per
// entry (name = catalog ID, classname = spec source, time in seconds), a
// failure or skipped element carrying the reason, and the redacted evidence
// as system-out of failed cases.
func RenderJUnit(w io.Writer, r *Record) error {
	if r == nil || r.Conformance == nil {
		return errors.New("render junit: only conformance records have test cases")
	}
	v, err := buildView(r)
	if err != nil {
		return err
	}
	run := junitRun{
		Name:     "ciamcheck conformance",
		Tests:    v.Conf.Total,
		Failures: v.Conf.Failed,
		Skipped:  v.Conf.Skipped,
		Properties: []junitProperty{
			{"target", v.Target}, {"tool", v.Tool}, {"profile_hash", v.ProfileHash},
			{"label_filter", v.Conf.LabelFilter}, {"focus", v.Conf.Focus}, {"integrity", v.Integrity},
		},
	}
	if !r.StartedAt.IsZero() {
		run.Timestamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}
	var total time.Duration
	for _, e := range r.Conformance.Entries {
		total += e.Duration
		c := junitCase{Name: e.ID, Classname: classname(e.Source), Time: seconds(e.Duration)}
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
	doc := junitSuites{Name: "ciamcheck", Tests: run.Tests, Failures: run.Failures, Errors: run.Errors, Skipped: run.Skipped, Time: run.Time, Suites: []junitRun{run}}
	if v.Tampered {
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
