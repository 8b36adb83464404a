package conformance

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
)

// progress replaces Ginkgo's own output in a CLI run that is not verbose:
// Ginkgo counts specs (210) where the run's verdict counts catalog entries
// (184), and two counts on one screen confuse. It writes each failure as
// it happens (its entries and first line) and, every progressEvery, how
// far the run is, so a long run against a tenant is never silent in a CI
// log; the CLI then prints the one count that matters.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	every   time.Duration
	total   int
	done    int
	failed  int
	skipped int
	last    time.Time
}

// progressEvery is how often a quiet run says how far it is.
const progressEvery = 10 * time.Second

var runProgress struct {
	sync.Mutex
	p *progress
}

func setProgress(w io.Writer) {
	runProgress.Lock()
	defer runProgress.Unlock()
	runProgress.p = nil
	if w != nil {
		runProgress.p = &progress{w: w, every: progressEvery, last: time.Now()}
	}
}

func currentProgress() *progress {
	runProgress.Lock()
	defer runProgress.Unlock()
	return runProgress.p
}

var _ = ReportBeforeSuite(func(r types.Report) {
	if p := currentProgress(); p != nil {
		p.mu.Lock()
		p.total = r.PreRunStats.SpecsThatWillRun
		p.mu.Unlock()
	}
})

var _ = ReportAfterEach(func(sr types.SpecReport) {
	if p := currentProgress(); p != nil {
		p.spec(sr)
	}
})

func (p *progress) spec(sr types.SpecReport) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	switch {
	case sr.State.Is(types.SpecStateSkipped | types.SpecStatePending):
		p.skipped++
	case sr.State.Is(types.SpecStateFailureStates):
		p.failed++
		first, _, _ := strings.Cut(strings.TrimSpace(sr.Failure.Message), "\n")
		fmt.Fprintf(p.w, "  FAIL %s: %s\n", strings.Join(entryIDs(sr), ", "), first)
	}
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		fmt.Fprintf(p.w, "  … %d of %d specs run (%d failed, %d skipped)\n", p.done, p.total, p.failed, p.skipped)
	}
}
