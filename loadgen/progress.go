package loadgen

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/ciamcheck/ciamcheck/reports"
)

// scenarioSnapshot is what the progress display shows for a scenario.
type scenarioSnapshot struct {
	Name                       string
	Done, Expected             int64
	Failed, Dropped, Throttled int64
	Rate                       float64       // iterations/s over the last interval
	P99                        time.Duration // flow response time, last interval
	Elapsed                    time.Duration // since the run began
}

func (s scenarioSnapshot) info() string {
	p99 := "-"
	if s.P99 > 0 {
		p99 = reports.FormatMicros(float64(s.P99.Microseconds()))
	}
	return fmt.Sprintf("%7.1f/s  p99 %-8s errors %d  dropped %d  throttled %d", s.Rate, p99, s.Failed, s.Dropped, s.Throttled)
}

type progressSink interface {
	update(now time.Time, snaps []scenarioSnapshot)
	finish()
}

// newProgress picks bars for a terminal and plain lines otherwise (pipes,
// files, CI=true), so logs stay readable.
func newProgress(w io.Writer, scs []*scenarioRun) progressSink {
	if w == nil {
		return nil
	}
	width := 0
	lengths := make([]time.Duration, len(scs))
	for i, sc := range scs {
		width = max(width, len(sc.cfg.Name))
		lengths[i] = sc.cfg.length()
	}
	if f, ok := w.(*os.File); ok && useBars(int(f.Fd())) {
		return newBars(f, scs, width, lengths)
	}
	return &lines{w: w, width: width}
}

// useBars says whether fd is a terminal bars can be drawn on. mpb draws
// nothing on a terminal that reports no width (a pseudo-terminal nobody
// sized, as under script(1) or some CI runners), which would leave the run
// with no progress at all: such a terminal gets lines.
func useBars(fd int) bool {
	if !term.IsTerminal(fd) || strings.EqualFold(os.Getenv("CI"), "true") {
		return false
	}
	cols, _, err := term.GetSize(fd)
	return err == nil && cols > 0
}

// counts is "done/expected", or "done" when the scenario has no expected
// count (the closed model runs as many iterations as the target allows).
func (s scenarioSnapshot) counts() string {
	if s.Expected > 0 {
		return fmt.Sprintf("%d/%d", s.Done, s.Expected)
	}
	return fmt.Sprintf("%d", s.Done)
}

// lines writes one line per scenario per interval, stamped with the run's
// age (the first line comes an interval in, not at 0s).
type lines struct {
	w     io.Writer
	width int
}

func (l *lines) update(_ time.Time, snaps []scenarioSnapshot) {
	for _, s := range snaps {
		fmt.Fprintf(l.w, "[%6.1fs] %-*s %12s  %s\n", s.Elapsed.Seconds(), l.width, s.Name, s.counts(), s.info())
	}
}

func (l *lines) finish() {}

// bars shows an mpb bar per scenario: iterations done of those expected, or,
// for a scenario with no expected count, the time elapsed of its length.
type bars struct {
	p       *mpb.Progress
	bars    []*mpb.Bar
	info    []*atomic.Pointer[string]
	counts  []*atomic.Pointer[string]
	lengths []time.Duration
	// elapsed is the run's age at the last update, seen at updated.
	elapsed time.Duration
	updated time.Time
}

func newBars(w io.Writer, scs []*scenarioRun, width int, lengths []time.Duration) *bars {
	b := &bars{p: mpb.New(mpb.WithOutput(w), mpb.WithRefreshRate(250*time.Millisecond), mpb.WithWidth(30)), lengths: lengths}
	text := func(init string) *atomic.Pointer[string] {
		p := &atomic.Pointer[string]{}
		p.Store(&init)
		return p
	}
	for i, sc := range scs {
		info, counts := text(""), text("0")
		total := sc.cfg.expected()
		if total <= 0 {
			total = lengths[i].Milliseconds()
		}
		bar := b.p.AddBar(max(total, 1),
			mpb.PrependDecorators(
				decor.Name(sc.cfg.Name, decor.WC{W: width + 1, C: decor.DindentRight}),
				decor.Any(func(decor.Statistics) string { return *counts.Load() }, decor.WC{W: 12}),
			),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return *info.Load() })),
		)
		b.bars = append(b.bars, bar)
		b.info = append(b.info, info)
		b.counts = append(b.counts, counts)
	}
	return b
}

func (b *bars) update(_ time.Time, snaps []scenarioSnapshot) {
	b.updated = time.Now()
	for i, s := range snaps {
		b.elapsed = s.Elapsed
		txt, cnt := s.info(), s.counts()
		b.info[i].Store(&txt)
		b.counts[i].Store(&cnt)
		switch {
		case s.Expected > 0:
			if s.Done > s.Expected {
				b.bars[i].SetTotal(s.Done, false)
			}
			b.bars[i].SetCurrent(s.Done)
		default:
			b.bars[i].SetCurrent(min(s.Elapsed, b.lengths[i]).Milliseconds())
		}
	}
}

// finish ends every bar so Wait returns: a bar whose total was given
// completes only by reaching it (mpb ignores SetTotal then), so a scenario
// that ended short of its expected count, or was interrupted, is aborted and
// stays on screen as it stood.
func (b *bars) finish() {
	if !b.updated.IsZero() {
		elapsed := b.elapsed + time.Since(b.updated)
		for i, bar := range b.bars {
			if b.lengths[i] > 0 {
				bar.SetCurrent(min(elapsed, b.lengths[i]).Milliseconds())
			}
		}
	}
	for _, bar := range b.bars {
		bar.Abort(false)
	}
	b.p.Wait()
}
