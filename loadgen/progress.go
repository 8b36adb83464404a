package loadgen

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

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
	Unavailable                int64         // held back by a 503's Retry-After
	Rate                       float64       // iterations/s over the last interval
	P99                        time.Duration // flow response time, last interval
	Elapsed                    time.Duration // since the run began
}

func (s scenarioSnapshot) info() string {
	p99 := "-"
	if s.P99 > 0 {
		p99 = reports.FormatMicros(float64(s.P99.Microseconds()))
	}
	line := fmt.Sprintf("%7.1f/s  p99 %-8s errors %d  dropped %d  throttled %d", s.Rate, p99, s.Failed, s.Dropped, s.Throttled)
	if s.Unavailable > 0 {
		// Shown only when it happens: most runs never see a 503.
		line += fmt.Sprintf("  unavailable %d", s.Unavailable)
	}
	return line
}

type progressSink interface {
	update(now time.Time, snaps []scenarioSnapshot)
	finish()
}

// DefaultPlainProgressEvery is how often plain progress lines are written
// when Options.PlainProgressEvery is zero: one line per scenario per 10 s
// keeps a two-hour soak's log to a few thousand lines, not tens of thousands.
const DefaultPlainProgressEvery = 10 * time.Second

// newProgress picks bars for a terminal and plain lines otherwise (pipes,
// files, CI=true), so logs stay readable. Plain lines come every
// plainEvery, with the rate over that window.
func newProgress(w io.Writer, scs []*scenarioRun, plainEvery time.Duration) progressSink {
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
	if plainEvery <= 0 {
		plainEvery = DefaultPlainProgressEvery
	}
	return &lines{w: w, width: width, every: plainEvery}
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

// lines writes one line per scenario every `every`, stamped with the run's
// age, and a last set at the end. Each line's rate is over the window since
// the line before (the whole run for the last one), not over the last
// collection interval, which the end of a run cuts short.
type lines struct {
	w     io.Writer
	width int
	every time.Duration
	// last is the latest snapshot; printedAt and printedDone are the age
	// and iteration counts of the last lines written.
	last        []scenarioSnapshot
	printedAt   time.Duration
	printedDone []int64
}

func (l *lines) update(_ time.Time, snaps []scenarioSnapshot) {
	l.last = snaps
	if len(snaps) == 0 || snaps[0].Elapsed-l.printedAt < l.every {
		return
	}
	l.print(snaps, false)
}

func (l *lines) print(snaps []scenarioSnapshot, final bool) {
	if l.printedDone == nil {
		l.printedDone = make([]int64, len(snaps))
	}
	window := snaps[0].Elapsed - l.printedAt
	for i, s := range snaps {
		if final {
			s.Rate = rate(s.Done, s.Elapsed.Seconds())
		} else {
			s.Rate = rate(s.Done-l.printedDone[i], window.Seconds())
		}
		l.printedDone[i] = s.Done
		label := ""
		if final {
			label = "  (end; rate over the run)"
		}
		stamp := fmt.Sprintf("[%6.1fs] ", s.Elapsed.Seconds())
		figures := fmt.Sprintf("%12s  %s%s", s.counts(), s.info(), label)
		line := fmt.Sprintf("%s%-*s %s", stamp, l.width, s.Name, figures)
		if utf8.RuneCountInString(line) > reports.LineWidth {
			// A long scenario name gets a line of its own, so a CI log
			// shows the figures unwrapped.
			line = stamp + s.Name + "\n" + strings.Repeat(" ", len(stamp)) + strings.TrimLeft(figures, " ")
		}
		fmt.Fprintln(l.w, line)
	}
	l.printedAt = snaps[0].Elapsed
}

func (l *lines) finish() {
	if len(l.last) > 0 {
		l.print(l.last, true)
	}
}

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
