package reports

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// RenderText writes r for a terminal: a header, then the conformance verdicts
// (counts, every failure and skip with its reason) or the load figures (per
// scenario and step: count, rate, errors by outcome, response-time
// percentiles, dropped, throttled, thresholds).
func RenderText(w io.Writer, r *Record) error {
	v, err := buildView(r)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	textHeader(bw, v, r.Load)
	if c := v.Conf; c != nil {
		textConformance(bw, c)
	}
	if l := v.Load; l != nil {
		for _, s := range l.Scenarios {
			textScenario(bw, s)
		}
		fmt.Fprintln(bw, "\n"+latencyLegend)
		if err := WriteVerdict(bw, l.Verdict); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render text: %w", err)
	}
	return nil
}

// textHeader is the run's kind and details, with those of a load segment
// or merge.
func textHeader(bw io.Writer, v *view, l *Load) {
	if v.Tampered {
		fmt.Fprintln(bw, "!!! WARNING: THIS RECORD DOES NOT MATCH ITS INTEGRITY DIGEST; IT WAS MODIFIED AFTER IT WAS WRITTEN !!!")
	}
	fmt.Fprintf(bw, "ciamcheck %s run\n", v.Kind)
	if v.NotJudged != "" {
		fmt.Fprintf(bw, "NOT JUDGED — %s\n", oneLine(v.NotJudged))
	}
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  target\t%s\n", v.Target)
	fmt.Fprintf(tw, "  tool\t%s\n", v.Tool)
	fmt.Fprintf(tw, "  profile\t%s\n", v.ProfileHash)
	fmt.Fprintf(tw, "  started\t%s\n", v.Started)
	fmt.Fprintf(tw, "  ended\t%s (%s)\n", v.Ended, orNone(v.Elapsed))
	fmt.Fprintf(tw, "  integrity\t%s\n", v.Integrity)
	if l != nil {
		if l.Segment != "" {
			fmt.Fprintf(tw, "  segment\t%s of the plan\n", l.Segment)
		}
		if !l.StartAt.IsZero() {
			fmt.Fprintf(tw, "  start at\t%s (began %s)\n", l.StartAt.Format(time.RFC3339), l.BeganAt.Format(time.RFC3339Nano))
		}
		if len(l.MergedFrom) > 0 {
			fmt.Fprintf(tw, "  merged\tfrom %d records\n", len(l.MergedFrom))
		}
		if l.Partial != "" {
			fmt.Fprintf(tw, "  PARTIAL\t%s\n", l.Partial)
		}
		for _, w := range l.MergeWarnings {
			fmt.Fprintf(tw, "  warning\t%s\n", w)
		}
	}
	tw.Flush()
}

// textConformance is the counts, then every failure and skip with its
// reason.
func textConformance(bw io.Writer, c *confView) {
	fmt.Fprintln(bw)
	if c.Focus != "" {
		fmt.Fprintf(bw, "focus: %s\n", c.Focus)
	}
	if c.LabelFilter != "" {
		fmt.Fprintf(bw, "label filter: %s\n", c.LabelFilter)
	}
	fmt.Fprintf(bw, "%d entries: %d passed, %d failed, %d skipped\n", c.Total, c.Passed, c.Failed, c.Skipped)
	if s := c.StrengthLine(); s != "" {
		fmt.Fprintf(bw, "strength: %s\n", s)
	}
	if len(c.FailedEntries) > 0 {
		fmt.Fprintln(bw, "\nFAILED")
		for _, e := range c.FailedEntries {
			fmt.Fprintf(bw, "  %s  (%s)\n", e.marked(e.ID), orNone(e.Source))
			fmt.Fprintf(bw, "%s\n", indent(e.Reason, "      "))
		}
	}
	if len(c.SkippedEntries) > 0 {
		fmt.Fprintln(bw, "\nSKIPPED")
		for _, e := range c.SkippedEntries {
			fmt.Fprintf(bw, "  %s: %s\n", e.marked(e.ID), oneLine(e.Reason))
		}
	}
}

// textScenario is one scenario's counts, its steps' latencies and its
// errors and expected answers.
func textScenario(bw io.Writer, s scenarioView) {
	fmt.Fprintf(bw, "\nscenario %s (flow %s, %s, %s)\n", s.Name, orNone(s.Flow), orNone(s.Executor), roundDuration(s.Duration))
	fmt.Fprintf(bw, "  iterations %d", s.Iterations)
	if s.Expected > 0 {
		fmt.Fprintf(bw, " of %d expected", s.Expected)
	}
	fmt.Fprintf(bw, ", failed %d, dropped %d, throttled %d, unavailable %d\n", s.Failed, s.Dropped, s.Throttled, s.Unavailable)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  step\tcount\trate/s\terrors\tlatency\tp50\tp90\tp99\tp99.9\tmax\t")
	for _, st := range s.Steps {
		fmt.Fprintf(tw, "  %s\t%d\t%.1f\t%d (%s)\tresponse\t%s\t\n", st.Step, st.Count, st.Rate, st.Errors, pct(st.ErrRate), latencyCells(st.Response, "\t"))
		fmt.Fprintf(tw, "\t\t\t\tservice\t%s\t\n", latencyCells(st.Service, "\t"))
	}
	tw.Flush()
	if !hasOutcomes(s.Steps) {
		return
	}
	fmt.Fprintln(bw, "  errors and expected answers by step, status, error and suberror:")
	tw = tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	for _, st := range s.Steps {
		for _, o := range st.Outcomes {
			fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t× %d\n", st.Step, o.StatusLabel(), orDash(o.Error), orDash(o.Suberror), o.Count)
			if o.Example != "" {
				fmt.Fprintf(tw, "%s\n", cutLine("      e.g. "+oneLine(o.Example), LineWidth))
			}
		}
	}
	tw.Flush()
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// latencyLegend says what the two latencies and the error counts are.
const latencyLegend = legendLatency + "\n" + legendErrors

const (
	legendLatency = `latency: response = intended start → response, so queueing behind a slow server
counts (coordinated omission corrected); service = request sent → response.`
	legendErrors = `errors: answers with HTTP status ≥ 400, redirects and transport failures;
an error answer the flow asks for next (credential_required, attributes_required)
is listed as "(expected)" and is not an error; failed iterations are on each
scenario's line.`
)

// latencyCells formats p50, p90, p99, p99.9 and max joined by sep.
func latencyCells(l latencyView, sep string) string {
	return strings.Join([]string{us(l.P50), us(l.P90), us(l.P99), us(l.P999), us(l.Max)}, sep)
}

func hasOutcomes(steps []stepView) bool {
	for _, st := range steps {
		if len(st.Outcomes) > 0 {
			return true
		}
	}
	return false
}
