// Package reports owns the run record, the one output format of every
// ciamcheck run; the verdict on it (thresholds, Judge, the exit status) that
// load, report and report merge all give; and the renderers, comparisons and
// merge that read it.
package reports

import (
	"encoding/json"
	"strings"
	"time"
)

// SchemaVersion is the version of the run record's JSON schema:
// "ciamcheck.run/v<major>[.<minor>]". A minor version only adds optional
// fields, so a reader accepts any minor of its major and ignores the fields it
// does not know; a different major is refused (see Read). Bump the minor for
// an added optional field, the major for anything a reader must understand.
//
// v1.1 added run_id, and to load records plan_thresholds, checks, segment
// and merged_from, and to the tool its VCS revision, dirty flag and revision
// time; a v1.0 load record kept its measurement checks among its thresholds
// (see Judge).
//
// v1.2 added to every record could_not_judge, to load records min_applied
// and stop, to scenarios
// unavailable, scheduled_ns and paused_ns, and to outcomes transport_class
// and example; a record without them is judged as before (no "load
// applied" check, an abort that is not an interruption fails the run).
//
// v1.3 added to load scenarios their interval series (Intervals: per
// interval counts and response-time percentiles, target and achieved
// rate), and to conformance entries their flows, endpoint, kind and links
// to the reference page sections they quote (Sources); a record without
// them renders without a timeline, its entries placed by their IDs.
//
// v1.4 added to conformance entries their strength (normative or
// inferred), a record without it showing no strength counts or marks; and
// v1.5 to load records start_at, began_at, partial and merge_warnings
// (execution segments).
const SchemaVersion = "ciamcheck.run/v1.5"

// Kind says what produced a record.
type Kind string

const (
	KindConformance Kind = "conformance"
	KindLoad        Kind = "load"
)

// Record is one run of conformance or load. Secrets never appear in it.
type Record struct {
	Schema string `json:"schema"`
	Kind   Kind   `json:"kind"`
	// RunID names the run: two records with one RunID are copies of one
	// run, whatever their bytes (Merge refuses them).
	RunID       string       `json:"run_id,omitempty"`
	Tool        Tool         `json:"tool"`
	Target      Target       `json:"target"`
	StartedAt   time.Time    `json:"started_at"`
	EndedAt     time.Time    `json:"ended_at"`
	Conformance *Conformance `json:"conformance,omitempty"`
	Load        *Load        `json:"load,omitempty"`
	// CouldNotJudge, when set, says why the run could not judge the target
	// (unreachable, setup failed, interrupted): its entries or figures are
	// no verdict, so no report counts them as failures or regressions.
	CouldNotJudge *CouldNotJudge `json:"could_not_judge,omitempty"`
	// Integrity is the digest set by Seal over everything else in the record.
	// It is last so the digest reads as a trailer in the file.
	Integrity *Integrity `json:"integrity,omitempty"`

	// readChecked and readVerdict are Read's integrity verdict on the bytes
	// as written (readVerdict nil when verified), kept so renderers report
	// the file's verdict rather than re-deriving it from the struct, which
	// lacks any member of a newer minor schema.
	readChecked bool
	readVerdict error
}

// CouldNotJudge is why a run reached no verdict.
type CouldNotJudge struct {
	Cause string `json:"cause"`
	// Interrupted: a signal stopped the run; the work cut off is no failure.
	Interrupted bool `json:"interrupted,omitempty"`
}

// String is the verdict's reason as reports show it.
func (c *CouldNotJudge) String() string {
	if c.Interrupted {
		return "interrupted: " + c.Cause
	}
	return "could not run: " + c.Cause
}

// Tool identifies the binary that wrote the record. Revision, Dirty and
// RevisionTime (schema v1.1) say which commit it was built from, so a
// record of a "dev" build still names its source; records without them
// read as before.
type Tool struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	GoVersion string `json:"go_version,omitempty"`
	// Revision is the VCS commit the binary was built from, "" if unknown.
	Revision string `json:"revision,omitempty"`
	// Dirty: the working tree had uncommitted changes at build time.
	Dirty bool `json:"dirty,omitempty"`
	// RevisionTime is the commit time of Revision.
	RevisionTime time.Time `json:"revision_time,omitzero"`
}

// String is the tool as reports show it, e.g.
// "ciamcheck v0.3.0 (rev abc1234, dirty)".
func (t Tool) String() string {
	s := strings.TrimSpace(t.Name + " " + t.Version)
	var build []string
	if t.Revision != "" {
		build = append(build, "rev "+shortRevision(t.Revision))
	}
	if t.Dirty {
		build = append(build, "dirty")
	}
	if len(build) > 0 {
		s += " (" + strings.Join(build, ", ") + ")"
	}
	return s
}

// shortRevision abbreviates a commit hash the way git log --oneline does.
func shortRevision(rev string) string {
	if len(rev) > 7 {
		return rev[:7]
	}
	return rev
}

// Target describes the system under test with secrets removed.
type Target struct {
	Kind        string `json:"kind"` // "emulator" or "tenant"
	BaseURL     string `json:"base_url"`
	Tenant      string `json:"tenant"`
	ClientID    string `json:"client_id"`
	ProfileHash string `json:"profile_hash"` // sha256 of the profile file, hex
}

// Outcome of one catalog entry.
type Outcome string

const (
	OutcomePassed  Outcome = "passed"
	OutcomeFailed  Outcome = "failed"
	OutcomeSkipped Outcome = "skipped"
)

// Conformance is the result of a conformance run: one row per catalog entry.
type Conformance struct {
	LabelFilter string `json:"label_filter,omitempty"`
	// Focus is the --focus regular expressions of the run, if any: with a
	// label filter, what an auditor needs to know the run was partial.
	Focus   []string      `json:"focus,omitempty"`
	Entries []EntryResult `json:"entries"`
}

// Strength tells "the page says" from "we infer" for an entry's checks.
type Strength string

const (
	// StrengthNormative: a table or a rule of a reference page states
	// every check of the entry.
	StrengthNormative Strength = "normative"
	// StrengthInferred: some check rests on an example, a logs page, the
	// emulator's documented choice or a reading of the pages.
	StrengthInferred Strength = "inferred"
)

// EntryResult is the verdict on one catalog entry.
type EntryResult struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	// Sources are the reference page sections Source names, each with a
	// link to the text it quotes (build them with NewSourceRef); Flows,
	// Endpoint and EntryKind are the catalog entry's, for the report's
	// summary matrix and table of contents. All four are schema v1.3; a
	// report of an older record shows Source as text and derives the last
	// three from the ID (see entryPlace).
	Sources   []SourceRef `json:"sources,omitempty"`
	Flows     []string    `json:"flows,omitempty"`
	Endpoint  string      `json:"endpoint,omitempty"`
	EntryKind string      `json:"entry_kind,omitempty"`
	Outcome   Outcome     `json:"outcome"`
	// Strength is how firmly the reference pages support the entry's
	// checks, as the catalog states it: StrengthNormative or
	// StrengthInferred; empty in records written before it existed.
	Strength Strength      `json:"strength,omitempty"`
	Reason   string        `json:"reason,omitempty"` // failure message or skip reason
	Specs    []string      `json:"specs,omitempty"`  // spec texts that cover the entry
	Duration time.Duration `json:"duration_ns"`
	Evidence []Exchange    `json:"evidence,omitempty"`
}

// Exchange is one recorded HTTP request and answer, redacted.
type Exchange struct {
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Form       map[string]string `json:"form,omitempty"`
	Status     int               `json:"status"`
	Headers    map[string]string `json:"headers,omitempty"`
	Body       string            `json:"body,omitempty"`
	DurationNS time.Duration     `json:"duration_ns"`
}

// Load is the result of a load run.
type Load struct {
	Plan json.RawMessage `json:"plan"`
	// PlanThresholds are the plan's thresholds as text (normalised), so any
	// later reader can judge the record again: Judge evaluates them on the
	// record's data, a merged record's on the merged data.
	PlanThresholds []string         `json:"plan_thresholds,omitempty"`
	Scenarios      []ScenarioResult `json:"scenarios"`
	// Thresholds are PlanThresholds as evaluated when the record was
	// written, for readers of the JSON; Judge evaluates them again.
	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
	// Checks are what the load generator alone could see about its own
	// measurement (histogram values lost, flows that never returned): facts
	// of the run, kept as written and never re-evaluated.
	Checks []ThresholdResult `json:"checks,omitempty"`
	// Aborted says in words why the run stopped before its schedule ended;
	// Stop (v1.2) says which kind of stop it was, for the verdict.
	Aborted string   `json:"aborted,omitempty"`
	Stop    StopKind `json:"stop,omitempty"`
	// MinApplied (v1.2) is the share of its schedule each scenario must
	// have applied for the run to be judged (the plan's min_applied); 0 in
	// a record written before, which is judged without that check.
	MinApplied float64 `json:"min_applied,omitempty"`
	// Segment is the execution segment the record ran when one plan is
	// split between workers ("2/4", see Segment); empty for the whole plan.
	Segment string `json:"segment,omitempty"`
	// StartAt is the wall-clock time the run was told to begin at
	// (--start-at), so workers of one plan begin together.
	StartAt time.Time `json:"start_at,omitzero"`
	// BeganAt is when the scenarios actually began (after setup and any
	// wait for StartAt); merge compares the inputs' to warn of skew.
	BeganAt time.Time `json:"began_at,omitzero"`
	// Partial, in a merged record, says which segments of the plan were
	// missing when merge was allowed to go on without them.
	Partial string `json:"partial,omitempty"`
	// MergeWarnings are what merge noticed but did not refuse (start skew).
	MergeWarnings []string `json:"merge_warnings,omitempty"`
	// MergedFrom lists the records a merged record was made of.
	MergedFrom []MergeInput `json:"merged_from,omitempty"`
}

// StopKind is why a load run ended before its schedule did.
type StopKind string

const (
	// StopInterrupted: a signal (Ctrl-C, SIGTERM) stopped the run.
	StopInterrupted StopKind = "interrupted"
	// StopThrottled: abort_on_throttle stopped the run.
	StopThrottled StopKind = "throttled"
	// StopRetryAfter: the target asked to wait longer than the plan's
	// max_retry_after.
	StopRetryAfter StopKind = "retry_after"
	// StopAborted: another abort, as records before v1.2 have (their
	// interruptions aside); only Merge writes it, for such parts.
	StopAborted StopKind = "aborted"
)

// MergeInput is one record given to Merge: where it came from and the
// SHA-256 of its bytes, so an auditor can match the inputs kept elsewhere.
type MergeInput struct {
	Source string `json:"source"` // the path given to report merge
	RunID  string `json:"run_id,omitempty"`
	SHA256 string `json:"sha256"` // lowercase hex of the record file
	// Segment is the input's Load.Segment, when it ran one.
	Segment string `json:"segment,omitempty"`
}

// ScenarioResult is one scenario of a load plan.
type ScenarioResult struct {
	Name       string `json:"name"`
	Flow       string `json:"flow"`
	Executor   string `json:"executor"`
	Iterations int64  `json:"iterations"`
	Expected   int64  `json:"expected,omitempty"`
	Failed     int64  `json:"failed"`
	Dropped    int64  `json:"dropped"`
	// Throttled counts arrivals (VU starts for the closed model) held back
	// by the Retry-After of a 429, Unavailable (v1.2) those held back by
	// the Retry-After of a 503.
	Throttled   int64         `json:"throttled"`
	Unavailable int64         `json:"unavailable,omitempty"`
	Duration    time.Duration `json:"duration_ns"`
	// Scheduled (v1.2) is how long the plan scheduled the scenario to run,
	// and Paused how much of that time new iterations were held back by a
	// Retry-After: for the closed model, whose schedule is time rather
	// than arrivals, they say how much of the load was applied.
	Scheduled time.Duration `json:"scheduled_ns,omitempty"`
	Paused    time.Duration `json:"paused_ns,omitempty"`
	FlowStats *StepStats    `json:"flow_stats,omitempty"`
	Steps     []StepStats   `json:"steps"`
	// Intervals is the scenario's timeline (schema v1.3), oldest first: one
	// entry per interval the load generator cut (every --interval; a run
	// longer than 720 intervals is cut in whole multiples of it, so the
	// record stays small).
	Intervals []Interval `json:"intervals,omitempty"`
}

// Interval is one scenario's figures over one interval of the run, compact
// enough to keep every interval of a long run: counts, and a few
// response-time percentiles per step, not histograms.
type Interval struct {
	Start time.Time     `json:"start"`
	Span  time.Duration `json:"span_ns"`
	// TargetRate is the arrival rate the plan's schedule asked for over
	// the interval (arrivals due in it per second); 0 for the closed
	// model, whose rate the target's speed decides.
	TargetRate float64 `json:"target_rate,omitempty"`
	// Iterations is the number of flows that ended in the interval: the
	// achieved rate is Iterations over Span.
	Iterations int64 `json:"iterations"`
	Failed     int64 `json:"failed,omitempty"`
	Dropped    int64 `json:"dropped,omitempty"`
	Throttled  int64 `json:"throttled,omitempty"` // arrivals held back by a 429's Retry-After
	// Unavailable counts arrivals held back by a 503's Retry-After.
	Unavailable int64 `json:"unavailable,omitempty"`
	// Merged is how many intervals of different records report merge
	// combined into this one, 0 for a single run. When it is above 1, each
	// step's percentiles are the highest of the parts' percentiles, an
	// upper bound of the merged run's (a merged q-quantile lies between
	// the parts' smallest and largest); Max and the counts stay exact.
	Merged int            `json:"merged,omitempty"`
	Steps  []IntervalStep `json:"steps"`
}

// SourceRef is one reference page section an entry quotes: as a reader
// names it ("page § section") and a link to the quoted text.
type SourceRef struct {
	Text string `json:"text"`
	URL  string `json:"url,omitempty"`
}

// IntervalStep is one step (or FlowStep) within an Interval.
type IntervalStep struct {
	Step   string `json:"step"`
	Count  int64  `json:"count"`
	Errors int64  `json:"errors,omitempty"` // outcomes that are Failure()
	// Throttled counts 429 answers.
	Throttled int64 `json:"throttled,omitempty"`
	// Response time percentiles in microseconds.
	P50 int64 `json:"p50_us"`
	P90 int64 `json:"p90_us"`
	P99 int64 `json:"p99_us"`
	Max int64 `json:"max_us"`
}

// AchievedRate is the interval's completed iterations per second.
func (iv Interval) AchievedRate() float64 {
	if iv.Span <= 0 {
		return 0
	}
	return float64(iv.Iterations) / iv.Span.Seconds()
}

// StepStats is one step's counters and histograms. Histograms are the
// base64 compressed HdrHistogram encoding (hdrhistogram-go Encode), so they
// merge exactly across runs and machines.
type StepStats struct {
	Step         string         `json:"step"`
	Count        int64          `json:"count"`
	Outcomes     []OutcomeCount `json:"outcomes"`
	ServiceTime  Histogram      `json:"service_time"`
	ResponseTime Histogram      `json:"response_time"`
}

// OutcomeCount counts results by HTTP status, error and suberror.
type OutcomeCount struct {
	HTTPStatus int    `json:"http_status"`
	Error      string `json:"error,omitempty"`
	Suberror   string `json:"suberror,omitempty"`
	Redirect   bool   `json:"redirect,omitempty"`
	Transport  bool   `json:"transport,omitempty"` // no HTTP answer
	// TransportClass (v1.2) says why there was no answer: dns, refused,
	// timeout, tls, reset or other; Example is one such failure's message,
	// shortened, with no query string or form (never a secret).
	TransportClass string `json:"transport_class,omitempty"`
	Example        string `json:"example,omitempty"`
	// Expected marks an error answer the flow asks for as a documented turn
	// (credential_required, attributes_required): counted, never a failure.
	Expected bool  `json:"expected,omitempty"`
	Count    int64 `json:"count"`
}

// Histogram is an encoded HdrHistogram with a few figures precomputed from it
// for readers that do not decode histograms. Values recorded in the histogram
// are microseconds, so the figures are too. Build one with EncodeHistogram so
// figures and encoding agree; Read rejects a record where they do not.
type Histogram struct {
	Encoded string  `json:"encoded"`
	Count   int64   `json:"count"`
	P50     int64   `json:"p50_us"`
	P90     int64   `json:"p90_us"`
	P99     int64   `json:"p99_us"`
	P999    int64   `json:"p999_us"`
	Max     int64   `json:"max_us"`
	Mean    float64 `json:"mean_us"`
}

// ThresholdResult is one evaluated threshold of the plan, or one check of
// the measurement.
type ThresholdResult struct {
	Expr   string `json:"expr"`
	Actual string `json:"actual"`
	Passed bool   `json:"passed"`
}
