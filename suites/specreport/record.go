// Package specreport turns what Ginkgo reports of the conformance specs
// into the run record (one row per catalog entry) and into the progress
// lines of a quiet run. A spec names the catalog entries it proves by
// labels (Labels) and carries its exchanges as a report entry
// (EvidenceEntry); both are read back from its SpecReport.
package specreport

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
)

// EntryRef is what the run record needs to know of a catalog entry.
type EntryRef struct {
	ID     string
	Source string // "page § section", resolvable by a reader
	// Strength is the entry's catalog basis: normative or inferred.
	Strength reports.Strength
}

// EvidenceEntry names the report entry that carries a spec's exchanges.
const EvidenceEntry = "evidence"

// LabelPrefix is the Ginkgo label set that names the catalog entries a
// spec proves ("catalog:signup.start.success"): each spec carries its
// entries as data, read back from its SpecReport, for specs that ran, were
// skipped or were filtered out alike.
const LabelPrefix = "catalog:"

// Labels is the decorator naming the catalog entries a spec proves.
func Labels(ids ...string) ginkgo.Labels {
	ls := make(ginkgo.Labels, 0, len(ids))
	for _, id := range ids {
		ls = append(ls, LabelPrefix+id)
	}
	return ls
}

// IDs returns the catalog entries a spec proves.
func IDs(sr types.SpecReport) []string {
	var out []string
	for _, l := range sr.Labels() {
		if id, ok := strings.CutPrefix(l, LabelPrefix); ok {
			out = append(out, id)
		}
	}
	return out
}

// Text is a spec's text: the entries it proves, for people and for
// --focus, and what it shows.
func Text(text string, ids ...string) string {
	return "[catalog:" + strings.Join(ids, ",") + "] " + text
}

// RunMeta is the run metadata of a record.
type RunMeta struct {
	Tool        reports.Tool
	Target      reports.Target
	LabelFilter string
	Focus       []string
	StartedAt   time.Time
	EndedAt     time.Time
	// Interrupted: a signal stopped the run. Deadline is when --timeout
	// ends it (zero: none).
	Interrupted bool
	Deadline    time.Time
}

// BuildRecord turns a Ginkgo suite report into the run record: one row per
// catalog entry, in catalog order. An entry is failed if any of its specs
// failed, skipped only if all were skipped (with their reasons), passed
// otherwise. An entry no spec names is failed, so a gap can never look like
// a pass. A run that could not judge — its setup failed, a signal stopped
// it, it ran out of time — says so (reports.CouldNotJudge) instead of
// failing entries it never judged: a spec cut off by the interrupt is not a
// failure.
func BuildRecord(report types.Report, entries []EntryRef, meta RunMeta) reports.Record {
	results, setup, ran := aggregate(report, entries)
	conf := &reports.Conformance{LabelFilter: meta.LabelFilter, Focus: meta.Focus}
	for _, e := range entries {
		conf.Entries = append(conf.Entries, results[e.ID].row(e, setup != "" && ran == 0))
	}
	for _, id := range dedupe(results[orphanKey].specs) {
		conf.Entries = append(conf.Entries, reports.EntryResult{ID: id, Outcome: reports.OutcomeFailed,
			Reason: "a spec names this ID but the catalog has no such entry"})
	}
	rec := reports.Record{
		Schema:      reports.SchemaVersion,
		Kind:        reports.KindConformance,
		Tool:        meta.Tool,
		Target:      meta.Target,
		StartedAt:   meta.StartedAt,
		EndedAt:     meta.EndedAt,
		Conformance: conf,
	}
	switch willRun := report.PreRunStats.SpecsThatWillRun; {
	case setup != "" && ran == 0:
		rec.CouldNotJudge = &reports.CouldNotJudge{Cause: setup}
	case meta.Interrupted:
		rec.CouldNotJudge = &reports.CouldNotJudge{Interrupted: true,
			Cause: fmt.Sprintf("stopped by a signal after %d of %d specs; the spec cut off is not counted as a failure", ran, willRun)}
	case !meta.Deadline.IsZero() && !meta.EndedAt.Before(meta.Deadline):
		rec.CouldNotJudge = &reports.CouldNotJudge{Cause: fmt.Sprintf("the run reached its time limit after %d of %d specs (--timeout)", ran, willRun)}
	}
	return rec
}

// orphanKey collects the IDs specs name that the catalog does not have.
const orphanKey = "\x00orphans"

// entryAgg is what the specs of one entry showed.
type entryAgg struct {
	specs    []string
	failed   []string
	skipped  []string
	passed   int
	duration time.Duration
	evidence []reports.Exchange
}

// aggregate sorts the specs of report by the entries they name. setup is
// why the suite setup failed, if it did; ran counts the specs that ran to
// an outcome of their own.
func aggregate(report types.Report, entries []EntryRef) (byID map[string]*entryAgg, setup string, ran int) {
	byID = map[string]*entryAgg{orphanKey: {}}
	for _, e := range entries {
		byID[e.ID] = &entryAgg{}
	}
	for _, sr := range report.SpecReports {
		if sr.LeafNodeType.Is(types.NodeTypeBeforeSuite|types.NodeTypeSynchronizedBeforeSuite) && sr.State.Is(types.SpecStateFailureStates) && setup == "" {
			setup = "the suite setup failed: " + strings.TrimSpace(sr.Failure.Message)
		}
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		if sr.State.Is(types.SpecStatePassed | types.SpecStateFailed | types.SpecStateTimedout | types.SpecStatePanicked) {
			ran++
		}
		for _, id := range IDs(sr) {
			a, ok := byID[id]
			if !ok {
				byID[orphanKey].specs = append(byID[orphanKey].specs, id)
				continue
			}
			a.add(sr)
		}
	}
	return byID, setup, ran
}

func (a *entryAgg) add(sr types.SpecReport) {
	a.specs = append(a.specs, sr.FullText())
	a.duration += sr.RunTime
	a.evidence = append(a.evidence, specEvidence(sr)...)
	switch {
	case sr.State.Is(types.SpecStatePassed):
		a.passed++
	case sr.State.Is(types.SpecStateInterrupted | types.SpecStateAborted):
		a.skipped = append(a.skipped, "not judged: cut off when the run was stopped")
	case sr.State.Is(types.SpecStateSkipped | types.SpecStatePending):
		a.skipped = append(a.skipped, skipReason(sr))
	default:
		a.failed = append(a.failed, failReason(sr))
	}
}

// row is the entry's line of the record; notRun says the suite setup
// failed before any spec.
func (a *entryAgg) row(e EntryRef, notRun bool) reports.EntryResult {
	row := reports.EntryResult{ID: e.ID, Source: e.Source, Strength: e.Strength, Specs: a.specs, Duration: a.duration, Evidence: a.evidence}
	placeInReport(&row)
	switch {
	case notRun:
		row.Outcome, row.Reason = reports.OutcomeSkipped, "not run: the suite setup failed"
	case len(a.failed) > 0:
		row.Outcome, row.Reason = reports.OutcomeFailed, strings.Join(dedupe(a.failed), "\n")
	case len(a.specs) == 0:
		row.Outcome, row.Reason = reports.OutcomeFailed, "no spec covers this catalog entry"
	case a.passed == 0:
		row.Outcome, row.Reason = reports.OutcomeSkipped, strings.Join(dedupe(a.skipped), "; ")
	default:
		row.Outcome = reports.OutcomePassed
	}
	return row
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func skipReason(sr types.SpecReport) string {
	if msg := strings.TrimSpace(sr.Failure.Message); msg != "" {
		return msg
	}
	if sr.State.Is(types.SpecStatePending) {
		return "pending"
	}
	return "not selected (label filter or focus)"
}

func failReason(sr types.SpecReport) string {
	msg := strings.TrimSpace(sr.Failure.Message)
	if msg == "" {
		msg = sr.State.String()
	}
	for _, af := range sr.AdditionalFailures {
		if m := strings.TrimSpace(af.Failure.Message); m != "" {
			msg += "\n" + m
		}
	}
	return fmt.Sprintf("%s: %s", specTitle(sr.LeafNodeText), msg)
}

// specEvidence reads the evidence report entries of a spec. Entries keep
// their raw value in a serial run and only their JSON across parallel
// processes, so both are handled.
func specEvidence(sr types.SpecReport) []reports.Exchange {
	var out []reports.Exchange
	for _, re := range sr.ReportEntries {
		if re.Name != EvidenceEntry {
			continue
		}
		if v, ok := re.Value.GetRawValue().([]reports.Exchange); ok {
			out = append(out, v...)
			continue
		}
		var v []reports.Exchange
		if err := json.Unmarshal([]byte(re.Value.AsJSON), &v); err == nil {
			out = append(out, v...)
		}
	}
	return out
}

// specTitle is a spec text without the entries it names (Text): the
// record's row already says which entry it is.
func specTitle(text string) string {
	if rest, ok := strings.CutPrefix(text, "[catalog:"); ok {
		if _, title, found := strings.Cut(rest, "] "); found {
			return title
		}
	}
	return text
}

// Summary counts a record's entries by outcome.
type Summary struct {
	Passed, Failed, Skipped int
}

// Summarize counts outcomes.
func Summarize(rec reports.Record) Summary {
	var s Summary
	if rec.Conformance == nil {
		return s
	}
	for _, e := range rec.Conformance.Entries {
		switch e.Outcome {
		case reports.OutcomePassed:
			s.Passed++
		case reports.OutcomeFailed:
			s.Failed++
		case reports.OutcomeSkipped:
			s.Skipped++
		}
	}
	return s
}

// FailedIDs lists the failed entries' IDs, sorted.
func FailedIDs(rec reports.Record) []string {
	var out []string
	if rec.Conformance != nil {
		for _, e := range rec.Conformance.Entries {
			if e.Outcome == reports.OutcomeFailed {
				out = append(out, e.ID)
			}
		}
	}
	sort.Strings(out)
	return out
}

// placeInReport sets what the report navigates by (record schema v1.2):
// the catalog entry's flows, endpoint and kind, and each source with a
// link to the text it quotes (reports.DefaultSpecBase, the pages beside
// the module).
func placeInReport(row *reports.EntryResult) {
	c, ok := catalog.ByID(row.ID)
	if !ok {
		return
	}
	row.Endpoint, row.EntryKind = string(c.Endpoint), string(c.Kind)
	for _, f := range c.Flows {
		row.Flows = append(row.Flows, string(f))
	}
	for _, s := range c.Source {
		row.Sources = append(row.Sources, reports.NewSourceRef("", string(s.Page), s.Section, s.Quote))
	}
}

// sourceText is where the pages document an entry, for a reader.
func sourceText(src []catalog.Source) string {
	var parts []string
	for _, s := range src {
		parts = append(parts, string(s.Page)+" § "+s.Section)
	}
	return strings.Join(parts, "; ")
}

// Entries lists every catalog entry (ID, source and strength) for the run
// record, in catalog order.
func Entries() []EntryRef {
	var out []EntryRef
	for _, e := range catalog.All() {
		out = append(out, EntryRef{ID: e.ID, Source: sourceText(e.Source), Strength: e.Normative.Basis})
	}
	return out
}
