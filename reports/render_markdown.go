package reports

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// RenderMarkdown writes r as GitHub-flavoured Markdown for a pull-request
// comment or an audit file: the same content as RenderText, with the target
// (credentials withheld), tool version, profile hash, times and integrity
// digest in a header table.
func RenderMarkdown(w io.Writer, r *Record) error {
	v, err := buildView(r)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if v.Tampered {
		fmt.Fprint(bw, "> [!CAUTION]\n> **This record does not match its integrity digest: it was modified after it was written. Do not trust it.**\n\n")
	}
	fmt.Fprintf(bw, "## ciamcheck %s run\n\n", v.Kind)
	if v.NotJudged != "" {
		fmt.Fprintf(bw, "> [!WARNING]\n> **Not judged — %s.** Nothing below is a verdict on the target.\n\n", mdCell(v.NotJudged))
	}
	fmt.Fprintln(bw, "| | |\n| --- | --- |")
	for _, kv := range [][2]string{
		{"Target", mdCell(v.Target)}, {"Tool", mdCell(v.Tool)}, {"Profile hash", code(v.ProfileHash)},
		{"Started", v.Started}, {"Ended", mdCell(v.Ended + " (" + orNone(v.Elapsed) + ")")}, {"Integrity", code(v.Integrity)},
	} {
		fmt.Fprintf(bw, "| %s | %s |\n", kv[0], kv[1])
	}
	if c := v.Conf; c != nil {
		fmt.Fprintln(bw)
		if c.Focus != "" {
			fmt.Fprintf(bw, "Focus: %s\n\n", code(c.Focus))
		}
		if c.LabelFilter != "" {
			fmt.Fprintf(bw, "Label filter: %s\n\n", code(c.LabelFilter))
		}
		fmt.Fprintf(bw, "**%d entries: %d passed, %d failed, %d skipped**\n", c.Total, c.Passed, c.Failed, c.Skipped)
		if len(c.FailedEntries) > 0 {
			fmt.Fprintln(bw, "\n### Failed\n\n| Entry | Source | Reason |\n| --- | --- | --- |")
			for _, e := range c.FailedEntries {
				fmt.Fprintf(bw, "| %s | %s | %s |\n", code(e.ID), mdCell(e.Source), mdCell(e.Reason))
			}
		}
		if len(c.SkippedEntries) > 0 {
			fmt.Fprintln(bw, "\n### Skipped\n\n| Entry | Reason |\n| --- | --- |")
			for _, e := range c.SkippedEntries {
				fmt.Fprintf(bw, "| %s | %s |\n", code(e.ID), mdCell(e.Reason))
			}
		}
		if len(c.Entries) > 0 {
			// Collapsed, so a pull-request comment stays short; sources and
			// evidence are in the HTML report.
			fmt.Fprintf(bw, "\n<details><summary>All %d entries</summary>\n\n| Entry | Outcome | Duration |\n| --- | --- | ---: |\n", c.Total)
			for _, e := range c.Entries {
				fmt.Fprintf(bw, "| %s | %s | %s |\n", code(e.ID), e.Outcome, us(e.Duration))
			}
			fmt.Fprintln(bw, "\n</details>")
		}
	}
	if v.Load != nil {
		markdownLoad(bw, v.Load)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render markdown: %w", err)
	}
	return nil
}

// markdownLoad writes the load part of RenderMarkdown: the verdict, each
// scenario's steps and outcomes, and the thresholds.
func markdownLoad(bw io.Writer, l *loadView) {
	fmt.Fprintf(bw, "\n**Result: %s**", l.Result)
	if l.Verdict.Reason != "" {
		fmt.Fprintf(bw, " (%s)", mdCell(l.Verdict.Reason))
	}
	fmt.Fprintln(bw)
	for _, s := range l.Scenarios {
		fmt.Fprintf(bw, "\n### Scenario %s\n\n", mdCell(s.Name))
		fmt.Fprintf(bw, "Flow %s, executor %s, %s: %d iterations", code(s.Flow), code(s.Executor), roundDuration(s.Duration), s.Iterations)
		if s.Expected > 0 {
			fmt.Fprintf(bw, " of %d expected", s.Expected)
		}
		fmt.Fprintf(bw, ", %d failed, %d dropped, %d throttled, %d unavailable.\n\n", s.Failed, s.Dropped, s.Throttled, s.Unavailable)
		fmt.Fprintln(bw, "| Step | Count | Rate/s | Errors | Latency | p50 | p90 | p99 | p99.9 | max |\n| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
		for _, st := range s.Steps {
			fmt.Fprintf(bw, "| %s | %d | %.1f | %d (%s) | response | %s |\n", code(st.Step), st.Count, st.Rate, st.Errors, pct(st.ErrRate), latencyCells(st.Response, " | "))
			fmt.Fprintf(bw, "| | | | | service | %s |\n", latencyCells(st.Service, " | "))
		}
		if hasOutcomes(s.Steps) {
			fmt.Fprintln(bw, "\nErrors and expected answers by step, status, error and suberror:\n\n| Step | Status | Error | Suberror | Count |\n| --- | --- | --- | --- | ---: |")
			for _, st := range s.Steps {
				for _, o := range st.Outcomes {
					label := mdCell(o.StatusLabel())
					if o.Example != "" {
						label += "<br>e.g. " + code(o.Example)
					}
					fmt.Fprintf(bw, "| %s | %s | %s | %s | %d |\n", code(st.Step), label, orDash(code(o.Error)), orDash(code(o.Suberror)), o.Count)
				}
			}
		}
	}
	fmt.Fprintf(bw, "\n- %s\n- %s\n", mdCell(oneLine(legendLatency)), mdCell(oneLine(legendErrors)))
	if len(l.Thresholds) > 0 {
		fmt.Fprintln(bw, "\n### Thresholds\n\n| Result | Threshold | Actual |\n| --- | --- | --- |")
		for _, t := range l.Thresholds {
			fmt.Fprintf(bw, "| %s | %s | %s |\n", passFail(t.Passed), code(t.Expr), mdCell(t.Actual))
		}
	}
	if l.Aborted != "" {
		fmt.Fprintf(bw, "\n**Aborted:** %s\n", mdCell(l.Aborted))
	}
	for _, n := range l.Notes {
		fmt.Fprintf(bw, "\n> %s\n", mdCell(n))
	}
	fmt.Fprintf(bw, "\n**Result: %s**\n", l.Result)
}

// mdEscaper escapes what would otherwise become markup in a table cell.
// HTML is escaped too: GitHub renders inline HTML in comments.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "&", "&amp;", "\r\n", "<br>", "\n", "<br>", "\r", "<br>",
)

func mdCell(s string) string { return mdEscaper.Replace(s) }

// code wraps s in a code span long enough to hold any backticks in it; a
// code span shows its content literally, so only the pipe needs escaping.
func code(s string) string {
	if s == "" {
		return ""
	}
	s = strings.Join(strings.Fields(s), " ")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	pad := ""
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		pad = " "
	}
	return fence + pad + strings.ReplaceAll(s, "|", `\|`) + pad + fence
}
