package conformance

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/scenarios"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
	"github.com/ciamcheck/ciamcheck/suites/specreport"
)

// realExpiry is the variant of an expiry entry for a tenant without a
// clock backdoor: it waits for real expiry, so it is labelled slow and
// needs no backdoor.
func realExpiry(e catalog.Entry) catalog.Entry {
	slow := e
	slow.Labels = []string{LabelSlow}
	for _, l := range e.Labels {
		if !strings.HasPrefix(l, "needs:backdoor") {
			slow.Labels = append(slow.Labels, l)
		}
	}
	slow.Needs = nil
	for _, c := range e.Needs {
		if !c.IsBackdoor() {
			slow.Needs = append(slow.Needs, c)
		}
	}
	return slow
}

// expiring is a continuation token a real-expiry spec waits on.
type expiring struct {
	reached  *scenarios.Reached
	skip     string
	err      error
	evidence []reports.Exchange
}

// describeRealExpiry runs the real-expiry variants as one Ordered
// container: every token is issued first, then one wait of the token
// lifetime serves them all. One wait per spec made the slow specs last
// 9 × 10.5 minutes, past the run's default one-hour timeout.
func describeRealExpiry(entries []catalog.Entry) {
	Describe("real expiry", append(realExpiryDecorators, func() {
		var tokens map[string]*expiring
		BeforeAll(func(ctx SpecContext) {
			tokens = issueExpiring(ctx, entries)
		}, NodeTimeout(realExpiryTimeout))
		for _, e := range entries {
			slow := realExpiry(e)
			// The spec timeout bounds BeforeAll too (it runs as part of the
			// first spec), so it must hold the whole wait.
			It(specreport.Text(e.Title+" (real expiry)", e.ID), Label(slow.Labels...), specreport.Labels(e.ID), SpecTimeout(realExpiryTimeout), func(ctx SpecContext) {
				x := tokens[e.ID]
				if x == nil {
					Fail(fmt.Sprintf("[catalog:%s] setup: no token was issued", e.ID))
				}
				if len(x.evidence) > 0 {
					AddReportEntry(specreport.EvidenceEntry, x.evidence, ReportEntryVisibilityNever)
				}
				if x.skip != "" {
					Skip(x.skip)
				}
				setup(x.err, "[catalog:%s] setup: reach %s", e.ID, endpointOf(e))
				resp, err := env.Walker().Client.Send(ctx, x.reached.Call)
				setup(err, "[catalog:%s] %s", e.ID, endpointOf(e))
				must(e.ID, Answer(slow, resp, x.reached.Username, nil))
			})
		}
	})...)
}

// issueExpiring issues every real-expiry spec's token, then waits once for
// them all to expire.
func issueExpiring(ctx SpecContext, entries []catalog.Entry) map[string]*expiring {
	tokens := map[string]*expiring{}
	if has, _ := env.Has(profile.CapClock); has {
		for _, e := range entries {
			tokens[e.ID] = &expiring{skip: "the target's clock backdoor covers this case without waiting (the fast spec)"}
		}
		return tokens
	}
	wait := false
	for _, e := range entries {
		x := &expiring{}
		tokens[e.ID] = x
		for _, c := range realExpiry(e).Needs {
			if has, reason := env.Has(c); !has && x.skip == "" {
				x.skip = fmt.Sprintf("needs %s: %s", c, reason)
			}
		}
		if x.skip != "" {
			continue
		}
		x.reached, x.err = env.Walker().Reach(ctx, endpointOf(e))
		// Each spec shows the exchanges that issued its token.
		x.evidence = recorder.Take()
		wait = wait || x.err == nil
	}
	if wait {
		select {
		case <-ctx.Done():
			Fail(fmt.Sprintf("waiting for real expiry: %v", ctx.Err()))
		case <-time.After(defaultContinuationLifetime + 30*time.Second):
		}
	}
	return tokens
}

// realExpiryDecorators make the real-expiry container Ordered (BeforeAll
// issues every token once) and ContinueOnFailure: the specs only share the
// wait, so one tenant deviation must not skip the other entries.
var realExpiryDecorators = []any{Ordered, ContinueOnFailure}

// realExpiryTimeout bounds the real-expiry container's setup: issuing
// every token, then the one wait.
const realExpiryTimeout = defaultContinuationLifetime + 15*time.Minute
