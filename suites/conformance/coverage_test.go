package conformance

import (
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/ciamcheck/ciamcheck/suites/catalog"
	"github.com/ciamcheck/ciamcheck/suites/specreport"
)

// TestCatalogCoverage keeps the catalog and the specs in step: every
// catalog entry has at least one spec, every spec names catalog entries
// only (as data: its catalog: labels), and every other label is in the
// frozen vocabulary.
func TestCatalogCoverage(t *testing.T) {
	report := PreviewSpecs(SuiteDescription)
	catalog := map[string]bool{}
	for _, ref := range Entries() {
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
		ids := specreport.IDs(sr)
		if len(ids) == 0 {
			t.Errorf("spec %q names no catalog entry (want a %sID label)", sr.FullText(), specreport.LabelPrefix)
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
			if !slices.Contains(vocab, l) && !strings.HasPrefix(l, specreport.LabelPrefix) {
				t.Errorf("spec %q carries label %q, which is not in the vocabulary", sr.FullText(), l)
			}
		}
	}
	for _, ref := range Entries() {
		if covered[ref.ID] == 0 {
			t.Errorf("catalog entry %s has no spec", ref.ID)
		}
	}
}

// TestDriversMatchVocabulary: the drivers table has exactly one driver per
// trigger of the catalog's vocabulary, none unused, none missing, and
// every trigger the vocabulary has is used by an entry.
func TestDriversMatchVocabulary(t *testing.T) {
	vocab := catalog.Triggers()
	for _, n := range vocab {
		if drivers[n] == nil {
			t.Errorf("trigger %q has no driver", n)
		}
	}
	for n := range drivers {
		if !slices.Contains(vocab, n) {
			t.Errorf("driver %q drives no trigger of the vocabulary", n)
		}
	}
	used := map[catalog.TriggerName]bool{}
	for _, e := range catalog.All() {
		used[e.Trigger.Name] = true
	}
	for _, n := range vocab {
		if !used[n] {
			t.Errorf("trigger %q is in the vocabulary but no entry uses it", n)
		}
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
		ids := flowEntries[key]
		if len(ids) == 0 {
			t.Errorf("flow %s names no catalog entry", key)
			continue
		}
		found := false
		for _, sr := range report.SpecReports {
			if sr.LeafNodeType == types.NodeTypeIt && slices.Equal(specreport.IDs(sr), ids) {
				found = true
			}
		}
		if !found {
			t.Errorf("flow %s has no spec (want one labelled with %v)", key, ids)
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
