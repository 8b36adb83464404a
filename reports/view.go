package reports

import (
	"errors"
	"fmt"
	"net/url"
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
	Conf        *confView
	Load        *loadView
}

type confView struct {
	LabelFilter             string
	Total                   int
	Passed, Failed, Skipped int
	FailedEntries           []EntryResult
	SkippedEntries          []EntryResult
	Entries                 []EntryResult
}

type loadView struct {
	Scenarios  []scenarioView
	Thresholds []ThresholdResult
	Aborted    string
	Passed     bool // every threshold passed and the run was not aborted
}

type scenarioView struct {
	ScenarioResult
	Steps []stepView // FlowStats first when present, then Steps
}

type stepView struct {
	Step     string
	Count    int64
	Rate     float64 // per second over the scenario's duration
	Errors   int64
	ErrRate  float64 // fraction of Count
	Outcomes []OutcomeCount
	// Response-time percentiles from the decoded histogram (coordinated
	// omission corrected for open-model executors).
	P50, P90, P99, P999, Max time.Duration
}

// Failure is whether an outcome is not a success: an HTTP error, a transport
// failure or a redirect to the browser (the flow cannot continue natively).
func (o OutcomeCount) Failure() bool { return o.HTTPStatus >= 400 || o.Transport || o.Redirect }

// Label names the outcome as a reader wants to see it.
func (o OutcomeCount) Label() string {
	var parts []string
	switch {
	case o.Transport:
		parts = append(parts, "transport error")
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
	return strings.Join(parts, " ")
}

func buildView(r *Record) (*view, error) {
	if r == nil {
		return nil, errors.New("render: nil record")
	}
	v := &view{
		Kind:        r.Kind,
		Tool:        strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version),
		Target:      targetLine(r.Target),
		ProfileHash: orNone(r.Target.ProfileHash),
		Started:     timeOrUnknown(r.StartedAt),
		Ended:       timeOrUnknown(r.EndedAt),
	}
	if !r.StartedAt.IsZero() && !r.EndedAt.IsZero() {
		v.Elapsed = r.EndedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
	}
	v.Integrity, v.Tampered = integrityLine(r)
	if r.Conformance != nil {
		c := &confView{LabelFilter: r.Conformance.LabelFilter, Entries: r.Conformance.Entries, Total: len(r.Conformance.Entries)}
		for _, e := range r.Conformance.Entries {
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
		v.Conf = c
	}
	if r.Load != nil {
		l := &loadView{Thresholds: r.Load.Thresholds, Aborted: r.Load.Aborted, Passed: r.Load.Aborted == ""}
		for _, t := range r.Load.Thresholds {
			l.Passed = l.Passed && t.Passed
		}
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
	h, err := DecodeHistogram(st.ResponseTime)
	if err != nil {
		return stepView{}, err
	}
	sv := stepView{Step: st.Step, Count: st.Count}
	if d > 0 {
		sv.Rate = float64(st.Count) / d.Seconds()
	}
	for _, o := range st.Outcomes {
		if o.Failure() {
			sv.Errors += o.Count
			sv.Outcomes = append(sv.Outcomes, o)
		}
	}
	sort.SliceStable(sv.Outcomes, func(i, j int) bool { return sv.Outcomes[i].Count > sv.Outcomes[j].Count })
	if st.Count > 0 {
		sv.ErrRate = float64(sv.Errors) / float64(st.Count)
	}
	if h.TotalCount() > 0 {
		us := func(q float64) time.Duration { return durationUS(h.ValueAtQuantile(q)) }
		sv.P50, sv.P90, sv.P99, sv.P999 = us(50), us(90), us(99), us(99.9)
		sv.Max = durationUS(h.Max())
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
// the record does not match its digest.
func integrityLine(r *Record) (line string, tampered bool) {
	if r.readChecked {
		return IntegrityStatus(r, r.readVerdict), errors.Is(r.readVerdict, ErrTampered)
	}
	switch err := Verify(r); {
	case err == nil:
		return "verified " + r.Integrity.Algorithm + " " + r.Integrity.Digest, false
	case errors.Is(err, ErrTampered):
		return IntegrityStatus(r, err), true
	default:
		return IntegrityStatus(r, nil), false
	}
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

func us(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return d.String()
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
