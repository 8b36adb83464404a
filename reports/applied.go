package reports

import (
	"fmt"
	"math"
	"strings"
)

// DefaultMinApplied is the share of its schedule a scenario must apply
// when the plan does not say.
const DefaultMinApplied = 0.95

// appliedOf says how much of its schedule a scenario applied, as a share
// in [0, 1], and what held the rest back; ok is false when the record
// cannot tell (no schedule: a closed-model scenario of a record written
// before v1.2, or an open-model one with no arrivals due).
func appliedOf(s ScenarioResult) (share float64, detail string, ok bool) {
	if isOpenExecutor(s.Executor) {
		if s.Expected <= 0 {
			return 0, "", false
		}
		sent := min(s.Iterations, s.Expected)
		never := max(0, s.Expected-sent-s.Throttled-s.Unavailable-s.Dropped)
		share = float64(sent) / float64(s.Expected)
		detail = fmt.Sprintf("the schedule called for %d arrivals, %d were sent", s.Expected, sent)
		if held := heldBack(s.Throttled, s.Unavailable, s.Dropped, never, "arrivals"); held != "" {
			detail += " (" + held + ")"
		}
		return share, detail, true
	}
	// Closed model: VUs start iterations as fast as the target answers,
	// so the schedule is time: the VUs ran for Duration of Scheduled, and
	// were held back by Retry-After for Paused of it. An iteration limit
	// reached is the whole schedule, whenever it was reached.
	if s.Expected > 0 && s.Iterations >= s.Expected {
		return 1, fmt.Sprintf("the iteration limit %d was reached", s.Expected), true
	}
	if s.Scheduled <= 0 {
		return 0, "", false
	}
	ran := min(s.Duration, s.Scheduled)
	active := max(0, ran-min(s.Paused, ran))
	share = float64(active) / float64(s.Scheduled)
	detail = fmt.Sprintf("the VUs ran %s of the %s scheduled", roundDuration(active), roundDuration(s.Scheduled))
	var why []string
	if s.Paused > 0 {
		why = append(why, fmt.Sprintf("%s held back by Retry-After", roundDuration(min(s.Paused, ran))))
	}
	if ran < s.Scheduled {
		why = append(why, fmt.Sprintf("%s never run: the run stopped early", roundDuration(s.Scheduled-ran)))
	}
	if len(why) > 0 {
		detail += " (" + strings.Join(why, ", ") + ")"
	}
	return share, detail, true
}

// heldBack lists the arrivals that were not sent, by cause.
func heldBack(throttled, unavailable, dropped, never int64, what string) string {
	var parts []string
	if throttled > 0 {
		parts = append(parts, fmt.Sprintf("%d held back by Retry-After of 429 answers", throttled))
	}
	if unavailable > 0 {
		parts = append(parts, fmt.Sprintf("%d held back by Retry-After of 503 answers", unavailable))
	}
	if dropped > 0 {
		parts = append(parts, fmt.Sprintf("%d dropped (max_in_flight reached, or every user of the pool in use)", dropped))
	}
	if never > 0 {
		parts = append(parts, fmt.Sprintf("%d %s never started: the run stopped early", never, what))
	}
	return strings.Join(parts, ", ")
}

func isOpenExecutor(e string) bool {
	return e == "constant-arrival-rate" || e == "ramping-arrival-rate"
}

// judgeApplied checks each scenario's applied share against l.MinApplied.
// The result has one row per scenario that has a schedule; causes lists
// the scenarios below the bound.
func judgeApplied(l *Load) (rows []ThresholdResult, causes []string) {
	if l.MinApplied <= 0 {
		return nil, nil
	}
	for _, s := range l.Scenarios {
		share, detail, ok := appliedOf(s)
		if !ok {
			continue
		}
		// Rounding to a tenth of a percent keeps 94.99…% from reading as
		// "95% < 95%".
		passed := math.Round(share*1000) >= math.Round(l.MinApplied*1000)
		rows = append(rows, ThresholdResult{
			Expr:   fmt.Sprintf("%s load applied >= %s", s.Name, percent(l.MinApplied)),
			Actual: fmt.Sprintf("%s: %s", percent(share), detail),
			Passed: passed,
		})
		if !passed {
			causes = append(causes, fmt.Sprintf("%s: %s (%s applied, min_applied %s)", s.Name, detail, percent(share), percent(l.MinApplied)))
		}
	}
	return rows, causes
}

// percent formats a share as a percentage with at most one decimal.
func percent(f float64) string {
	s := fmt.Sprintf("%.1f", f*100)
	return strings.TrimSuffix(s, ".0") + "%"
}
