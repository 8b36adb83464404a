package reports

import (
	"bufio"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
)

// MarkdownLimit is the most bytes RenderMarkdown writes: GitHub refuses a
// pull-request comment over 65,536 characters, and a CI template may wrap
// the report in a few lines of its own.
const MarkdownLimit = 60_000

// maxMarkdownReason bounds one failure or skip reason in the Markdown; the
// full reason is in the HTML report.
const maxMarkdownReason = 300

// MarkdownOptions are what RenderMarkdownWith adds to the Markdown of one
// record.
type MarkdownOptions struct {
	// Comparison, from Compare, is shown right after the verdict.
	Comparison *Comparison
	// FullReport is the link or path of the full (HTML) report, named at
	// the end; empty for none.
	FullReport string
}

// RenderMarkdown writes r as GitHub-flavoured Markdown short enough for a
// pull-request comment (at most MarkdownLimit bytes): the verdict first,
// then what failed (load: thresholds and checks; conformance: failed
// entries with their reasons cut to a few lines), then the rest (skipped
// entries, per-scenario figures) while room is left, then the run's
// details (target with credentials withheld, tool, profile hash, times,
// integrity). What does not fit is counted, never silently left out.
func RenderMarkdown(w io.Writer, r *Record) error { return RenderMarkdownWith(w, r, MarkdownOptions{}) }

// RenderMarkdownWith writes r as RenderMarkdown does, with what opts adds:
// the comparison's regressions come right after the verdict.
func RenderMarkdownWith(w io.Writer, r *Record, opts MarkdownOptions) error {
	v, err := buildView(r)
	if err != nil {
		return err
	}
	var head strings.Builder
	if v.Tampered {
		fmt.Fprint(&head, "> [!CAUTION]\n> **This record does not match its integrity digest: it was modified after it was written. Do not trust it.**\n\n")
	}
	var comparison []string
	if opts.Comparison != nil {
		var b strings.Builder
		if err := RenderComparisonMarkdown(&b, shortReasons(*opts.Comparison)); err != nil {
			return err
		}
		comparison = strings.SplitAfter("\n"+b.String(), "\n")
	}
	var body []string // blocks, most important first
	if v.Conf != nil {
		body = append(body, markdownConformance(&head, v, comparison)...)
	}
	if v.Load != nil {
		body = append(body, markdownLoadRun(&head, v, comparison)...)
	}
	if err := writeMarkdownWithin(w, head.String(), body, markdownTail(v, opts)); err != nil {
		return fmt.Errorf("render markdown: %w", err)
	}
	return nil
}

// markdownTail is the run's details and the link to the full report, which
// close the comment whatever else fits.
func markdownTail(v *view, opts MarkdownOptions) string {
	var tail strings.Builder
	fmt.Fprintln(&tail, "\n<details><summary>Run details</summary>\n\n| | |\n| --- | --- |")
	for _, kv := range [][2]string{
		{"Target", mdCell(v.Target)}, {"Tool", mdCell(v.Tool)}, {"Profile hash", code(v.ProfileHash)},
		{"Started", v.Started}, {"Ended", mdCell(v.Ended + " (" + orNone(v.Elapsed) + ")")}, {"Integrity", code(v.Integrity)},
	} {
		fmt.Fprintf(&tail, "| %s | %s |\n", kv[0], kv[1])
	}
	fmt.Fprintln(&tail, "\n</details>")
	if opts.FullReport != "" {
		fmt.Fprintf(&tail, "\nFull report: %s\n", mdLink(opts.FullReport))
	}
	return tail.String()
}

// markdownConformance writes a conformance run's verdict to head and
// returns its blocks: the comparison, then failed and skipped entries.
func markdownConformance(head io.Writer, v *view, comparison []string) []string {
	c := v.Conf
	verdict := "PASS"
	switch {
	case v.NotJudged != "":
		verdict = "NOT JUDGED"
	case c.Failed > 0:
		verdict = "FAIL"
	}
	fmt.Fprintf(head, "## ciamcheck conformance run: %s\n\n", verdict)
	notJudged(head, v)
	fmt.Fprintf(head, "**%d entries: %d passed, %d failed, %d skipped**\n", c.Total, c.Passed, c.Failed, c.Skipped)
	if s := c.StrengthLine(); s != "" {
		fmt.Fprintf(head, "\nStrength: %s\n", mdCell(s))
	}
	if c.Focus != "" {
		fmt.Fprintf(head, "\nFocus: %s\n", code(c.Focus))
	}
	if c.LabelFilter != "" {
		fmt.Fprintf(head, "\nLabel filter: %s\n", code(c.LabelFilter))
	}
	body := slices.Clone(comparison)
	if len(c.FailedEntries) > 0 {
		body = append(body, "\n### Failed\n\n| Entry | Source | Reason |\n| --- | --- | --- |\n")
		for _, e := range c.FailedEntries {
			body = append(body, fmt.Sprintf("| %s | %s | %s |\n", e.marked(code(e.ID)), mdSource(e.EntryResult), mdCell(shorten(e.Reason, maxMarkdownReason))))
		}
	}
	if len(c.SkippedEntries) > 0 {
		body = append(body, "\n### Skipped\n\n| Entry | Reason |\n| --- | --- |\n")
		for _, e := range c.SkippedEntries {
			body = append(body, fmt.Sprintf("| %s | %s |\n", e.marked(code(e.ID)), mdCell(shorten(e.Reason, maxMarkdownReason))))
		}
	}
	return body
}

// markdownLoadRun writes a load run's verdict to head and returns its
// blocks: thresholds, the comparison, then the per-scenario figures.
func markdownLoadRun(head io.Writer, v *view, comparison []string) []string {
	l := v.Load
	fmt.Fprintf(head, "## ciamcheck load run: %s\n", l.Result)
	if v.NotJudged != "" {
		fmt.Fprintln(head)
		notJudged(head, v)
	}
	if l.Verdict.Reason != "" {
		fmt.Fprintf(head, "\n**%s**\n", mdCell(l.Verdict.Reason))
	}
	if l.Aborted != "" {
		fmt.Fprintf(head, "\n**Aborted:** %s\n", mdCell(l.Aborted))
	}
	for _, n := range l.Notes {
		fmt.Fprintf(head, "\n> %s\n", mdCell(n))
	}
	var b strings.Builder
	markdownThresholds(&b, l)
	body := []string{b.String()}
	body = append(body, comparison...)
	b.Reset()
	markdownLoad(&b, l)
	return append(body, b.String())
}

// writeMarkdownWithin writes head, the blocks of body that fit under
// MarkdownLimit with tail, and counts the lines of those left out; once a
// block is left out, so are all after it, keeping the order of importance.
func writeMarkdownWithin(w io.Writer, head string, body []string, tail string) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(head)
	room := MarkdownLimit - len(head) - len(tail) - 200 // 200: the note on what was left out
	left := 0
	for _, block := range body {
		if left > 0 || len(block) > room {
			left += max(strings.Count(block, "\n"), 1)
			continue
		}
		bw.WriteString(block)
		room -= len(block)
	}
	if left > 0 {
		fmt.Fprintf(bw, "\n_%d more lines left out to keep this under GitHub's comment limit: see the full report._\n", left)
	}
	bw.WriteString(tail)
	return bw.Flush()
}

// notJudged warns that nothing in the report is a verdict, for a record
// that could not judge.
func notJudged(w io.Writer, v *view) {
	if v.NotJudged != "" {
		fmt.Fprintf(w, "> [!WARNING]\n> **Not judged — %s.** Nothing below is a verdict on the target.\n\n", mdCell(v.NotJudged))
	}
}

// mdSource is an entry's sources, each linked to the section it quotes
// when the record has the link (schema v1.2), else Source as text.
func mdSource(e EntryResult) string {
	if len(e.Sources) == 0 {
		return mdCell(e.Source)
	}
	parts := make([]string, len(e.Sources))
	for i, s := range e.Sources {
		parts[i] = mdCell(s.Text)
		if u, err := url.Parse(s.URL); s.URL != "" && err == nil && (u.Scheme == "" || u.Scheme == "https" || u.Scheme == "http") {
			parts[i] = "[" + parts[i] + "](" + mdURL(s.URL) + ")"
		}
	}
	return strings.Join(parts, "; ")
}

// mdLink is a link or path to the full report: a URL as a link, a path as
// code.
func mdLink(s string) string {
	if u, err := url.Parse(s); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
		return "<" + mdURL(s) + ">"
	}
	return code(s)
}

// mdURL keeps a link destination from ending the Markdown link early.
func mdURL(s string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "|", "%7C", "\n", "", "\r", "").Replace(s)
}

// shorten is s on one line, cut to at most n bytes at a word with "…".
func shorten(s string, n int) string {
	s = oneLine(s)
	if len(s) <= n {
		return s
	}
	return firstWords(s, n-len("…")) + "…"
}

// shortReasons is c with every entry's reason cut as the Markdown cuts them.
func shortReasons(c Comparison) Comparison {
	for _, list := range []*[]EntryChange{&c.Regressions, &c.Fixed, &c.NewlySkipped, &c.NoLongerSkipped, &c.Added, &c.Removed} {
		cut := slices.Clone(*list)
		for i := range cut {
			cut[i].Reason = shorten(cut[i].Reason, maxMarkdownReason)
		}
		*list = cut
	}
	return c
}

// markdownThresholds writes a load run's thresholds and checks, failed
// first.
func markdownThresholds(bw io.Writer, l *loadView) {
	if len(l.Thresholds) == 0 {
		return
	}
	fmt.Fprintln(bw, "\n### Thresholds\n\n| Result | Threshold | Actual |\n| --- | --- | --- |")
	for _, pass := range []bool{false, true} {
		for _, t := range l.Thresholds {
			if t.Passed == pass {
				fmt.Fprintf(bw, "| %s | %s | %s |\n", passFail(t.Passed), code(t.Expr), mdCell(t.Actual))
			}
		}
	}
}

// markdownLoad writes each scenario's steps and outcomes for
// RenderMarkdown.
func markdownLoad(bw io.Writer, l *loadView) {
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
