// Package loadgen drives scenario flows under load — open model (arrival
// rate) and closed model (virtual users) — and records a coordinated-
// omission-correct HdrHistogram per step into the run record.
package loadgen

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// FlowFactory returns the flow a scenario names.
type FlowFactory func(flow string) (scenarios.Flow, error)

// Setupper is implemented by flows that need preparation (a pool of users
// to sign in or reset) before they are measured.
type Setupper interface {
	Setup(ctx context.Context, n int) error
}

// Readier is implemented by flows that can tell before the run that
// iterations would fail at once (a sign-in flow whose user pool is empty,
// or holds fewer users than iterations run at once). Such a run measures
// nothing, and a closed-model user would loop through failures as fast as
// the processor allows. concurrency is the number of iterations the plan
// runs at once, when the plan fixes it (closed model: its VUs); 0 when the
// load decides (open model).
type Readier interface {
	Ready(concurrency int) error
}

// Options are the run's environment; the zero value is usable except for
// TargetURL, which decides the safety rules.
type Options struct {
	// TargetURL is the base URL of the system under test. Unless its host is
	// a loopback address, the plan must set max_rate.
	TargetURL string
	// HlogPath, if set, receives interval histograms in the HdrHistogram
	// log format, flushed after every interval.
	HlogPath string
	// Progress receives live progress: bars on a terminal, one line per
	// scenario per interval otherwise. Nil means none.
	Progress io.Writer
	// Interval between progress updates and .hlog entries; default 1s.
	Interval time.Duration
	// PlainProgressEvery is how often progress is written as plain lines
	// (not a terminal); DefaultPlainProgressEvery when zero.
	PlainProgressEvery time.Duration
	// Now stamps the record and the log; default time.Now. The engine's
	// pacing always uses the monotonic clock.
	Now    func() time.Time
	Logger *slog.Logger
	// Lanes is the number of recording lanes; 0 picks 2×GOMAXPROCS+1.
	Lanes int
	// Segment is this worker's share of the plan when it is split between
	// workers; the zero Segment runs the whole plan. The record names it.
	Segment reports.Segment
	// Metrics, if set, gets the run's live metrics (see metrics.go) when the
	// run begins; give each run a registry of its own.
	Metrics prometheus.Registerer
	// StartAt, if set, is the wall-clock time the scenarios begin at, after
	// the setup, so workers of one plan begin together. It may be at most
	// MaxStartLate in the past and MaxStartAhead in the future when Run is
	// called.
	StartAt time.Time
}

// Bounds of Options.StartAt: a time further in the past is a mistake (a
// worker started too late would run behind the others), one further ahead
// would hold a worker idle for too long.
const (
	MaxStartLate  = 5 * time.Second
	MaxStartAhead = time.Hour
)

// CheckStartAt refuses a start time too far in the past or future of now.
func CheckStartAt(at, now time.Time) error {
	switch {
	case at.IsZero():
		return nil
	case at.Before(now.Add(-MaxStartLate)):
		return fmt.Errorf("start at %s: want at most %s in the past, got %s", at.Format(time.RFC3339), MaxStartLate, now.Sub(at).Round(time.Second))
	case at.After(now.Add(MaxStartAhead)):
		return fmt.Errorf("start at %s: want at most %s ahead, got %s", at.Format(time.RFC3339), MaxStartAhead, at.Sub(now).Round(time.Second))
	}
	return nil
}

// ErrUnsafeTarget is returned when a plan would load a non-loopback target
// without a max_rate.
var ErrUnsafeTarget = errors.New("target is not on loopback and the plan sets no max_rate")

// maxShutdown bounds how long Run waits for flows that ignore cancellation.
const maxShutdown = 5 * time.Second

// Run executes the plan and returns the load section of the run record. A
// run stopped by ctx (Ctrl-C) or aborted for throttling still returns its
// result, with Aborted saying why. The result carries the plan's thresholds
// as text, evaluated by reports.JudgeLoad, and the measurement checks only
// the generator can see; reports.Judge of the record is the run's verdict.
func Run(ctx context.Context, plan *Plan, flows FlowFactory, opts Options) (*reports.Load, error) {
	if plan == nil || flows == nil {
		return nil, errors.New("loadgen: nil plan or flow factory")
	}
	if err := plan.Validate(); err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	opts = opts.withDefaults()
	if err := opts.Segment.Check(); err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	if err := CheckStartAt(opts.StartAt, opts.Now()); err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	loopback, err := isLoopback(opts.TargetURL)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	if !loopback && plan.MaxRate <= 0 {
		return nil, fmt.Errorf("loadgen: %w (%q)", ErrUnsafeTarget, opts.TargetURL)
	}
	planJSON, err := json.Marshal(plan)
	if err != nil {
		return nil, fmt.Errorf("loadgen: encode plan: %w", err)
	}
	r, err := newRun(plan, flows, opts)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	// The log file is opened before the setup, which may sign up thousands
	// of users, so a path that cannot be written fails at once.
	hlog, err := openHlog(opts.HlogPath)
	if err != nil {
		return nil, fmt.Errorf("loadgen: hlog: %w", err)
	}
	defer hlog.abandon()
	if err := r.prepare(ctx); err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	f, err := hlog.handOff()
	if err != nil {
		return nil, fmt.Errorf("loadgen: hlog: %w", err)
	}
	col := newCollector(r, f)
	defer col.close()
	if opts.Metrics != nil {
		if err := opts.Metrics.Register(&liveMetrics{r: r, col: col}); err != nil {
			return nil, fmt.Errorf("loadgen: metrics: %w", err)
		}
	}
	if !loopback || plan.MaxRate > 0 {
		// max_rate is the plan's total: each segment starts its share.
		r.rateCap = plan.MaxRate
		if !opts.Segment.Whole() {
			r.rateCap /= float64(opts.Segment.Count)
		}
	}
	if !r.waitForStart(ctx) {
		return nil, fmt.Errorf("loadgen: waiting for the start at %s: %w", opts.StartAt.Format(time.RFC3339), context.Cause(ctx))
	}
	r.execute(ctx, col)
	load, err := r.result(ctx, col, planJSON)
	if err != nil {
		return load, fmt.Errorf("loadgen: %w", err)
	}
	return load, nil
}

func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	o.Interval = max(o.Interval, 10*time.Millisecond)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func newRun(plan *Plan, flows FlowFactory, opts Options) (*run, error) {
	r := &run{plan: plan, opts: opts, log: opts.Logger, rec: newRecorder(opts.Lanes)}
	for i := range plan.Scenarios {
		whole := &plan.Scenarios[i]
		cfg := whole.segment(opts.Segment)
		if whole.Setup != nil && whole.Setup.Users > 0 && cfg.Setup.Users == 0 {
			return nil, fmt.Errorf("scenario %s: segment %s gets none of the plan's %d setup users: split the plan %d ways at most", cfg.Name, opts.Segment, whole.Setup.Users, whole.Setup.Users)
		}
		f, err := flows(cfg.Flow)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: flow %q: %w", cfg.Name, cfg.Flow, err)
		}
		r.scs = append(r.scs, &scenarioRun{idx: i, cfg: cfg, flow: f, run: r})
	}
	return r, nil
}

// prepare runs each scenario's setup and asks its flow whether it can run.
func (r *run) prepare(ctx context.Context) error {
	for _, sc := range r.scs {
		if sc.cfg.Setup == nil || sc.cfg.Setup.Users == 0 {
			continue
		}
		s, ok := sc.flow.(Setupper)
		if !ok {
			return fmt.Errorf("scenario %s: flow %q has no setup but the plan asks for %d users", sc.cfg.Name, sc.cfg.Flow, sc.cfg.Setup.Users)
		}
		r.log.Info("setup", "scenario", sc.cfg.Name, "users", sc.cfg.Setup.Users)
		if err := s.Setup(ctx, sc.cfg.Setup.Users); err != nil {
			return fmt.Errorf("scenario %s: setup: %w", sc.cfg.Name, err)
		}
	}
	for _, sc := range r.scs {
		if rd, ok := sc.flow.(Readier); ok {
			if err := rd.Ready(sc.cfg.maxVUs()); err != nil {
				return fmt.Errorf("scenario %s: flow %q cannot run: %w (give the scenario setup: {users: N}, or users from a file)", sc.cfg.Name, sc.cfg.Flow, err)
			}
		}
	}
	return nil
}

// waitForStart holds the run until Options.StartAt; false when ctx ended
// first. A setup that outlasted the start time starts at once, with a
// warning: the record's began_at shows how late.
func (r *run) waitForStart(ctx context.Context) bool {
	at := r.opts.StartAt
	if at.IsZero() {
		return true
	}
	wait := at.Sub(r.opts.Now())
	if wait <= 0 {
		if -wait > MaxStartLate {
			r.log.Warn("setup ended after the start time; starting late", "start_at", at.Format(time.RFC3339), "late", (-wait).Round(time.Millisecond))
		}
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// execute runs every scenario and the collector until all are done.
func (r *run) execute(ctx context.Context, col *collector) {
	stopCtx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	r.stopAll = stopAll
	r.begin = time.Now()
	r.beganAt = r.opts.Now()
	col.start(r.beganAt)
	var wg sync.WaitGroup
	for _, sc := range r.scs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc.execute(stopCtx, ctx)
		}()
	}
	collectorDone := make(chan struct{})
	go func() {
		defer close(collectorDone)
		col.loop(stopCtx, r.plan.AbortOnThrottle)
	}()
	wg.Wait()
	stopAll()
	<-collectorDone
	col.collect(r.opts.Now())
	col.finishProgress()
}

// result is the load section of the record: the scenarios' figures, why
// the run stopped early, the plan's thresholds as text and as evaluated,
// and the measurement checks.
func (r *run) result(ctx context.Context, col *collector, planJSON []byte) (*reports.Load, error) {
	load := &reports.Load{Plan: planJSON, MinApplied: float64(r.plan.MinApplied),
		Segment: r.opts.Segment.String(), StartAt: r.opts.StartAt.UTC(), BeganAt: r.beganAt.UTC()}
	if stop := r.stop.Load(); stop != nil {
		load.Stop, load.Aborted = stop.kind, stop.reason
	} else if ctx.Err() != nil {
		load.Stop, load.Aborted = reports.StopInterrupted, fmt.Sprintf("interrupted: %v", context.Cause(ctx))
	}
	for _, sc := range r.scs {
		res, err := col.scenarioResult(sc)
		if err != nil {
			return nil, err
		}
		load.Scenarios = append(load.Scenarios, res)
	}
	for _, th := range r.plan.thresholds {
		load.PlanThresholds = append(load.PlanThresholds, th.Expr)
	}
	load.Checks = col.integrity()
	load.Thresholds = reports.JudgeLoad(load).Thresholds
	if err := col.close(); err != nil {
		return load, fmt.Errorf("hlog: %w", err)
	}
	return load, nil
}

// hlogFile is the .hlog of a run, opened before the setup. It is truncated
// only when the run starts: a run that fails to start leaves an earlier log
// at that path as it was, and removes a file it created.
type hlogFile struct {
	path    string
	f       *os.File
	existed bool
}

func openHlog(path string) (*hlogFile, error) {
	h := &hlogFile{path: path}
	if path == "" {
		return h, nil
	}
	_, statErr := os.Stat(path)
	h.existed = !errors.Is(statErr, fs.ErrNotExist)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	h.f = f
	return h, nil
}

// handOff truncates the log for the run and gives it to the caller, who
// closes it; nil when no log was asked for.
func (h *hlogFile) handOff() (*os.File, error) {
	f := h.f
	if f == nil {
		return nil, nil
	}
	if err := f.Truncate(0); err != nil {
		return nil, err
	}
	h.f = nil
	return f, nil
}

// abandon closes a log that was never handed off, and removes it if the
// run created it.
func (h *hlogFile) abandon() {
	if h.f == nil {
		return
	}
	_ = h.f.Close()
	if !h.existed {
		_ = os.Remove(h.path)
	}
}

// isLoopback reports whether the target URL's host is a loopback address.
// An empty or unparsable URL is not loopback: the safe default.
func isLoopback(target string) (bool, error) {
	if target == "" {
		return false, nil
	}
	u, err := url.Parse(target)
	if err != nil {
		return false, fmt.Errorf("target URL: %w", err)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// run is the state shared by the scenarios of one Run.
type run struct {
	plan    *Plan
	opts    Options
	log     *slog.Logger
	rec     *recorder
	scs     []*scenarioRun
	seq     atomic.Uint64
	begin   time.Time
	beganAt time.Time // wall clock of begin, for the record
	rateCap float64
	stopAll context.CancelFunc
	stop    atomic.Pointer[stopCause]
	// Answers and 429s across the run, for abort_on_throttle.
	answers, tooMany atomic.Int64
	// throttleUntil and unavailableUntil are the latest Retry-After
	// deadlines of a 429 and of a 503, in monotonic ns since begin: no
	// scenario starts an iteration before them.
	throttleUntil, unavailableUntil atomic.Int64
	// pauses is the union of both kinds; throttlePauses and
	// unavailablePauses keep them apart for arrivals due in one.
	pauses, throttlePauses, unavailablePauses pauseLog
}

// stopCause is why the run stopped before its schedule ended.
type stopCause struct {
	kind   reports.StopKind
	reason string
}

// heldBack is the number of arrivals (open model) and VU starts (closed
// model) that a Retry-After pause kept from starting, across the run.
func (r *run) heldBack() int64 {
	var n int64
	for _, sc := range r.scs {
		n += sc.throttled.Load()
	}
	return n
}

func (r *run) abort(kind reports.StopKind, reason string) {
	if r.stop.CompareAndSwap(nil, &stopCause{kind: kind, reason: reason}) {
		r.log.Warn("aborting run", "reason", reason)
	}
	r.stopAll()
}

// pauseKind is why new iterations are held back now, if they are.
type pauseKind int

const (
	notPaused pauseKind = iota
	pausedThrottled
	pausedUnavailable
)

func (k pauseKind) String() string {
	switch k {
	case pausedThrottled:
		return "throttled (429)"
	case pausedUnavailable:
		return "unavailable (503)"
	}
	return "not paused"
}

// paused says whether a Retry-After holds new iterations back now; a 429's
// pause names the hold when both apply.
func (r *run) paused() pauseKind {
	now := int64(time.Since(r.begin))
	switch {
	case now < r.throttleUntil.Load():
		return pausedThrottled
	case now < r.unavailableUntil.Load():
		return pausedUnavailable
	}
	return notPaused
}

// pausedAt says whether an arrival due at intended is held back: by a
// pause now, or by a pause that covered its due time though it has ended
// since. The second happens when the engine runs late through a pause:
// starting those arrivals afterwards, all at once, would send the burst
// the tenant asked not to get. An arrival due before the answer that
// asked for the pause came is only late, and starts at once.
func (r *run) pausedAt(intended time.Time) pauseKind {
	if k := r.paused(); k != notPaused {
		return k
	}
	due := int64(intended.Sub(r.begin))
	switch {
	case due < r.throttleUntil.Load() && r.throttlePauses.covers(due):
		return pausedThrottled
	case due < r.unavailableUntil.Load() && r.unavailablePauses.covers(due):
		return pausedUnavailable
	}
	return notPaused
}

// pauseLeft is how long the current pause lasts yet.
func (r *run) pauseLeft() time.Duration {
	return time.Duration(max(r.throttleUntil.Load(), r.unavailableUntil.Load())) - time.Since(r.begin)
}

// pauseLog is the union of the run's Retry-After pauses, in ns since the
// run began, for the time a closed-model scenario was held back.
type pauseLog struct {
	mu    sync.Mutex
	spans [][2]int64
}

// add notes a pause from..until. Answers arrive about in order, so a pause
// that overlaps the last one extends it and the log stays short even when
// every answer asks for a pause.
func (p *pauseLog) add(from, until int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.spans); n > 0 {
		last := &p.spans[n-1]
		if from <= last[1] && until >= last[0] {
			last[0], last[1] = min(last[0], from), max(last[1], until)
			return
		}
	}
	p.spans = append(p.spans, [2]int64{from, until})
}

// covers says whether a pause held at (ns since the run began). Recent
// spans are looked at first: arrivals ask about the latest pauses.
func (p *pauseLog) covers(at int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range slices.Backward(p.spans) {
		if s[0] <= at && at < s[1] {
			return true
		}
	}
	return false
}

// within is how much of [0, end) the pauses cover.
func (p *pauseLog) within(end time.Duration) time.Duration {
	p.mu.Lock()
	spans := slices.Clone(p.spans)
	p.mu.Unlock()
	slices.SortFunc(spans, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	var total, reached int64
	for _, s := range spans {
		from, until := max(s[0], reached), min(s[1], int64(end))
		if until > from {
			total += until - from
		}
		reached = max(reached, s[1])
	}
	return time.Duration(total)
}
