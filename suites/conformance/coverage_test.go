package conformance

import (
	"slices"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
)

// TestCatalogCoverage keeps the catalog and the specs in step: every
// catalog entry has at least one spec, every spec names catalog entries
// only, every catalog trigger has a driver and every label is in the
// frozen vocabulary.
func TestCatalogCoverage(t *testing.T) {
	report := PreviewSpecs(SuiteDescription)
	catalog := map[string]bool{}
	for _, ref := range catalogRefs() {
		catalog[ref.ID] = true
	}
	if len(catalog) == 0 {
		t.Fatal("the catalog is empty")
	}
	covered := map[string]int{}
	for _, sr := range report.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		ids := IDsInText(sr.FullText())
		if len(ids) == 0 {
			t.Errorf("spec %q names no catalog entry (want %s in its text)", sr.FullText(), Tag("ID"))
		}
		for _, id := range ids {
			if !catalog[id] {
				t.Errorf("spec %q names %s, which is not in the catalog", sr.FullText(), id)
			}
			covered[id]++
		}
		// Ginkgo labels Serial specs "Serial" itself; that label is
		// Ginkgo's, as stable as the decorator.
		vocab := append(LabelVocabulary(), "Serial")
		for _, l := range sr.Labels() {
			if !slices.Contains(vocab, l) {
				t.Errorf("spec %q carries label %q, which is not in the vocabulary", sr.FullText(), l)
			}
		}
	}
	for _, ref := range catalogRefs() {
		if covered[ref.ID] == 0 {
			t.Errorf("catalog entry %s has no spec", ref.ID)
		}
	}
	for _, c := range Cases() {
		_, form := triggers[c.Trigger]
		_, raw := rawTriggers[c.Trigger]
		if !form && !raw {
			t.Errorf("catalog entry %s: trigger %q has no driver", c.ID, c.Trigger)
		}
	}
	if bad := UnknownLabels(Cases(), LabelVocabulary()); len(bad) > 0 {
		t.Errorf("labels outside the vocabulary: %v", bad)
	}
}
