package reports

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// view is what every human-readable renderer shows, computed once from the
// record so text, Markdown and HTML cannot disagree on a figure.
type view struct {
	Kind        Kind
	Tool        string
	Target      string
	ProfileHash string
	Started     string
	Ended       string
	Elapsed     string
	Integrity   string
	Tampered    bool
	// NotJudged is the record's "could not run: cause" or "interrupted:
	// cause", shown before anything else; "" for a judged run.
	NotJudged string
	Conf      *confView
	Load      *loadView
}

type confView struct {
	LabelFilter             string
	Focus                   string // --focus expressions, " | " between
	Total                   int
	Passed, Failed, Skipped int
	// Normative and Inferred count the entries of each strength; entries of
	// records older than the field count in neither.
	Normative, Inferred int
	FailedEntries       []entryView
	SkippedEntries      []entryView
	Entries             []entryView
	// The summary matrix (endpoint × kind) and the entries by flow and
	// endpoint, failed first (see groupEntries).
	Kinds  []string
	Matrix []*matrixRow
	Flows  []*flowGroup
}

// entryView is an entry with its position, from which the HTML report
// derives the entry's anchor (catalog IDs are not guaranteed to be valid
// fragment identifiers).
type entryView struct {
	EntryResult
	Anchor               string
	Flow, Endpoint, Kind string // see entryPlace
}

// StrengthMark is the entry's strength as a row shows it: "[inferred]",
// "[normative]", or "" for a record that predates strengths.
func (e entryView) StrengthMark() string {
	if e.Strength == "" {
		return ""
	}
	return "[" + string(e.Strength) + "]"
}

// marked is s followed by the entry's strength mark, if it has one.
func (e entryView) marked(s string) string {
	if m := e.StrengthMark(); m != "" {
		return s + " " + m
	}
	return s
}

// strengthLegend says what the two strengths mean, beside their counts.
const strengthLegend = "normative: a table or rule of the pages states every check; inferred: some check rests on an example, a logs page, the emulator's documented choice or our reading"

// StrengthLine is the counts of each strength, or "" for a record that
// predates strengths.
func (c *confView) StrengthLine() string {
	if c.Normative+c.Inferred == 0 {
		return ""
	}
	return fmt.Sprintf("%d normative, %d inferred (%s)", c.Normative, c.Inferred, strengthLegend)
}

type loadView struct {
	Scenarios  []scenarioView
	Verdict    Verdict // Judge of the record, the one every command gives
	Thresholds []ThresholdResult
	Aborted    string
	Passed     bool
	Result     string // PASS, FAIL or NOT JUDGED
	// Notes say what part of a split plan the record holds: its segment,
	// the segments a partial merge lacks, and merge warnings (start skew).
	Notes []string
}

type scenarioView struct {
	ScenarioResult
	Steps []stepView // FlowStats first when present, then Steps
	// Charts are set by the HTML renderer only.
	Charts *scenarioCharts
}

type stepView struct {
	Step    string
	Count   int64
	Rate    float64 // per second over the scenario's duration
	Errors  int64
	ErrRate float64 // fraction of Count
	// Outcomes are the failed outcomes and those the flow expected (marked
	// Expected, not in Errors), most frequent first.
	Outcomes []OutcomeCount
	// Response is the response time (intended start → response, so
	// coordinated omission corrected for open-model executors) and Service
	// the service time (request sent → response), both from the decoded
	// histograms, never from the precomputed figures.
	Response, Service latencyView
}

// latencyView is the percentiles of one decoded histogram.
type latencyView struct {
	Count                    int64
	P50, P90, P99, P999, Max time.Duration
}

func latencyOf(hist Histogram) (latencyView, error) {
	h, err := DecodeHistogram(hist)
	if err != nil {
		return latencyView{}, err
	}
	lv := latencyView{Count: h.TotalCount()}
	if lv.Count > 0 {
		at := func(q float64) time.Duration { return durationUS(h.ValueAtQuantile(q)) }
		lv.P50, lv.P90, lv.P99, lv.P999 = at(50), at(90), at(99), at(99.9)
		lv.Max = durationUS(h.Max())
	}
	return lv, nil
}

// Failure is whether an outcome is not a success: an HTTP error, a transport
// failure, a redirect to the browser (the flow cannot continue natively) or
// an answer the flow could not use, unless the flow expected that error as a
// documented turn (credential_required, attributes_required).
func (o OutcomeCount) Failure() bool {
	if o.Expected {
		return false
	}
	return o.HTTPStatus >= 400 || o.Transport || o.Redirect || o.Error != ""
}

// Label names the outcome as a reader wants to see it.
func (o OutcomeCount) Label() string {
	var parts []string
	switch {
	case o.Transport:
		parts = append(parts, o.statusLabel())
	case o.HTTPStatus != 0:
		parts = append(parts, fmt.Sprint(o.HTTPStatus))
	}
	if o.Redirect {
		parts = append(parts, "redirect")
	}
	if o.Error != "" {
		parts = append(parts, o.Error)
	}
	if o.Suberror != "" {
		parts = append(parts, o.Suberror)
	}
	if len(parts) == 0 {
		return "unknown"
	}
	if o.Expected {
		parts = append(parts, "(expected)")
	}
	return strings.Join(parts, " ")
}

func buildView(r *Record) (*view, error) {
	if r == nil {
		return nil, errors.New("render: nil record")
	}
	v := &view{
		Kind:        r.Kind,
		Tool:        r.Tool.String(),
		Target:      targetLine(r.Target),
		ProfileHash: orNone(r.Target.ProfileHash),
		Started:     timeOrUnknown(r.StartedAt),
		Ended:       timeOrUnknown(r.EndedAt),
	}
	if !r.StartedAt.IsZero() && !r.EndedAt.IsZero() {
		v.Elapsed = r.EndedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
	}
	v.Integrity, v.Tampered = integrityLine(r)
	if r.CouldNotJudge != nil {
		v.NotJudged = r.CouldNotJudge.String()
	}
	if r.Conformance != nil {
		c := &confView{LabelFilter: r.Conformance.LabelFilter, Focus: strings.Join(r.Conformance.Focus, " | "), Total: len(r.Conformance.Entries)}
		c.Entries = make([]entryView, len(r.Conformance.Entries))
		for i, res := range r.Conformance.Entries {
			e := entryView{EntryResult: res, Anchor: fmt.Sprintf("entry-%d", i+1)}
			e.Flow, e.Endpoint, e.Kind = entryPlace(res)
			c.Entries[i] = e
			switch e.Strength {
			case StrengthNormative:
				c.Normative++
			case StrengthInferred:
				c.Inferred++
			}
			switch e.Outcome {
			case OutcomePassed:
				c.Passed++
			case OutcomeFailed:
				c.Failed++
				c.FailedEntries = append(c.FailedEntries, e)
			case OutcomeSkipped:
				c.Skipped++
				c.SkippedEntries = append(c.SkippedEntries, e)
			}
		}
		groupEntries(c)
		v.Conf = c
	}
	if r.Load != nil {
		verdict := Judge(r)
		l := &loadView{Verdict: verdict, Aborted: r.Load.Aborted, Passed: verdict.Passed(), Result: verdict.Status.String()}
		l.Thresholds = slices.Concat(verdict.Applied, verdict.Thresholds, verdict.Checks)
		l.Notes = loadNotes(r.Load)
		for _, s := range r.Load.Scenarios {
			sv := scenarioView{ScenarioResult: s}
			all := s.Steps
			if s.FlowStats != nil {
				all = append([]StepStats{*s.FlowStats}, s.Steps...)
			}
			for _, st := range all {
				stv, err := buildStep(st, s.Duration)
				if err != nil {
					return nil, fmt.Errorf("render: scenario %q step %q: %w", s.Name, st.Step, err)
				}
				sv.Steps = append(sv.Steps, stv)
			}
			l.Scenarios = append(l.Scenarios, sv)
		}
		v.Load = l
	}
	return v, nil
}

func buildStep(st StepStats, d time.Duration) (stepView, error) {
	sv := stepView{Step: st.Step, Count: st.Count}
	var err error
	if sv.Response, err = latencyOf(st.ResponseTime); err != nil {
		return stepView{}, fmt.Errorf("response time: %w", err)
	}
	if sv.Service, err = latencyOf(st.ServiceTime); err != nil {
		return stepView{}, fmt.Errorf("service time: %w", err)
	}
	if d > 0 {
		sv.Rate = float64(st.Count) / d.Seconds()
	}
	for _, o := range st.Outcomes {
		switch {
		case o.Failure():
			sv.Errors += o.Count
			sv.Outcomes = append(sv.Outcomes, o)
		case o.Expected:
			// Listed so the reader sees the flow's documented turns, but
			// not counted as errors.
			sv.Outcomes = append(sv.Outcomes, o)
		}
	}
	sort.SliceStable(sv.Outcomes, func(i, j int) bool { return sv.Outcomes[i].Count > sv.Outcomes[j].Count })
	if st.Count > 0 {
		sv.ErrRate = float64(sv.Errors) / float64(st.Count)
	}
	return sv, nil
}

// targetLine describes the target without anything that could be a
// credential: user info, query and fragment are dropped from the URL.
func targetLine(t Target) string {
	base := t.BaseURL
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		u.User, u.RawQuery, u.Fragment, u.ForceQuery = nil, "", "", false
		base = u.String()
	} else if base != "" {
		base = "(unparseable URL withheld)"
	}
	parts := []string{orNone(t.Kind), orNone(base)}
	if t.Tenant != "" {
		parts = append(parts, "tenant "+t.Tenant)
	}
	if t.ClientID != "" {
		parts = append(parts, "client "+t.ClientID)
	}
	return strings.Join(parts, " ")
}

// integrityLine states the record's tamper evidence; tampered is true when
// the record does not match its seal.
func integrityLine(r *Record) (line string, tampered bool) {
	verdict := r.readVerdict
	if !r.readChecked {
		verdict = Verify(r)
	}
	return integrityStatus(r.Integrity, verdict), errors.Is(verdict, ErrTampered)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func timeOrUnknown(t time.Time) string {
	if t.IsZero() {
		return "(unknown)"
	}
	return t.UTC().Format(time.RFC3339)
}

func pct(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }

// us formats a latency for a report: "-" for none, whole microseconds
// (histograms hold microseconds) under a millisecond, then milliseconds or
// seconds with three decimals, so figures in a column line up.
func us(d time.Duration) string {
	switch d = roundDuration(d); {
	case d == 0:
		return "-"
	case d < time.Millisecond && d > -time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second && d > -time.Second:
		return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3fs", d.Seconds())
}

// roundDuration keeps what a reader can use: microseconds below a second,
// milliseconds from a second on (15.001s, not 15.001317481s).
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second || d <= -time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

// StatusLabel is the outcome's HTTP status as a reader wants it: the
// number, "redirect" or "transport error" (no HTTP answer).
func (o OutcomeCount) StatusLabel() string {
	label := o.statusLabel()
	if o.Expected {
		label += " (expected)"
	}
	return label
}

func (o OutcomeCount) statusLabel() string {
	switch {
	case o.Transport && o.TransportClass != "":
		return "transport error (" + o.TransportClass + ")"
	case o.Transport:
		return "transport error"
	case o.Redirect && o.HTTPStatus != 0:
		return fmt.Sprintf("%d redirect", o.HTTPStatus)
	case o.Redirect:
		return "redirect"
	case o.HTTPStatus == 0:
		return "unknown"
	}
	return fmt.Sprint(o.HTTPStatus)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func durationUS(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// loadNotes are the statements about a split plan a report must show.
func loadNotes(l *Load) []string {
	var notes []string
	if l.Segment != "" && len(l.MergedFrom) == 0 {
		notes = append(notes, "Execution segment "+l.Segment+" of the plan: its thresholds are shown on its share and judged only on the merged record of every segment.")
	}
	if len(l.MergedFrom) > 0 {
		notes = append(notes, fmt.Sprintf("Merged from %d records.", len(l.MergedFrom)))
	}
	if l.Partial != "" {
		notes = append(notes, "PARTIAL: "+l.Partial+".")
	}
	for _, w := range l.MergeWarnings {
		notes = append(notes, "Warning: "+w+".")
	}
	return notes
}
