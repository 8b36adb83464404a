package reports

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// WriteLoadSummary writes the end-of-run table of a load run, within
// LineWidth columns whatever the names: per scenario a heading line with its
// counters, then its flow and each step with count, rate, errors and
// response-time percentiles, then its failed and expected answers one per
// line (a transport failure with its class and an example message); then the
// verdict v (Judge of the record), as WriteVerdict writes it.
func WriteLoadSummary(w io.Writer, l *Load, v Verdict) error {
	var b strings.Builder
	for i, sc := range l.Scenarios {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(wrapText(fmt.Sprintf("%s (%s, %s, %s)", sc.Name, sc.Flow, sc.Executor, roundDuration(sc.Duration)), LineWidth, "", "    "))
		iterations := fmt.Sprintf("iterations %d", sc.Iterations)
		if sc.Expected > 0 {
			iterations += fmt.Sprintf(" of %d", sc.Expected)
		}
		b.WriteString(wrapText(fmt.Sprintf("%s, failed %d, dropped %d, throttled %d, unavailable %d",
			iterations, sc.Failed, sc.Dropped, sc.Throttled, sc.Unavailable), LineWidth, "  ", "    "))
		// Figures align right; step names are padded to one width so they
		// read left-aligned.
		width := len("step")
		for _, st := range sc.Steps {
			width = max(width, utf8.RuneCountInString(st.Step))
		}
		name := func(s string) string { return "  " + s + strings.Repeat(" ", width-utf8.RuneCountInString(s)) }
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%s\tcount\trate\terrors\tp50\tp90\tp99\tp99.9\tmax\tsvc p99\t\n", name("step"))
		secs := sc.Duration.Seconds()
		if sc.FlowStats != nil {
			writeRow(tw, name(FlowStep), *sc.FlowStats, secs)
		}
		for _, st := range sc.Steps {
			writeRow(tw, name(st.Step), st, secs)
		}
		if err := tw.Flush(); err != nil {
			return fmt.Errorf("write summary: %w", err)
		}
		writeOutcomes(&b, sc)
	}
	b.WriteString("\n" + summaryLegend + "\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return WriteVerdict(w, v)
}

const summaryLegend = `p50…max: response time (intended start → response); svc p99: request sent → response.
errors: failed answers (HTTP status ≥ 400, redirects, transport failures), listed under
each scenario by step, status, error and suberror; error answers a flow asks for next
(credential_required, attributes_required) are not errors and are listed as expected.`

func writeRow(w io.Writer, name string, st StepStats, secs float64) {
	rate := "-"
	if secs > 0 {
		rate = fmt.Sprintf("%.1f/s", float64(st.Count)/secs)
	}
	var errs int64
	for _, o := range st.Outcomes {
		if o.Failure() {
			errs += o.Count
		}
	}
	rt := st.ResponseTime
	fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, st.Count, rate, errs,
		micros(rt.P50, rt.Count), micros(rt.P90, rt.Count), micros(rt.P99, rt.Count), micros(rt.P999, rt.Count), micros(rt.Max, rt.Count),
		micros(st.ServiceTime.P99, st.ServiceTime.Count))
}

// writeOutcomes lists a scenario's failed and expected answers, one per
// line, each transport failure followed by its example message.
func writeOutcomes(b *strings.Builder, sc ScenarioResult) {
	steps := sc.Steps
	if sc.FlowStats != nil {
		steps = append([]StepStats{*sc.FlowStats}, steps...)
	}
	var failed, expected []string
	for _, st := range steps {
		for _, o := range st.Outcomes {
			line := fmt.Sprintf("    %s: %s×%d", st.Step, outcomeText(o), o.Count)
			switch {
			case o.Expected:
				expected = append(expected, line)
			case o.Failure():
				failed = append(failed, line)
				if o.Example != "" {
					failed = append(failed, strings.TrimSuffix(wrapText(oneLine(o.Example), LineWidth, "      e.g. ", "           "), "\n"))
				}
			}
		}
	}
	if len(failed) > 0 {
		b.WriteString("  errors:\n" + strings.Join(failed, "\n") + "\n")
	}
	if len(expected) > 0 {
		b.WriteString("  expected answers (documented turns of the flow, not errors):\n" + strings.Join(expected, "\n") + "\n")
	}
}

// cutLine shortens s to width runes, marking the cut with an ellipsis.
func cutLine(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	return string([]rune(s)[:width-1]) + "…"
}

// micros is a figure of a histogram of count values, "-" for none.
func micros(v, count int64) string {
	if count == 0 {
		return "-"
	}
	return FormatMicros(float64(v))
}

// outcomeText names an outcome as the summary lists it: "429
// temporarily_unavailable", "400 invalid_grant/invalid_oob_value",
// "transport refused", "redirect".
func outcomeText(o OutcomeCount) string {
	label := o.Error
	if o.Suberror != "" {
		label += "/" + o.Suberror
	}
	switch {
	case o.Transport && o.TransportClass != "":
		label = "transport " + o.TransportClass
	case o.Transport:
		label = "transport"
	case o.Redirect:
		label = "redirect"
	case o.HTTPStatus != 0:
		label = fmt.Sprintf("%d %s", o.HTTPStatus, label)
	}
	return strings.TrimSpace(label)
}
