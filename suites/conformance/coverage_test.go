package conformance

import (
	"slices"
	"strings"
	"testing"
	"time"

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

// TestIssueFlows: every flow the conformance issue lists end to end has a
// flow spec, so none can disappear (or never exist) unnoticed.
func TestIssueFlows(t *testing.T) {
	report := PreviewSpecs(SuiteDescription)
	for _, key := range []string{
		"signup.otp", "signup.attributes-at-continue", "signup.optional-after-verification",
		"signup.password-at-start", "signup.credential-required",
		"signin.password", "signin.otp", "signin.refresh",
		"signup.new-challenge-invalidates-code",
		"sspr.reset", "sspr.signin-after-reset", "sspr.old-password-rejected",
	} {
		tag := Tag(flowEntries[key]...)
		if len(flowEntries[key]) == 0 {
			t.Errorf("flow %s names no catalog entry", key)
			continue
		}
		found := false
		for _, sr := range report.SpecReports {
			if sr.LeafNodeType == types.NodeTypeIt && strings.HasPrefix(sr.LeafNodeText, tag+" ") {
				found = true
			}
		}
		if !found {
			t.Errorf("flow %s has no spec (want a spec text starting %s)", key, tag)
		}
	}
}

// TestRealExpiryShareOneWait: the real-expiry specs (label slow) sit in one
// Ordered container, whose BeforeAll issues every token and waits once;
// one wait per spec put nine of them past the run's one-hour timeout.
func TestRealExpiryShareOneWait(t *testing.T) {
	n := 0
	for _, sr := range PreviewSpecs(SuiteDescription).SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt || !slices.Contains(sr.Labels(), LabelSlow) {
			continue
		}
		n++
		if !sr.IsInOrderedContainer || !strings.Contains(sr.FullText(), "real expiry") {
			t.Errorf("slow spec %q is not in the real-expiry Ordered container", sr.FullText())
		}
	}
	if n == 0 {
		t.Error("no real-expiry spec")
	}
}

// TestRealExpiryTimeout: a spec's timeout bounds the BeforeAll it runs, so
// each real-expiry spec's timeout must hold the whole wait (a one-minute
// timeout ended the first run on a tenant after a minute).
func TestRealExpiryTimeout(t *testing.T) {
	if realExpiryTimeout <= defaultContinuationLifetime+30*time.Second {
		t.Errorf("realExpiryTimeout %v does not hold the wait of %v", realExpiryTimeout, defaultContinuationLifetime+30*time.Second)
	}
}

// TestRealExpiryContinueOnFailure: one failed real-expiry spec must not
// skip the others (an Ordered container does that by default).
func TestRealExpiryContinueOnFailure(t *testing.T) {
	if !slices.ContainsFunc(realExpiryDecorators, func(d any) bool { return d == ContinueOnFailure }) {
		t.Error("the real-expiry container is not ContinueOnFailure")
	}
}
