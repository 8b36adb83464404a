package conformance

import (
	"io"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/ciamcheck/ciamcheck/suites/specreport"
)

// progressEvery is how often a quiet run says how far it is.
const progressEvery = 10 * time.Second

// runProgress is the quiet run's progress printer, nil in a verbose run.
var runProgress struct {
	sync.Mutex
	p *specreport.Progress
}

func setProgress(w io.Writer) {
	runProgress.Lock()
	defer runProgress.Unlock()
	runProgress.p = nil
	if w != nil {
		runProgress.p = specreport.NewProgress(w, progressEvery)
	}
}

func currentProgress() *specreport.Progress {
	runProgress.Lock()
	defer runProgress.Unlock()
	return runProgress.p
}

var _ = ReportBeforeSuite(func(r types.Report) {
	if p := currentProgress(); p != nil {
		p.Begin(r.PreRunStats.SpecsThatWillRun)
	}
})

var _ = ReportAfterEach(func(sr types.SpecReport) {
	if p := currentProgress(); p != nil {
		p.Spec(sr)
	}
})
