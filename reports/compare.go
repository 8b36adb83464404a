package reports

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Tolerance says how much worse a load figure may get before Compare calls
// it a regression, and how sure it must be (gate.go: a change is judged
// with its uncertainty, so noise between identical runs is not a
// regression). The zero value means DefaultTolerance.
type Tolerance struct {
	// Latency is the allowed relative increase of p50 and p99 (0.10 = 10%).
	Latency float64
	// ErrorRate is the allowed absolute increase of a step's error rate
	// (0.01 = one percentage point).
	ErrorRate float64
	// MinLatency ignores latency increases smaller than this, so a 40 µs p50
	// becoming 50 µs is not a 25% regression.
	MinLatency time.Duration
	// Confidence is how sure the gate must be that a change goes beyond the
	// tolerance (0.99: identical runs are called regressed at most 1% of the
	// time per figure, whatever their sample sizes). A run with too few
	// values to bound a percentile at this confidence leaves it not judged.
	Confidence float64
}

// DefaultTolerance: p50/p99 10% worse, error rate 1 point worse, changes
// under 1 ms ignored, each judged at 99% confidence.
var DefaultTolerance = Tolerance{Latency: 0.10, ErrorRate: 0.01, MinLatency: time.Millisecond, Confidence: 0.99}

// String states the tolerance for a report.
func (t Tolerance) String() string {
	return fmt.Sprintf("response-time p50/p99 +%.4g%% (changes under %s ignored), error rate +%.4g points, at %.4g%% confidence",
		100*t.Latency, t.MinLatency, 100*t.ErrorRate, 100*t.Confidence)
}

// EntryChange is one conformance entry whose verdict differs between runs.
// Old is empty for an added entry, New for a removed one.
type EntryChange struct {
	ID     string
	Source string
	Old    Outcome
	New    Outcome
	Reason string // the new reason (the old one for a removed entry)
}

// StepDelta compares one scenario step of two load runs. Figures are
// response times from the decoded histograms.
type StepDelta struct {
	Scenario, Step         string
	OldCount, NewCount     int64
	OldP50, NewP50         time.Duration
	OldP99, NewP99         time.Duration
	OldErrRate, NewErrRate float64
	Regressions            []string // why the step regressed, empty if it did not
	// Unjudged names the percentiles not compared for want of values, e.g.
	// "p99 not judged: 30 and 31 values cannot bound it at 99% confidence".
	Unjudged []string
}

// RunRef identifies a compared run in a comparison report, so a reader
// can tell which two records were compared.
type RunRef struct {
	Started time.Time
	Tool    string
	Target  string // as in the report header: credentials withheld
	Digest  string // integrity digest, empty when the record is unsealed
}

func runRef(r *Record) RunRef {
	ref := RunRef{Started: r.StartedAt, Tool: r.Tool.String(), Target: targetLine(r.Target)}
	if r.Integrity != nil {
		ref.Digest = r.Integrity.Algorithm + " " + r.Integrity.Digest
	}
	return ref
}

// Comparison is what changed from an old run to a new one.
type Comparison struct {
	Kind      Kind
	Tolerance Tolerance
	Old, New  RunRef
	// Problem is set when the records cannot be compared (different kinds,
	// undecodable histograms); nothing else is then filled in.
	Problem string
	// Conformance.
	Regressions     []EntryChange // passed or skipped → failed
	Fixed           []EntryChange // failed → passed
	NewlySkipped    []EntryChange // passed or failed → skipped
	NoLongerSkipped []EntryChange // skipped → passed (skipped → failed is a regression)
	Added           []EntryChange
	Removed         []EntryChange
	// Load.
	PlanChanged  bool
	Steps        []StepDelta
	AddedSteps   []string // "scenario/step" only in the new run
	RemovedSteps []string // "scenario/step" only in the old run
}

// Regressed reports whether the new run is worse: an entry that did not
// fail now fails, or a load step's latency or error rate got worse beyond
// the tolerance. Added, removed and newly skipped entries are reported but
// are not regressions by themselves.
func (c Comparison) Regressed() bool {
	if len(c.Regressions) > 0 {
		return true
	}
	for _, s := range c.Steps {
		if len(s.Regressions) > 0 {
			return true
		}
	}
	return false
}

// Compare compares two records with DefaultTolerance.
func Compare(old, new *Record) Comparison { return CompareWithTolerance(old, new, DefaultTolerance) }

// CompareWithTolerance compares old with new.
func CompareWithTolerance(old, new *Record, tol Tolerance) Comparison {
	if tol == (Tolerance{}) {
		tol = DefaultTolerance
	}
	if tol.Confidence <= 0 || tol.Confidence >= 1 {
		tol.Confidence = DefaultTolerance.Confidence
	}
	c := Comparison{Tolerance: tol}
	switch {
	case old == nil || new == nil:
		c.Problem = "a record is missing"
		return c
	case old.Kind != new.Kind:
		c.Problem = fmt.Sprintf("cannot compare a %s run with a %s run", old.Kind, new.Kind)
		return c
	case new.CouldNotJudge != nil:
		// Never regressions: nothing was judged.
		c.Problem = "the new run reached no verdict (" + new.CouldNotJudge.String() + ")"
		return c
	case old.CouldNotJudge != nil:
		c.Problem = "the previous run reached no verdict (" + old.CouldNotJudge.String() + ")"
		return c
	case loadNotApplied(new) != "":
		c.Problem = "the new run reached no verdict (" + loadNotApplied(new) + ")"
		return c
	case loadNotApplied(old) != "":
		c.Problem = "the previous run reached no verdict (" + loadNotApplied(old) + ")"
		return c
	}
	c.Kind = new.Kind
	c.Old, c.New = runRef(old), runRef(new)
	if old.Conformance != nil && new.Conformance != nil {
		compareConformance(&c, old.Conformance, new.Conformance)
	}
	if old.Load != nil && new.Load != nil {
		if err := compareLoad(&c, old.Load, new.Load); err != nil {
			return Comparison{Kind: c.Kind, Tolerance: tol, Old: c.Old, New: c.New, Problem: err.Error()}
		}
	}
	return c
}

func compareConformance(c *Comparison, old, new *Conformance) {
	before := make(map[string]EntryResult, len(old.Entries))
	for _, e := range old.Entries {
		before[e.ID] = e
	}
	seen := make(map[string]bool, len(new.Entries))
	for _, e := range new.Entries {
		seen[e.ID] = true
		o, ok := before[e.ID]
		ch := EntryChange{ID: e.ID, Source: e.Source, Old: o.Outcome, New: e.Outcome, Reason: e.Reason}
		switch {
		case !ok:
			c.Added = append(c.Added, ch)
		case o.Outcome == e.Outcome:
		case e.Outcome == OutcomeFailed:
			c.Regressions = append(c.Regressions, ch)
		case e.Outcome == OutcomeSkipped:
			c.NewlySkipped = append(c.NewlySkipped, ch)
		case o.Outcome == OutcomeFailed:
			c.Fixed = append(c.Fixed, ch)
		default: // skipped → passed
			c.NoLongerSkipped = append(c.NoLongerSkipped, ch)
		}
	}
	for _, e := range old.Entries {
		if !seen[e.ID] {
			c.Removed = append(c.Removed, EntryChange{ID: e.ID, Source: e.Source, Old: e.Outcome, Reason: e.Reason})
		}
	}
}

type stepKey struct{ scenario, step string }

func stepsOf(l *Load) (map[stepKey]StepStats, []stepKey) {
	m := map[stepKey]StepStats{}
	var order []stepKey
	for _, s := range l.Scenarios {
		all := s.Steps
		if s.FlowStats != nil {
			all = append([]StepStats{*s.FlowStats}, s.Steps...)
		}
		for _, st := range all {
			k := stepKey{s.Name, st.Step}
			m[k] = st
			order = append(order, k)
		}
	}
	return m, order
}

func compareLoad(c *Comparison, old, new *Load) error {
	c.PlanChanged = !samePlan(old.Plan, new.Plan)
	before, _ := stepsOf(old)
	after, order := stepsOf(new)
	for _, k := range order {
		n := after[k]
		o, ok := before[k]
		if !ok {
			c.AddedSteps = append(c.AddedSteps, k.scenario+"/"+k.step)
			continue
		}
		d, err := compareStep(k, o, n, c.Tolerance)
		if err != nil {
			return err
		}
		c.Steps = append(c.Steps, d)
	}
	var removed []string
	for k := range before {
		if _, ok := after[k]; !ok {
			removed = append(removed, k.scenario+"/"+k.step)
		}
	}
	sort.Strings(removed)
	c.RemovedSteps = removed
	return nil
}

// compareStep judges one step of two runs: its response-time p50 and p99
// and its error rate, each with its uncertainty (gate.go).
func compareStep(k stepKey, o, n StepStats, tol Tolerance) (StepDelta, error) {
	d := StepDelta{Scenario: k.scenario, Step: k.step, OldCount: o.Count, NewCount: n.Count}
	oh, err := DecodeHistogram(o.ResponseTime)
	if err != nil {
		return d, fmt.Errorf("old run %s/%s: %w", k.scenario, k.step, err)
	}
	nh, err := DecodeHistogram(n.ResponseTime)
	if err != nil {
		return d, fmt.Errorf("new run %s/%s: %w", k.scenario, k.step, err)
	}
	at := func(h *hdrhistogram.Histogram, q float64) time.Duration {
		if h.TotalCount() == 0 {
			return 0
		}
		return durationUS(h.ValueAtQuantile(q))
	}
	d.OldP50, d.NewP50, d.OldP99, d.NewP99 = at(oh, 50), at(nh, 50), at(oh, 99), at(nh, 99)
	for _, p := range []struct {
		name string
		q    float64
	}{{"p50", 0.50}, {"p99", 0.99}} {
		if why, judged := latencyRegression(p.name, p.q, oh, nh, tol); !judged {
			d.Unjudged = append(d.Unjudged, why)
		} else if why != "" {
			d.Regressions = append(d.Regressions, why)
		}
	}
	oldErr, newErr := failures(o), failures(n)
	if o.Count > 0 {
		d.OldErrRate = float64(oldErr) / float64(o.Count)
	}
	if n.Count > 0 {
		d.NewErrRate = float64(newErr) / float64(n.Count)
	}
	// The increase is one quantity: its bound takes the whole 1-confidence.
	if low := increaseLowerBound(oldErr, o.Count, newErr, n.Count, 1-tol.Confidence); d.NewErrRate-d.OldErrRate > tol.ErrorRate && low > tol.ErrorRate {
		d.Regressions = append(d.Regressions, fmt.Sprintf("error rate %s → %s (at %.4g%% confidence at least +%s, tolerance +%s)",
			pct(d.OldErrRate), pct(d.NewErrRate), 100*tol.Confidence, pct(low), pct(tol.ErrorRate)))
	}
	return d, nil
}

// latencyRegression judges one percentile: judged is false when either run
// has too few values to bracket it; why is then the reason, and otherwise
// the regression ("" for none).
func latencyRegression(name string, q float64, oh, nh *hdrhistogram.Histogram, tol Tolerance) (why string, judged bool) {
	low, ok := increaseBeyond(oh, nh, q, 1-tol.Confidence)
	if !ok {
		return fmt.Sprintf("%s not judged: %d and %d values are too few to bracket it", name, oh.TotalCount(), nh.TotalCount()), false
	}
	o, n := durationUS(oh.ValueAtQuantile(100*q)), durationUS(nh.ValueAtQuantile(100*q))
	if low <= tol.Latency || n-o < tol.MinLatency {
		return "", true
	}
	change := "from 0"
	if o > 0 {
		change = fmt.Sprintf("+%.0f%%", 100*(float64(n)/float64(o)-1))
	}
	return fmt.Sprintf("%s %s → %s (%s; at %.4g%% confidence at least +%.0f%%, tolerance %.4g%%)",
		name, us(o), us(n), change, 100*tol.Confidence, 100*low, 100*tol.Latency), true
}

// failures counts a step's failed results (expected turns are not failures).
func failures(st StepStats) int64 {
	var n int64
	for _, o := range st.Outcomes {
		if o.Failure() {
			n += o.Count
		}
	}
	return n
}

// samePlan compares plans by canonical JSON, so formatting does not count.
func samePlan(a, b []byte) bool {
	ca, errA := canonicalAny(a)
	cb, errB := canonicalAny(b)
	if errA != nil || errB != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca, cb)
}

// RenderComparisonText writes c for a terminal.
func RenderComparisonText(w io.Writer, c Comparison) error {
	return renderComparison(w, c, false)
}

// RenderComparisonMarkdown writes c as Markdown.
func RenderComparisonMarkdown(w io.Writer, c Comparison) error {
	return renderComparison(w, c, true)
}

// comparisonStyle is how renderComparison writes for a terminal or as
// Markdown.
type comparisonStyle struct {
	md bool
	// cell escapes a table cell, id marks an entry or step name.
	cell, id func(string) string
}

func (st comparisonStyle) heading(w io.Writer, s string) {
	if st.md {
		fmt.Fprintf(w, "\n#### %s\n\n", s)
	} else {
		fmt.Fprintf(w, "\n%s\n", s)
	}
}

func renderComparison(w io.Writer, c Comparison, md bool) error {
	bw := bufio.NewWriter(w)
	st := comparisonStyle{md: md, cell: func(s string) string { return oneLine(s) }, id: func(s string) string { return s }}
	if md {
		st.cell, st.id = mdCell, code
		fmt.Fprintln(bw, "### Comparison with the previous run")
	} else {
		fmt.Fprintln(bw, "comparison with the previous run")
	}
	if c.Problem != "" {
		fmt.Fprintf(bw, "\ncannot compare: %s\n", st.cell(c.Problem))
		return bw.Flush()
	}
	verdict := "no regression"
	if c.Regressed() {
		verdict = "REGRESSED"
	}
	if md {
		fmt.Fprintf(bw, "\n**%s**\n", verdict)
	} else {
		fmt.Fprintf(bw, "  %s\n", verdict)
	}
	comparisonEntries(bw, st, c)
	if c.Kind == KindLoad {
		comparisonSteps(bw, st, c)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render comparison: %w", err)
	}
	return nil
}

// comparisonEntries lists the entries whose result changed, by change.
func comparisonEntries(bw io.Writer, st comparisonStyle, c Comparison) {
	for _, group := range []struct {
		title string
		list  []EntryChange
	}{
		{"Regressions", c.Regressions}, {"Fixed", c.Fixed}, {"Newly skipped", c.NewlySkipped},
		{"No longer skipped", c.NoLongerSkipped}, {"Added entries", c.Added}, {"Removed entries", c.Removed},
	} {
		if len(group.list) == 0 {
			continue
		}
		st.heading(bw, fmt.Sprintf("%s (%d)", group.title, len(group.list)))
		if st.md {
			fmt.Fprintln(bw, "| Entry | Was | Now | Reason |\n| --- | --- | --- | --- |")
		}
		for _, e := range group.list {
			was, now := orDash(string(e.Old)), orDash(string(e.New))
			if st.md {
				fmt.Fprintf(bw, "| %s | %s | %s | %s |\n", st.id(e.ID), was, now, st.cell(e.Reason))
			} else {
				fmt.Fprintf(bw, "  %s: %s → %s", e.ID, was, now)
				if e.Reason != "" {
					fmt.Fprintf(bw, " (%s)", st.cell(e.Reason))
				}
				fmt.Fprintln(bw)
			}
		}
	}
}

// comparisonSteps is the load comparison: the tolerance, then every step's
// percentiles and error rate, old → new, with its verdict.
func comparisonSteps(bw io.Writer, st comparisonStyle, c Comparison) {
	if st.md {
		fmt.Fprintf(bw, "\nTolerance: %s.\n", st.cell(c.Tolerance.String()))
	} else {
		fmt.Fprintf(bw, "  tolerance: %s\n", c.Tolerance)
	}
	if c.PlanChanged {
		fmt.Fprintln(bw, "\nnote: the load plans differ, so figures may not be comparable")
	}
	st.heading(bw, "Steps")
	if st.md {
		fmt.Fprintln(bw, "| Step | p50 | p99 | Error rate | Verdict |\n| --- | --- | --- | --- | --- |")
	}
	for _, s := range c.Steps {
		verdict := "ok"
		if len(s.Regressions) > 0 {
			verdict = "REGRESSED: " + joinSemi(s.Regressions)
		}
		if len(s.Unjudged) > 0 {
			verdict += " (" + joinSemi(s.Unjudged) + ")"
		}
		name := s.Scenario + "/" + s.Step
		p50 := fmt.Sprintf("%s → %s", us(s.OldP50), us(s.NewP50))
		p99 := fmt.Sprintf("%s → %s", us(s.OldP99), us(s.NewP99))
		er := fmt.Sprintf("%s → %s", pct(s.OldErrRate), pct(s.NewErrRate))
		if st.md {
			fmt.Fprintf(bw, "| %s | %s | %s | %s | %s |\n", st.id(name), p50, p99, er, st.cell(verdict))
		} else {
			fmt.Fprintf(bw, "  %s  p50 %s  p99 %s  errors %s  %s\n", name, p50, p99, er, verdict)
		}
	}
	for _, s := range c.AddedSteps {
		fmt.Fprintf(bw, "\nstep only in the new run: %s\n", s)
	}
	for _, s := range c.RemovedSteps {
		fmt.Fprintf(bw, "\nstep only in the previous run: %s\n", s)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joinSemi(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x)
	}
	return b.String()
}

// loadNotApplied is why a load record did not apply its load (interrupted,
// held back, stopped early), "" when it did or is no load record: its
// figures are not the plan's load, so they are never compared.
func loadNotApplied(r *Record) string {
	if r.Kind != KindLoad || r.Load == nil {
		return ""
	}
	_, causes := notApplied(loadOf(r))
	return strings.Join(causes, "; ")
}
