package specreport

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
)

func spec(text string, state types.SpecState, msg string, evidence ...reports.Exchange) types.SpecReport {
	sr := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: state, RunTime: time.Second}
	// The test's texts start "[catalog:ID,…]"; the spec carries the IDs as
	// labels, as the suite's specs do.
	if ids, ok := strings.CutPrefix(text, "[catalog:"); ok {
		ids, _, _ = strings.Cut(ids, "]")
		for _, id := range strings.Split(ids, ",") {
			sr.LeafNodeLabels = append(sr.LeafNodeLabels, LabelPrefix+id)
		}
	}
	sr.Failure.Message = msg
	if len(evidence) > 0 {
		sr.ReportEntries = append(sr.ReportEntries, types.ReportEntry{Name: EvidenceEntry, Value: types.WrapEntryValue(evidence)})
	}
	return sr
}

func TestBuildRecord(t *testing.T) {
	ex := reports.Exchange{Method: "POST", Path: "/signup/v1.0/start", Status: 400}
	report := types.Report{SpecReports: types.SpecReports{
		spec("[catalog:PASS] ok", types.SpecStatePassed, "", ex),
		spec("[catalog:MIXED] one", types.SpecStatePassed, ""),
		spec("[catalog:MIXED] two", types.SpecStateFailed, "status: want 400, got 500"),
		spec("[catalog:SKIP] a", types.SpecStateSkipped, "needs a disabled client"),
		spec("[catalog:SKIP] b", types.SpecStateSkipped, "needs a disabled client"),
		spec("[catalog:HALF] a", types.SpecStateSkipped, "needs backdoor"),
		spec("[catalog:HALF] b", types.SpecStatePassed, ""),
		spec("[catalog:FILTERED] a", types.SpecStateSkipped, ""),
		spec("[catalog:TIMEOUT] a", types.SpecStateTimedout, "timed out"),
		spec("[catalog:GHOST] a", types.SpecStatePassed, ""),
		{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStateFailed, LeafNodeText: "[catalog:PASS]"},
	}}
	entries := []EntryRef{{"PASS", "p § s", reports.StrengthInferred}, {"MIXED", "", reports.StrengthNormative}, {"SKIP", "", ""}, {"HALF", "", ""}, {"FILTERED", "", ""}, {"TIMEOUT", "", ""}, {"NONE", "", ""}}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := BuildRecord(report, entries, RunMeta{Tool: reports.Tool{Name: "ciamcheck", Version: "v1"}, LabelFilter: "flow:signup", StartedAt: start, EndedAt: start.Add(time.Minute)})

	if rec.Schema != reports.SchemaVersion || rec.Kind != reports.KindConformance || rec.Tool.Version != "v1" || !rec.EndedAt.After(rec.StartedAt) {
		t.Errorf("metadata = %+v", rec)
	}
	if rec.Conformance.LabelFilter != "flow:signup" {
		t.Errorf("label filter = %q", rec.Conformance.LabelFilter)
	}
	want := map[string]struct {
		outcome reports.Outcome
		reason  string
	}{
		"PASS":     {reports.OutcomePassed, ""},
		"MIXED":    {reports.OutcomeFailed, "two: status: want 400, got 500"},
		"SKIP":     {reports.OutcomeSkipped, "needs a disabled client"},
		"HALF":     {reports.OutcomePassed, ""},
		"FILTERED": {reports.OutcomeSkipped, "not selected (label filter or focus)"},
		"TIMEOUT":  {reports.OutcomeFailed, "a: timed out"},
		"NONE":     {reports.OutcomeFailed, "no spec covers this catalog entry"},
		"GHOST":    {reports.OutcomeFailed, "a spec names this ID but the catalog has no such entry"},
	}
	if len(rec.Conformance.Entries) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rec.Conformance.Entries), len(want))
	}
	for i, row := range rec.Conformance.Entries {
		w := want[row.ID]
		if row.Outcome != w.outcome || row.Reason != w.reason {
			t.Errorf("%s: outcome %s reason %q, want %s %q", row.ID, row.Outcome, row.Reason, w.outcome, w.reason)
		}
		if i < len(entries) && row.ID != entries[i].ID {
			t.Errorf("row %d = %s, want catalog order %s", i, row.ID, entries[i].ID)
		}
	}
	pass := rec.Conformance.Entries[0]
	if len(pass.Evidence) != 1 || pass.Evidence[0].Path != ex.Path || pass.Source != "p § s" || pass.Strength != reports.StrengthInferred || pass.Duration != time.Second || len(pass.Specs) != 1 {
		t.Errorf("PASS row = %+v", pass)
	}
	if s := Summarize(rec); s != (Summary{Passed: 2, Failed: 4, Skipped: 2}) {
		t.Errorf("Summarize = %+v", s)
	}
	if got := strings.Join(FailedIDs(rec), ","); got != "GHOST,MIXED,NONE,TIMEOUT" {
		t.Errorf("FailedIDs = %s", got)
	}
}

// A run whose BeforeSuite failed (the target could not be opened) has no
// spec at all: it could not judge, says why, and fails no entry.
func TestBuildRecordSetupFailed(t *testing.T) {
	bs := types.SpecReport{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStateFailed}
	bs.Failure.Message = "open target: dial tcp 127.0.0.1:1: connection refused"
	rec := BuildRecord(types.Report{SpecReports: types.SpecReports{bs}}, []EntryRef{{"A", "", ""}, {"B", "", ""}}, RunMeta{})
	for _, row := range rec.Conformance.Entries {
		if row.Outcome != reports.OutcomeSkipped || row.Reason != "not run: the suite setup failed" {
			t.Errorf("%s: %s %q", row.ID, row.Outcome, row.Reason)
		}
	}
	if v := reports.Judge(&rec); v.Status != reports.StatusNotJudged || !strings.Contains(v.Reason, "could not run: the suite setup failed: open target") || !strings.Contains(v.Reason, "connection refused") {
		t.Errorf("verdict %+v, want not judged with the setup's failure", v)
	}
	plain := BuildRecord(types.Report{SpecReports: types.SpecReports{spec("[catalog:A] a", types.SpecStatePassed, "")}}, []EntryRef{{"A", "", ""}, {"B", "", ""}}, RunMeta{})
	if plain.CouldNotJudge != nil {
		t.Errorf("a run that ran says it could not judge: %v", plain.CouldNotJudge)
	}
}

// A run stopped by a signal is interrupted, not failed: the spec cut off
// is no failure; an entry that really failed before stays failed, but the
// run reaches no verdict.
func TestBuildRecordInterrupted(t *testing.T) {
	report := types.Report{SpecReports: types.SpecReports{
		spec("[catalog:A] a", types.SpecStatePassed, ""),
		spec("[catalog:B] b", types.SpecStateInterrupted, "interrupted by user"),
		spec("[catalog:C] c", types.SpecStateSkipped, "interrupted by user"),
	}}
	report.PreRunStats.SpecsThatWillRun = 3
	rec := BuildRecord(report, []EntryRef{{"A", "", ""}, {"B", "", ""}, {"C", "", ""}}, RunMeta{Interrupted: true})
	if b := rec.Conformance.Entries[1]; b.Outcome != reports.OutcomeSkipped || !strings.Contains(b.Reason, "cut off") {
		t.Errorf("the cut-off entry: %s %q, want skipped as cut off", b.Outcome, b.Reason)
	}
	v := reports.Judge(&rec)
	if v.Status != reports.StatusNotJudged || !strings.HasPrefix(v.Reason, "interrupted: stopped by a signal after 1 of 3 specs") {
		t.Errorf("verdict %+v, want interrupted after 1 of 3", v)
	}
	late := BuildRecord(report, []EntryRef{{"A", "", ""}, {"B", "", ""}, {"C", "", ""}}, RunMeta{EndedAt: time.Unix(100, 0), Deadline: time.Unix(90, 0)})
	if late.CouldNotJudge == nil || !strings.Contains(late.CouldNotJudge.Cause, "time limit") {
		t.Errorf("a run past its deadline: %v, want could not judge (time limit)", late.CouldNotJudge)
	}
}

// Across parallel processes report entries arrive as JSON only.
func TestSpecEvidenceFromJSON(t *testing.T) {
	ex := []reports.Exchange{{Method: "POST", Path: "/x", Status: 200}}
	sr := spec("[catalog:A] a", types.SpecStatePassed, "", ex...)
	b, err := json.Marshal(sr.ReportEntries[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	var v types.ReportEntryValue
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	sr.ReportEntries[0].Value = v
	got := specEvidence(sr)
	if len(got) != 1 || got[0].Path != "/x" {
		t.Errorf("specEvidence = %+v", got)
	}
}

// TestRecordPlacesEntries: a catalog entry's row carries its flows,
// endpoint, kind and linked sources, for the report's matrix and links.
func TestRecordPlacesEntries(t *testing.T) {
	e, ok := catalog.ByID("signup.start.success")
	if !ok {
		t.Fatal("catalog has no signup.start.success")
	}
	row := (&entryAgg{}).row(EntryRef{ID: e.ID, Source: sourceText(e.Source)}, false)
	if row.Endpoint != string(e.Endpoint) || row.EntryKind != "success" || len(row.Flows) == 0 || row.Flows[0] != "signup" {
		t.Errorf("place: want signup %s success, got %v %s %s", e.Endpoint, row.Flows, row.Endpoint, row.EntryKind)
	}
	if len(row.Sources) != len(e.Source) || !strings.Contains(row.Sources[0].URL, string(e.Source[0].Page)+".txt#:~:text=") {
		t.Errorf("sources: want %d linked, got %+v", len(e.Source), row.Sources)
	}
	if other := (&entryAgg{}).row(EntryRef{ID: "NOT-IN-CATALOG"}, false); other.Endpoint != "" || other.Sources != nil {
		t.Errorf("an ID outside the catalog got a place: %+v", other)
	}
}

// A quiet CLI run writes each failure as it happens and, now and then, how
// far it is — in catalog terms, without Ginkgo's own spec counts.
func TestProgressLines(t *testing.T) {
	var b strings.Builder
	p := NewProgress(&b, time.Hour)
	p.Begin(3)
	p.Spec(spec("[catalog:A] a", types.SpecStatePassed, ""))
	p.Spec(spec("[catalog:B,C] b", types.SpecStateFailed, "[catalog:B] body.error: want invalid_grant, got invalid_request\nmore"))
	if got := b.String(); got != "  FAIL B, C: [catalog:B] body.error: want invalid_grant, got invalid_request\n" {
		t.Fatalf("got %q", got)
	}
	p.every = 0
	p.Spec(spec("[catalog:D] d", types.SpecStateSkipped, "needs x"))
	if !strings.HasSuffix(b.String(), "  … 3 of 3 specs run (1 failed, 1 skipped)\n") {
		t.Fatalf("got %q", b.String())
	}
}

// TestEntriesCarryStrength: every row of a run record gets its entry's
// strength from the catalog, so reports can tell the two apart.
func TestEntriesCarryStrength(t *testing.T) {
	n := map[string]int{}
	for _, ref := range Entries() {
		e, ok := catalog.ByID(ref.ID)
		if !ok {
			t.Fatalf("%s: not in the catalog", ref.ID)
		}
		if string(ref.Strength) != string(e.Normative.Basis) || ref.Strength == "" {
			t.Errorf("%s: strength %q, catalog basis %q", ref.ID, ref.Strength, e.Normative.Basis)
		}
		n[string(ref.Strength)]++
	}
	if n["normative"] == 0 || n["inferred"] == 0 {
		t.Errorf("strengths %v: want both normative and inferred entries", n)
	}
}
