package reports

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteLoadSummary writes the end-of-run table of a load run: per scenario,
// its flow and each step with count, rate, errors by error/suberror, and
// response-time percentiles; then the verdict v (Judge of the record), as
// WriteVerdict writes it.
func WriteLoadSummary(w io.Writer, l *Load, v Verdict) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO/STEP\tCOUNT\tRATE\tERRORS\tP50\tP90\tP99\tP99.9\tMAX\tSERVICE P99")
	for _, sc := range l.Scenarios {
		secs := sc.Duration.Seconds()
		head := fmt.Sprintf("%s (%s, %s)", sc.Name, sc.Flow, sc.Executor)
		iterations := fmt.Sprintf("iterations %d", sc.Iterations)
		if sc.Expected > 0 {
			iterations += fmt.Sprintf(" of %d", sc.Expected)
		}
		fmt.Fprintf(tw, "%s\t%s\t\tfailed %d, dropped %d, throttled %d\t\t\t\t\t\t\n",
			head, iterations, sc.Failed, sc.Dropped, sc.Throttled)
		if sc.FlowStats != nil {
			writeRow(tw, "  flow", *sc.FlowStats, secs)
		}
		for _, st := range sc.Steps {
			writeRow(tw, "  "+st.Step, st, secs)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	var expected []string
	for _, sc := range l.Scenarios {
		for _, st := range sc.Steps {
			if e := expectedSummary(st.Outcomes); e != "" {
				expected = append(expected, fmt.Sprintf("  %s %s: %s", sc.Name, st.Step, e))
			}
		}
	}
	if len(expected) > 0 {
		fmt.Fprintf(w, "\nEXPECTED answers (documented turns of the flow, not errors)\n%s\n", strings.Join(expected, "\n"))
	}
	fmt.Fprintln(w, "\nERRORS counts failed answers by status, error and suberror (redirects and transport\nfailures too); error answers a flow asks for next (credential_required, attributes_required)\nare not errors: they are listed under EXPECTED. Failed iterations are on each scenario's line.\nP50…MAX: response time (intended start → response); SERVICE P99: request sent → response.")
	return WriteVerdict(w, v)
}

func writeRow(w io.Writer, name string, st StepStats, secs float64) {
	rate := "-"
	if secs > 0 {
		rate = fmt.Sprintf("%.1f/s", float64(st.Count)/secs)
	}
	rt := st.ResponseTime
	fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, st.Count, rate, errorSummary(st.Outcomes),
		micros(rt.P50, rt.Count), micros(rt.P90, rt.Count), micros(rt.P99, rt.Count), micros(rt.P999, rt.Count), micros(rt.Max, rt.Count),
		micros(st.ServiceTime.P99, st.ServiceTime.Count))
}

// micros is a figure of a histogram of count values, "-" for none.
func micros(v, count int64) string {
	if count == 0 {
		return "-"
	}
	return FormatMicros(float64(v))
}

// errorSummary lists failed outcomes as "status error/suberror×n"; an
// outcome the flow expected (credential_required, attributes_required) is
// not a failure and is listed by expectedSummary instead.
func errorSummary(os []OutcomeCount) string {
	parts := outcomeParts(os, OutcomeCount.Failure)
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, ", ")
}

func expectedSummary(os []OutcomeCount) string {
	return strings.Join(outcomeParts(os, func(o OutcomeCount) bool { return o.Expected }), ", ")
}

func outcomeParts(os []OutcomeCount, keep func(OutcomeCount) bool) []string {
	var parts []string
	for _, o := range os {
		if !keep(o) {
			continue
		}
		label := o.Error
		if o.Suberror != "" {
			label += "/" + o.Suberror
		}
		switch {
		case o.Transport:
			label = "transport"
		case o.Redirect:
			label = "redirect"
		case o.HTTPStatus != 0:
			label = fmt.Sprintf("%d %s", o.HTTPStatus, label)
		}
		parts = append(parts, fmt.Sprintf("%s×%d", strings.TrimSpace(label), o.Count))
	}
	sort.Strings(parts)
	return parts
}
