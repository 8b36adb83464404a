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
)

// scenarioSnapshot is what the progress display shows for a scenario.
type scenarioSnapshot struct {
	Name                       string
	Done, Expected             int64
	Failed, Dropped, Throttled int64
	Rate                       float64       // iterations/s over the last interval
	P99                        time.Duration // flow response time, last interval
}

func (s scenarioSnapshot) info() string {
	p99 := "-"
	if s.P99 > 0 {
		p99 = formatMicros(float64(s.P99.Microseconds()))
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
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !strings.EqualFold(os.Getenv("CI"), "true") {
		return newBars(f, scs)
	}
	return &lines{w: w}
}

// lines writes one line per scenario per interval.
type lines struct {
	w     io.Writer
	start time.Time
}

func (l *lines) update(now time.Time, snaps []scenarioSnapshot) {
	if l.start.IsZero() {
		l.start = now
	}
	for _, s := range snaps {
		exp := "?"
		if s.Expected > 0 {
			exp = fmt.Sprint(s.Expected)
		}
		fmt.Fprintf(l.w, "[%6.1fs] %-20s %d/%s  %s\n", now.Sub(l.start).Seconds(), s.Name, s.Done, exp, s.info())
	}
}

func (l *lines) finish() {}

// bars shows an mpb bar per scenario.
type bars struct {
	p    *mpb.Progress
	bars []*mpb.Bar
	info []*atomic.Pointer[string]
}

func newBars(w io.Writer, scs []*scenarioRun) *bars {
	b := &bars{p: mpb.New(mpb.WithOutput(w), mpb.WithRefreshRate(250*time.Millisecond), mpb.WithWidth(30))}
	width := 0
	for _, sc := range scs {
		width = max(width, len(sc.cfg.Name))
	}
	for _, sc := range scs {
		info := &atomic.Pointer[string]{}
		empty := ""
		info.Store(&empty)
		total := sc.cfg.expected()
		bar := b.p.AddBar(max(total, 1),
			mpb.PrependDecorators(decor.Name(sc.cfg.Name, decor.WC{W: width + 1, C: decor.DindentRight}), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return *info.Load() })),
		)
		b.bars = append(b.bars, bar)
		b.info = append(b.info, info)
	}
	return b
}

func (b *bars) update(_ time.Time, snaps []scenarioSnapshot) {
	for i, s := range snaps {
		txt := s.info()
		b.info[i].Store(&txt)
		if s.Expected <= 0 || s.Done > s.Expected {
			b.bars[i].SetTotal(s.Done+1, false)
		}
		b.bars[i].SetCurrent(s.Done)
	}
}

func (b *bars) finish() {
	for _, bar := range b.bars {
		bar.SetTotal(-1, true)
	}
	b.p.Wait()
}
