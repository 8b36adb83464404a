package reports

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Status is a verdict in the terms of the exit-status contract every
// command keeps: 0 judged and passed, 1 judged and failed, 2 could not judge.
type Status int

const (
	StatusPassed    Status = 0
	StatusFailed    Status = 1
	StatusNotJudged Status = 2
)

// ExitCode is the process exit status for s.
func (s Status) ExitCode() int { return int(s) }

func (s Status) String() string {
	switch s {
	case StatusPassed:
		return "PASS"
	case StatusFailed:
		return "FAIL"
	}
	return "NOT JUDGED"
}

// Verdict is the judgement of one record. load, report and report merge all
// take it from Judge, so they print and exit alike on the same record.
type Verdict struct {
	Status Status
	// Thresholds are the plan's thresholds evaluated on the record's data.
	Thresholds []ThresholdResult
	// Checks are the load generator's measurement checks, as recorded.
	Checks []ThresholdResult
	// Applied says, per scenario with a schedule, whether it applied at
	// least the plan's min_applied share of it.
	Applied []ThresholdResult
	Aborted string
	// Segment is set when the record is one execution segment of a split
	// plan: its thresholds are shown on its share but not judged — a
	// share's rate or count says nothing of the plan's — and only the
	// merged record of every segment is judged on them.
	Segment string
	// Reason says why the record failed or could not be judged; empty when
	// it passed.
	Reason string
}

// Passed reports whether the record gates green.
func (v Verdict) Passed() bool { return v.Status == StatusPassed }

// Judge judges a record: a run that could not judge (Record.CouldNotJudge)
// is not judged, whatever its entries say; a conformance run fails when an
// entry failed; a
// load run fails when it was aborted, a threshold of its plan fails on its
// data, or a measurement check failed. A load record whose thresholds this
// version cannot evaluate (written by a newer one), and nothing else failed,
// is not judged.
func Judge(r *Record) Verdict {
	switch {
	case r == nil:
		return Verdict{Status: StatusNotJudged, Reason: "no record"}
	case r.CouldNotJudge != nil:
		return Verdict{Status: StatusNotJudged, Reason: r.CouldNotJudge.String()}
	case r.Kind == KindConformance && r.Conformance != nil:
		return judgeConformance(r.Conformance)
	case r.Kind == KindLoad && r.Load != nil:
		return JudgeLoad(loadOf(r))
	}
	return Verdict{Status: StatusNotJudged, Reason: fmt.Sprintf("record of kind %q has no %s member", r.Kind, r.Kind)}
}

func judgeConformance(c *Conformance) Verdict {
	var failed int
	for _, e := range c.Entries {
		if e.Outcome == OutcomeFailed {
			failed++
		}
	}
	if failed > 0 {
		return Verdict{Status: StatusFailed, Reason: fmt.Sprintf("%d of %d catalog entries failed", failed, len(c.Entries))}
	}
	return Verdict{Status: StatusPassed}
}

// legacyLoad reads a v1.0 load record, which had no plan_thresholds and
// kept its measurement checks among its evaluated thresholds (an expression
// starting "integrity:"): the thresholds are taken back as text, so they are
// evaluated again like any other record's.
func legacyLoad(l *Load) *Load {
	if l.PlanThresholds != nil || l.Checks != nil {
		return l
	}
	c := *l
	for _, t := range l.Thresholds {
		if strings.HasPrefix(t.Expr, "integrity:") {
			c.Checks = append(c.Checks, t)
		} else {
			c.PlanThresholds = append(c.PlanThresholds, t.Expr)
		}
	}
	return &c
}

// JudgeLoad judges a load result: it evaluates l.PlanThresholds on l's data
// (see Judge). A run that did not apply its load is not judged, whatever
// its thresholds say: one stopped by a signal (interrupted), by a
// Retry-After beyond the plan's cap or by sustained throttling, or with a
// scenario that sent less of its schedule than l.MinApplied. Otherwise it
// fails when a threshold or a measurement check failed, or it was aborted
// for another reason (records before v1.2).
func JudgeLoad(l *Load) Verdict {
	if l == nil {
		return Verdict{Status: StatusNotJudged, Reason: "no load result"}
	}
	v := Verdict{Checks: append(slices.Clone(l.Checks), anySucceeded(l)...), Aborted: l.Aborted}
	if seg, err := ParseSegment(l.Segment); err == nil && !seg.Whole() {
		v.Segment = l.Segment
	}
	var unreadable []string
	failed := 0
	for _, expr := range l.PlanThresholds {
		th, err := ParseThreshold(expr)
		if err != nil {
			unreadable = append(unreadable, expr)
			v.Thresholds = append(v.Thresholds, ThresholdResult{Expr: expr, Actual: "not evaluated: " + err.Error()})
			continue
		}
		res := th.Evaluate(l)
		if !res.Passed && v.Segment == "" {
			failed++
		}
		v.Thresholds = append(v.Thresholds, res)
	}
	checksFailed := 0
	for _, c := range v.Checks {
		if !c.Passed {
			checksFailed++
		}
	}
	var why []string
	if stopOf(l) == StopAborted {
		why = append(why, "aborted: "+oneLine(l.Aborted))
	}
	var notJudged []string
	v.Applied, notJudged = notApplied(l)
	if failed > 0 {
		why = append(why, fmt.Sprintf("%d of %d thresholds failed", failed, len(l.PlanThresholds)))
	}
	if checksFailed > 0 {
		why = append(why, fmt.Sprintf("%d measurement checks failed", checksFailed))
	}
	switch {
	case len(notJudged) > 0:
		v.Status, v.Reason = StatusNotJudged, strings.Join(notJudged, "; ")
		if len(why) > 0 {
			v.Reason += " (also, on the load that was applied: " + strings.Join(why, "; ") + ")"
		}
	case len(why) > 0:
		v.Status, v.Reason = StatusFailed, strings.Join(why, "; ")
	case len(unreadable) > 0 && v.Segment == "":
		v.Status, v.Reason = StatusNotJudged, "this ciamcheck cannot evaluate the thresholds "+strings.Join(unreadable, ", ")
	default:
		v.Status = StatusPassed
	}
	return v
}

// anySucceeded is the check every load run gets, thresholds or none: a
// scenario none of whose iterations succeeded did not measure the target's
// flow, it measured its failure, and is never a pass.
func anySucceeded(l *Load) []ThresholdResult {
	var out []ThresholdResult
	for _, s := range l.Scenarios {
		if s.Iterations > 0 && s.Failed >= s.Iterations {
			out = append(out, ThresholdResult{Expr: s.Name + ": some iteration succeeds",
				Actual: fmt.Sprintf("every iteration failed (%d of %d)", s.Failed, s.Iterations)})
		}
	}
	return out
}

// notApplied says why a load run did not apply its load, if it did not:
// interrupted, stopped by a Retry-After beyond the cap or by sustained
// throttling, or a scenario below min_applied; rows are the "load applied"
// rows of the verdict.
func notApplied(l *Load) (rows []ThresholdResult, causes []string) {
	rows, short := judgeApplied(l)
	switch stopOf(l) {
	case StopInterrupted:
		// An interrupted run fell short of its schedule because it was
		// interrupted: saying so is enough.
		return rows, []string{"interrupted: " + strings.TrimPrefix(oneLine(l.Aborted), "interrupted: ")}
	case StopRetryAfter, StopThrottled:
		short = append([]string{oneLine(l.Aborted)}, short...)
	}
	if len(short) > 0 {
		return rows, []string{"load not applied: " + strings.Join(short, "; ")}
	}
	return rows, nil
}

// stopOf is the kind of the run's early stop. A record before v1.2 names
// none: its interruption is known by the words the load generator wrote,
// and any other abort keeps the kind "aborted", which fails the run as it
// did then.
func stopOf(l *Load) StopKind {
	switch {
	case l.Stop != "":
		return l.Stop
	case strings.HasPrefix(l.Aborted, "interrupted"):
		return StopInterrupted
	case l.Aborted != "":
		return StopAborted
	}
	return ""
}

// WriteVerdict writes the verdict as text: each threshold and check with
// its actual value, and the result line with its reason (an abort among
// them). The load summary, the
// text report and report merge all end with it.
func WriteVerdict(w io.Writer, v Verdict) error {
	var b strings.Builder
	for _, part := range []struct {
		title string
		rows  []ThresholdResult
	}{{"load applied", v.Applied}, {"thresholds", v.Thresholds}, {"checks", v.Checks}} {
		if len(part.rows) == 0 {
			continue
		}
		if part.title == "thresholds" && v.Segment != "" {
			part.title = fmt.Sprintf("thresholds on segment %s's share only (not judged: report merge of every segment judges the plan)", v.Segment)
		}
		fmt.Fprintf(&b, "\n%s\n", part.title)
		for _, t := range part.rows {
			b.WriteString(wrapText(fmt.Sprintf("%s  %s  (actual %s)", passFail(t.Passed), t.Expr, t.Actual), LineWidth, "  ", "        "))
		}
	}
	result := "result: " + v.Status.String()
	if v.Reason != "" {
		result += " (" + oneLine(v.Reason) + ")"
	}
	b.WriteString("\n" + wrapText(result, LineWidth, "", "  "))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write verdict: %w", err)
	}
	return nil
}

// schemaMinor is the minor version of a schema string, 0 when it has none
// or it does not parse (Validate refuses the latter).
func schemaMinor(s string) int {
	v, _ := strings.CutPrefix(s, schemaPrefix)
	_, minor, ok := strings.Cut(v, ".")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(minor)
	if err != nil {
		return 0
	}
	return n
}

// LineWidth is the width the load summary and the verdict keep to, so a
// CI log shows them unwrapped.
const LineWidth = 120

// wrapText breaks s at spaces into lines of at most width runes, the first
// prefixed by first and the others by rest, each ending in a newline; s
// is kept as it is when it fits on one line. A word longer than a line is
// cut.
func wrapText(s string, width int, first, rest string) string {
	if utf8.RuneCountInString(first+s) <= width && !strings.Contains(s, "\n") {
		return first + s + "\n"
	}
	var b strings.Builder
	line, prefix := "", first
	flush := func() {
		b.WriteString(prefix + line + "\n")
		line, prefix = "", rest
	}
	for _, word := range strings.Fields(s) {
		for {
			room := width - utf8.RuneCountInString(prefix)
			switch {
			case line == "" && utf8.RuneCountInString(word) <= room:
				line = word
			case line != "" && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= room:
				line += " " + word
			case line != "":
				flush()
				continue
			default:
				// A word wider than a line: cut it.
				r := []rune(word)
				line, word = string(r[:room]), string(r[room:])
				flush()
				continue
			}
			break
		}
	}
	if line != "" || prefix == first {
		flush()
	}
	return b.String()
}
