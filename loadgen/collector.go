package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/ciamcheck/ciamcheck/reports"
)

// cumSeries is a series' state across the run, owned by the collector.
type cumSeries struct {
	key                   seriesKey
	service, response     *hdrhistogram.Histogram // whole run
	iService, iResponse   *hdrhistogram.Histogram // current interval
	outcomes              map[outcomeKey]int64
	examples              map[outcomeKey]string
	serviceTag, responseT string
	// The current interval of the record's timeline, which may span
	// several collector intervals (see recordTicks): response times, and
	// failed and 429 outcomes.
	rResponse           *hdrhistogram.Histogram
	rErrors, rThrottled int64
}

// collector swaps the recorder's lanes every interval, merges them into
// interval and cumulative histograms, writes the interval log and feeds
// the progress display. Only its goroutine touches its state (mu guards
// the final collection against a late tick).
type collector struct {
	r        *run
	mu       sync.Mutex
	series   map[seriesKey]*cumSeries
	order    []seriesKey
	last     time.Time // end of the last interval, from Options.Now (stamps)
	lastMono time.Time // the same instant on the monotonic clock (rates)
	file     *os.File
	buf      *bufio.Writer
	hlog     *hdrhistogram.HistogramLogWriter
	hlogErr  error
	progress progressSink
	lastIter []int64
	// intervals is each scenario's timeline for the record; lastCounts
	// the scenario counters at the last cut, to take differences. A
	// timeline interval is recordTicks collector intervals; pending of
	// them are collected since recStart (wall clock) and recStartMono.
	intervals              [][]reports.Interval
	lastCounts             []scenarioCounts
	recordTicks, pending   int
	recStart, recStartMono time.Time

	mergeDropped, clamped, invalid int64
}

// newCollector takes the interval log file, nil for none; close closes it.
func newCollector(r *run, hlog *os.File) *collector {
	c := &collector{r: r, series: map[seriesKey]*cumSeries{}, lastIter: make([]int64, len(r.scs)),
		intervals: make([][]reports.Interval, len(r.scs)), lastCounts: make([]scenarioCounts, len(r.scs)),
		recordTicks: recordTicks(r.plan, r.opts.Interval)}
	if hlog != nil {
		c.file, c.buf = hlog, bufio.NewWriter(hlog)
		c.hlog = hdrhistogram.NewHistogramLogWriter(c.buf)
	}
	c.progress = newProgress(r.opts.Progress, r.scs, r.opts.PlainProgressEvery)
	return c
}

func (c *collector) start(now time.Time) {
	c.last, c.lastMono = now, time.Now()
	c.recStart, c.recStartMono = c.last, c.lastMono
	if c.hlog == nil {
		return
	}
	ms := now.UnixMilli()
	// hdrhistogram-go writes the BaseTime header in whole seconds but
	// stamps intervals relative to the base it was given: a base with
	// milliseconds would put every interval up to a second early for any
	// reader. A whole-second base keeps header and stamps in agreement.
	base := ms - ms%1000
	c.hlog.SetBaseTime(base)
	c.hlogErr = firstErr(
		c.hlog.OutputComment(fmt.Sprintf("[ciamcheck load plan %q; values in microseconds; tags scenario/step/{response,service}]", c.r.plan.Name)),
		c.hlog.OutputLogFormatVersion(),
		c.hlog.OutputStartTime(ms),
		c.hlog.OutputBaseTime(base),
		c.hlog.OutputLegend(),
	)
	c.flush()
}

// loop ticks every interval until stop, checking throttling each tick.
func (c *collector) loop(stop context.Context, policy *ThrottlePolicy) {
	tick := c.r.opts.Interval
	var mon *throttleMonitor
	if policy != nil {
		mon = newThrottleMonitor(policy)
		tick = min(tick, max(policy.Window/10, 10*time.Millisecond))
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	lastCollect := time.Now()
	for {
		select {
		case <-stop.Done():
			return
		case now := <-t.C:
			if mon != nil {
				if reason := mon.check(now, c.r.answers.Load(), c.r.tooMany.Load(), c.r.heldBack()); reason != "" {
					c.r.abort(reports.StopThrottled, reason)
				}
			}
			if now.Sub(lastCollect) >= c.r.opts.Interval-tick/2 {
				lastCollect = now
				c.collect(c.r.opts.Now())
			}
		}
	}
}

// collect closes the current interval.
func (c *collector) collect(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Iterations counted now are already in the lanes (a flow is recorded
	// before it is counted), so the interval's p99 covers every one the
	// progress line counts.
	done := make([]int64, len(c.r.scs))
	for i, sc := range c.r.scs {
		done[i] = sc.iterations.Load()
	}
	c.r.rec.swap(func(ls *laneSet) {
		c.clamped += ls.clamped
		c.invalid += ls.invalid
		for k, s := range ls.series {
			if s.service.TotalCount() == 0 && s.response.TotalCount() == 0 && len(s.outcomes) == 0 {
				continue
			}
			cs := c.get(k)
			c.mergeDropped += s.service.MergeInto(cs.iService)
			c.mergeDropped += s.response.MergeInto(cs.iResponse)
			for o, n := range s.outcomes {
				cs.outcomes[o] += n
				if o.status == 429 {
					cs.rThrottled += n
				}
				if o.failure() {
					cs.rErrors += n
				}
			}
			for o, e := range s.examples {
				if _, ok := cs.examples[o]; !ok {
					cs.examples[o] = e
				}
			}
		}
	})
	startMs, endMs := c.last.UnixMilli(), now.UnixMilli()
	c.last = now
	length := time.Since(c.lastMono)
	c.lastMono = time.Now()
	for _, k := range c.order {
		cs := c.series[k]
		for _, h := range []struct {
			interval, cum *hdrhistogram.Histogram
			tag           string
		}{{cs.iResponse, cs.response, cs.responseT}, {cs.iService, cs.service, cs.serviceTag}} {
			if c.hlog != nil && c.hlogErr == nil {
				h.interval.SetTag(h.tag)
				h.interval.SetStartTimeMs(startMs)
				h.interval.SetEndTimeMs(endMs)
				c.hlogErr = c.hlog.OutputIntervalHistogram(h.interval)
			}
		}
	}
	c.flush()
	c.report(now, length, done)
	for _, k := range c.order {
		cs := c.series[k]
		c.mergeDropped += cs.response.Merge(cs.iResponse) + cs.service.Merge(cs.iService)
		c.mergeDropped += cs.rResponse.Merge(cs.iResponse)
		cs.iResponse.Reset()
		cs.iService.Reset()
	}
	if c.pending++; c.pending >= c.recordTicks {
		c.cutIntervals()
	}
}

// maxRecordIntervals bounds a scenario's timeline in the record: a long
// run gets longer intervals rather than an ever larger record (a 2-hour
// soak at the default 1s interval is cut every 10s).
const maxRecordIntervals = 720

// recordTicks is how many collector intervals make one interval of the
// record's timeline: 1 unless the plan's longest scenario would give more
// than maxRecordIntervals.
func recordTicks(p *Plan, every time.Duration) int {
	var longest time.Duration
	for i := range p.Scenarios {
		longest = max(longest, p.Scenarios[i].length())
	}
	if every <= 0 || longest <= 0 {
		return 1
	}
	n := longest / every
	return int(max(1, (n+maxRecordIntervals-1)/maxRecordIntervals))
}

// scenarioCounts are a scenario's counters at one instant.
type scenarioCounts struct{ failed, dropped, throttled, unavailable int64 }

// cutIntervals appends the record interval pending since recStart (wall
// clock, for the record; recStartMono to the last collection on the
// monotonic clock, for its span and schedule) to each scenario's timeline,
// and starts the next. A scenario that recorded nothing in the interval
// still gets it, so a stall shows as a gap in the achieved rate.
func (c *collector) cutIntervals() {
	start, startMono, endMono := c.recStart, c.recStartMono, c.lastMono
	c.recStart, c.recStartMono, c.pending = c.last, c.lastMono, 0
	span := endMono.Sub(startMono)
	if span <= 0 {
		return
	}
	defer func() {
		for _, cs := range c.series {
			cs.rResponse.Reset()
			cs.rErrors, cs.rThrottled = 0, 0
		}
	}()
	for i, sc := range c.r.scs {
		now := scenarioCounts{sc.failed.Load(), sc.dropped.Load(), sc.throttled.Load(), sc.unavailable.Load()}
		last := c.lastCounts[i]
		c.lastCounts[i] = now
		iv := reports.Interval{
			Start: start, Span: span,
			TargetRate: sc.cfg.targetRate(startMono.Sub(c.r.begin), endMono.Sub(c.r.begin)),
			Failed:     now.failed - last.failed, Dropped: now.dropped - last.dropped, Throttled: now.throttled - last.throttled,
			Unavailable: now.unavailable - last.unavailable,
			Steps:       []reports.IntervalStep{},
		}
		for _, k := range c.order {
			cs := c.series[k]
			if k.scenario != i || (cs.rResponse.TotalCount() == 0 && cs.rErrors == 0 && cs.rThrottled == 0) {
				continue
			}
			st := reports.IntervalStep{Step: string(k.step), Count: cs.rResponse.TotalCount(), Errors: cs.rErrors, Throttled: cs.rThrottled}
			if k.flow {
				st.Step = reports.FlowStep
				iv.Iterations = st.Count
			}
			if h := cs.rResponse; h.TotalCount() > 0 {
				st.P50, st.P90, st.P99, st.Max = h.ValueAtQuantile(50), h.ValueAtQuantile(90), h.ValueAtQuantile(99), h.Max()
			}
			iv.Steps = append(iv.Steps, st)
		}
		c.intervals[i] = append(c.intervals[i], iv)
	}
}

// report sends the interval's figures to the progress display. The rate is
// over the interval's real length, but never less than a nominal interval:
// the last one, cut by the end of the run, may last milliseconds, and an
// iteration finishing in it must not read as a burst of 50/s.
func (c *collector) report(now time.Time, length time.Duration, done []int64) {
	if c.progress == nil {
		return
	}
	secs := max(length, c.r.opts.Interval).Seconds()
	snaps := make([]scenarioSnapshot, len(c.r.scs))
	for i, sc := range c.r.scs {
		it := done[i]
		snap := scenarioSnapshot{
			Name: sc.cfg.Name, Done: it, Expected: sc.cfg.expected(),
			Failed: sc.failed.Load(), Dropped: sc.dropped.Load(), Throttled: sc.throttled.Load(),
			Unavailable: sc.unavailable.Load(),
			Rate:        rate(it-c.lastIter[i], secs),
			Elapsed:     time.Since(c.r.begin),
		}
		c.lastIter[i] = it
		if cs := c.series[seriesKey{scenario: i, flow: true}]; cs != nil && cs.iResponse.TotalCount() > 0 {
			snap.P99 = time.Duration(cs.iResponse.ValueAtPercentile(99)) * time.Microsecond
		}
		snaps[i] = snap
	}
	c.progress.update(now, snaps)
}

func rate(n int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

func (c *collector) finishProgress() {
	if c.progress != nil {
		c.progress.finish()
	}
}

func (c *collector) get(k seriesKey) *cumSeries {
	if cs := c.series[k]; cs != nil {
		return cs
	}
	name := c.r.scs[k.scenario].cfg.Name
	step := tagSafe(string(k.step))
	if k.flow {
		step = reports.FlowStep
	}
	cs := &cumSeries{
		key: k, service: newHistogram(), response: newHistogram(),
		iService: newHistogram(), iResponse: newHistogram(), rResponse: newHistogram(),
		outcomes: map[outcomeKey]int64{}, examples: map[outcomeKey]string{},
		serviceTag: name + "/" + step + "/service", responseT: name + "/" + step + "/response",
	}
	c.series[k] = cs
	c.order = append(c.order, k)
	return cs
}

// tagSafe keeps a step name from breaking the log's comma-separated lines.
func tagSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ',', ' ', '\t', '\n', '\r', '"':
			return '_'
		}
		return r
	}, s)
}

func (c *collector) flush() {
	if c.buf == nil || c.hlogErr != nil {
		return
	}
	c.hlogErr = c.buf.Flush()
}

// close flushes and closes the log; it is safe to call twice.
func (c *collector) close() error {
	if c.file == nil {
		return c.hlogErr
	}
	c.flush()
	err := firstErr(c.hlogErr, c.file.Close())
	c.file, c.buf = nil, nil
	c.hlogErr = err
	return err
}

// scenarioResult builds one scenario's part of the record, after the last
// collection.
func (c *collector) scenarioResult(sc *scenarioRun) (reports.ScenarioResult, error) {
	c.mu.Lock()
	if c.pending > 0 {
		c.cutIntervals()
	}
	c.mu.Unlock()
	res := reports.ScenarioResult{
		Name: sc.cfg.Name, Flow: sc.cfg.Flow, Executor: sc.cfg.Executor,
		Iterations: sc.iterations.Load(), Expected: sc.cfg.expected(),
		Failed: sc.failed.Load(), Dropped: sc.dropped.Load(), Throttled: sc.throttled.Load(),
		Unavailable: sc.unavailable.Load(),
		Duration:    time.Duration(sc.duration.Load()),
		Scheduled:   sc.cfg.length(),
		Steps:       []reports.StepStats{},
		Intervals:   c.intervals[sc.idx],
	}
	res.Paused = c.r.pauses.within(min(res.Duration, res.Scheduled))
	keys := slices.Clone(c.order)
	// Steps in the order the flow first ran them.
	seen := c.r.rec.reg.snapshot()
	slices.SortStableFunc(keys, func(a, b seriesKey) int { return seen[a] - seen[b] })
	for _, k := range keys {
		if k.scenario != sc.idx {
			continue
		}
		st, err := c.stepStats(c.series[k])
		if err != nil {
			return res, err
		}
		if k.flow {
			st.Step = reports.FlowStep
			res.FlowStats = &st
			continue
		}
		res.Steps = append(res.Steps, st)
	}
	return res, nil
}

func (c *collector) stepStats(cs *cumSeries) (reports.StepStats, error) {
	st := reports.StepStats{Step: string(cs.key.step), Count: cs.response.TotalCount()}
	var err error
	if st.ServiceTime, err = reports.EncodeHistogram(cs.service); err != nil {
		return st, fmt.Errorf("step %s: service time: %w", cs.key.step, err)
	}
	if st.ResponseTime, err = reports.EncodeHistogram(cs.response); err != nil {
		return st, fmt.Errorf("step %s: response time: %w", cs.key.step, err)
	}
	st.Outcomes = outcomeCounts(cs.outcomes, cs.examples)
	return st, nil
}

func outcomeCounts(m map[outcomeKey]int64, examples map[outcomeKey]string) []reports.OutcomeCount {
	out := make([]reports.OutcomeCount, 0, len(m))
	for k, n := range m {
		out = append(out, reports.OutcomeCount{
			HTTPStatus: k.status, Error: k.err, Suberror: k.suberror,
			Redirect: k.redirect, Transport: k.transport, TransportClass: string(k.class), Example: examples[k],
			Expected: k.expected, Count: n,
		})
	}
	slices.SortFunc(out, func(a, b reports.OutcomeCount) int {
		if a.Count != b.Count {
			return int(b.Count - a.Count)
		}
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	return out
}

// integrity reports measurement problems as results so they cannot go
// unnoticed: lost histogram counts fail the run, clamped values warn.
func (c *collector) integrity() []reports.ThresholdResult {
	var out []reports.ThresholdResult
	if c.mergeDropped != 0 || c.invalid != 0 {
		out = append(out, reports.ThresholdResult{
			Expr:   "integrity: no histogram values lost",
			Actual: fmt.Sprintf("%d dropped by merge, %d refused", c.mergeDropped, c.invalid),
		})
	}
	if c.clamped != 0 {
		out = append(out, reports.ThresholdResult{
			Expr:   "integrity: values above 60s are clamped to 60s (warning)",
			Actual: fmt.Sprintf("%d clamped", c.clamped), Passed: true,
		})
	}
	var stuck int64
	for _, sc := range c.r.scs {
		stuck += sc.stuck.Load()
	}
	if stuck != 0 {
		out = append(out, reports.ThresholdResult{
			Expr:   "integrity: every flow returned after cancellation",
			Actual: fmt.Sprintf("%d flows still running at the end", stuck),
		})
	}
	return out
}

// throttleMonitor keeps cumulative (answers, 429s, held-back arrivals)
// samples over the window.
type throttleMonitor struct {
	policy  *ThrottlePolicy
	samples []throttleSample
}

type throttleSample struct {
	at                     time.Time
	answers, tooMany, held int64
}

func newThrottleMonitor(p *ThrottlePolicy) *throttleMonitor { return &throttleMonitor{policy: p} }

// check returns an abort reason when, over a full window, the throttled
// share of the work reaches the policy's ratio. Arrivals held back by a
// Retry-After pause count as throttled work: honouring Retry-After sends
// few requests, so a tenant that answers every one with 429 and a long
// Retry-After would otherwise never reach min_requests answers in a window,
// and a run throttled from start to end would never abort.
func (m *throttleMonitor) check(now time.Time, answers, tooMany, held int64) string {
	m.samples = append(m.samples, throttleSample{now, answers, tooMany, held})
	// Keep the newest sample at least a window old as the baseline.
	for len(m.samples) > 1 && now.Sub(m.samples[1].at) >= m.policy.Window {
		m.samples = m.samples[1:]
	}
	base := m.samples[0]
	if now.Sub(base.at) < m.policy.Window {
		return ""
	}
	da, dt, dh := answers-base.answers, tooMany-base.tooMany, held-base.held
	total := da + dh
	if total < m.policy.MinRequests || total == 0 {
		return ""
	}
	if ratio := float64(dt+dh) / float64(total); ratio >= m.policy.Ratio {
		return fmt.Sprintf("sustained throttling: over the last %s, %d of %d answers were 429 and %d arrivals were held back by Retry-After (%.0f%% throttled; abort_on_throttle ratio %.0f%%)",
			m.policy.Window, dt, da, dh, ratio*100, m.policy.Ratio*100)
	}
	return ""
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// failure is whether the outcome is a failure as the record counts it.
func (k outcomeKey) failure() bool {
	return reports.OutcomeCount{HTTPStatus: k.status, Error: k.err, Suberror: k.suberror,
		Redirect: k.redirect, Transport: k.transport, Expected: k.expected}.Failure()
}

// targetRate is the arrival rate the schedule asks for between two
// instants of the run (arrivals due in [from, to) per second): 0 for the
// closed model, and 0 once the schedule has ended.
func (sc *ScenarioConfig) targetRate(from, to time.Duration) float64 {
	if !sc.isOpen() || to <= from {
		return 0
	}
	due := sc.dueBy(to) - sc.dueBy(from)
	return due / (to - from).Seconds()
}

// dueBy is H(t), the integral of the schedule's rate up to t (capped at the
// schedule's length and the iteration limit): the arrivals due by t.
func (sc *ScenarioConfig) dueBy(t time.Duration) float64 {
	if sc.whole != nil {
		// A segment is due its share of the whole schedule.
		return sc.whole.dueBy(t) / float64(sc.seg.Count)
	}
	due := sc.rateIntegral(t)
	if sc.Iterations > 0 {
		due = min(due, float64(sc.Iterations))
	}
	return due
}
