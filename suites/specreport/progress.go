package specreport

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

// Progress replaces Ginkgo's own output in a CLI run that is not verbose:
// Ginkgo counts specs (210) where the run's verdict counts catalog entries
// (184), and two counts on one screen confuse. It writes each failure as
// it happens (its entries and first line) and, every so often, how far
// the run is, so a long run against a tenant is never silent in a CI log;
// the CLI then prints the one count that matters.
type Progress struct {
	mu      sync.Mutex
	w       io.Writer
	every   time.Duration
	total   int
	done    int
	failed  int
	skipped int
	last    time.Time
}

// NewProgress writes to w, and how far the run is every so often.
func NewProgress(w io.Writer, every time.Duration) *Progress {
	return &Progress{w: w, every: every, last: time.Now()}
}

// Begin sets how many specs the run will run.
func (p *Progress) Begin(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = total
}

// Spec counts a spec that ended, and writes its failure.
func (p *Progress) Spec(sr types.SpecReport) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	switch {
	case sr.State.Is(types.SpecStateSkipped | types.SpecStatePending):
		p.skipped++
	case sr.State.Is(types.SpecStateFailureStates):
		p.failed++
		first, _, _ := strings.Cut(strings.TrimSpace(sr.Failure.Message), "\n")
		fmt.Fprintf(p.w, "  FAIL %s: %s\n", strings.Join(IDs(sr), ", "), first)
	}
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		fmt.Fprintf(p.w, "  … %d of %d specs run (%d failed, %d skipped)\n", p.done, p.total, p.failed, p.skipped)
	}
}
