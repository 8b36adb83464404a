package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// scenarioRun is one scenario's executor state and counters.
type scenarioRun struct {
	idx  int
	cfg  *ScenarioConfig
	flow scenarios.Flow
	run  *run

	iterations, failed, interrupted atomic.Int64
	dropped, throttled, tooMany     atomic.Int64
	unavailable                     atomic.Int64 // held back by a 503's Retry-After
	stepErrors                      atomic.Int64
	inFlight                        atomic.Int64
	nextSlot                        atomic.Int64 // ns since begin; closed-model rate cap
	maxLag                          atomic.Int64 // worst start delay behind schedule, ns
	stuck                           atomic.Int64 // flows still running after shutdown
	noUser                          atomic.Int64 // arrivals dropped for want of a free user (part of dropped)

	begin time.Time
	// duration is the window the scenario's iterations belong to, in ns:
	// for the open model the schedule's (up to the end, or to when the
	// arrival after the iteration limit was due), since the loop returns
	// at its last arrival and that would overstate the rate; for the
	// closed model the time until its VUs stopped. A stopped run covered
	// the time elapsed.
	duration atomic.Int64
}

// ObserveStep records a step result; it is the Iteration.Observer of every
// iteration of the scenario and safe for concurrent use.
func (sc *scenarioRun) ObserveStep(res scenarios.StepResult) {
	r := sc.run
	r.rec.observe(sc.idx, &res)
	if res.Err != nil {
		sc.stepErrors.Add(1)
	}
	if res.HTTPStatus != 0 {
		r.answers.Add(1)
		if res.HTTPStatus == 429 {
			r.tooMany.Add(1)
			sc.tooMany.Add(1)
		}
	}
	if res.RetryAfter > 0 {
		if res.RetryAfter > r.plan.MaxRetryAfter {
			// Honouring it would leave the rest of the run idle; not
			// honouring it would ignore what the tenant asked. Neither
			// measures the plan's load.
			r.abort(reports.StopRetryAfter, fmt.Sprintf("the target asked to wait %s (Retry-After of a %d answer to %s %s), longer than the plan's max_retry_after %s",
				res.RetryAfter, res.HTTPStatus, sc.cfg.Name, res.Step, r.plan.MaxRetryAfter))
			return
		}
		// Pause new arrivals of every scenario until the server's
		// deadline: they share the tenant, its client and its throttling,
		// so one scenario waiting while the others go on at full rate
		// would not honour what the tenant asked. A 503's pause is kept
		// apart: the tenant was unavailable, not throttling.
		from := int64(res.Done.Sub(r.begin))
		until := from + int64(res.RetryAfter)
		deadline, kindLog := &r.throttleUntil, &r.throttlePauses
		if res.HTTPStatus == http.StatusServiceUnavailable {
			deadline, kindLog = &r.unavailableUntil, &r.unavailablePauses
		}
		for {
			cur := deadline.Load()
			if until <= cur || deadline.CompareAndSwap(cur, until) {
				break
			}
		}
		r.pauses.add(from, until)
		kindLog.add(from, until)
	}
}

// holdBack counts an arrival (or VU start) held back by a pause.
func (sc *scenarioRun) holdBack(k pauseKind) {
	if k == pausedUnavailable {
		sc.unavailable.Add(1)
		return
	}
	sc.throttled.Add(1)
}

// execute runs the scenario until its schedule ends or stop is cancelled,
// then lets in-flight iterations finish within the graceful stop.
func (sc *scenarioRun) execute(stop, parent context.Context) {
	// Flows outlive stop (Ctrl-C) by the graceful stop, so their context
	// is detached from it and cancelled by us.
	flowCtx, cancelFlows := context.WithCancel(context.WithoutCancel(parent))
	defer cancelFlows()
	var wg sync.WaitGroup
	sc.begin = time.Now()
	var window time.Duration
	if sc.cfg.isOpen() {
		window = sc.runOpen(stop.Done(), flowCtx, &wg)
	} else {
		sc.runClosed(stop.Done(), flowCtx, &wg)
		window = time.Since(sc.begin)
	}
	sc.duration.Store(int64(window))

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	grace := time.NewTimer(sc.run.plan.GracefulStop)
	defer grace.Stop()
	select {
	case <-done:
		return
	case <-grace.C:
	}
	n := sc.inFlight.Load()
	sc.run.log.Warn("graceful stop expired; cancelling in-flight iterations", "scenario", sc.cfg.Name, "in_flight", n)
	cancelFlows()
	hard := time.NewTimer(maxShutdown)
	defer hard.Stop()
	select {
	case <-done:
	case <-hard.C:
		sc.stuck.Store(sc.inFlight.Load())
		sc.run.log.Error("flows ignore cancellation; giving up on them", "scenario", sc.cfg.Name, "stuck", sc.stuck.Load())
	}
}

// iterate runs one iteration and records the whole flow.
func (sc *scenarioRun) iterate(ctx context.Context, intended time.Time) {
	seq := sc.run.seq.Add(1)
	started := time.Now()
	if lag := int64(started.Sub(intended)); lag > sc.maxLag.Load() {
		sc.maxLag.Store(lag) // a racy max is fine: it is a diagnostic
	}
	err := sc.runFlow(ctx, scenarios.Iteration{IntendedStart: intended, Seq: seq, Observer: sc})
	if err != nil && sc.cfg.isOpen() && errors.Is(err, scenarios.ErrPoolEmpty) {
		// Every user was held by an iteration still running, and no request
		// was sent. Counted as a failed flow it would read as the tenant's
		// failure; it is the generator's shortage, so, like an arrival at
		// max_in_flight, it was not applied. (A closed model's VUs are
		// checked against the pool before the run: Ready.)
		sc.dropped.Add(1)
		if sc.noUser.Add(1) == 1 {
			sc.run.log.Warn("an arrival found every user of the pool in use; such arrivals are dropped, not sent (raise the scenario's setup.users)", "scenario", sc.cfg.Name)
		}
		return
	}
	done := time.Now()
	var o outcomeKey
	if err != nil {
		sc.failed.Add(1)
		o.err = LabelFlowFailed
		if ctx.Err() != nil {
			sc.interrupted.Add(1)
			o.err = LabelInterrupted
		}
	}
	sc.run.rec.observeFlow(sc.idx, intended, started, done, o)
	sc.iterations.Add(1)
}

// runFlow turns a flow's panic into its error so one bad iteration cannot
// take the run and its record down.
func (sc *scenarioRun) runFlow(ctx context.Context, it scenarios.Iteration) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("flow %s panicked: %v", sc.cfg.Flow, p)
			sc.run.log.Error("flow panicked", "scenario", sc.cfg.Name, "panic", fmt.Sprint(p))
		}
	}()
	return sc.flow.Run(ctx, it)
}

// runOpen starts iterations on the pacer's schedule, whether or not earlier
// ones have finished, waiting for each on an arrivalClock. An arrival that
// finds max_in_flight iterations running is dropped, one that falls in a
// Retry-After pause is throttled; neither is started late. When the engine
// itself runs behind, arrivals already due start at once, stamped with their
// scheduled instant. It returns the window the schedule covered (see
// scenarioRun.duration); a stopped run covered only the time elapsed.
func (sc *scenarioRun) runOpen(stop <-chan struct{}, flowCtx context.Context, wg *sync.WaitGroup) time.Duration {
	pacer := sc.cfg.pacer()
	sched, _ := pacer.(Scheduler)
	o := openSchedule{pacer: pacer, sched: sched, begin: sc.begin, end: sc.cfg.length(), clock: newArrivalClock(stop)}
	defer o.clock.close()
	limit := uint64(sc.cfg.Iterations)
	maxInFlight := int64(sc.cfg.MaxInFlight)
	// Arrivals go to a pool of workers that grows when none is idle (never
	// beyond max_in_flight, which the check below enforces) and lives for
	// the scenario: a goroutine per arrival would pay for its creation and
	// for growing its stack through the HTTP client on every iteration.
	arrivals := make(chan time.Time)
	defer close(arrivals)
	worker := func() {
		defer wg.Done()
		for intended := range arrivals {
			sc.iterate(flowCtx, intended)
			sc.inFlight.Add(-1)
		}
	}
	hits := uint64(0)
	for limit == 0 || hits < limit {
		intended, window, ok := o.next(hits)
		if !ok {
			return window
		}
		select {
		case <-stop:
			return time.Since(o.begin)
		default:
		}
		hits++
		if k := sc.run.pausedAt(intended); k != notPaused {
			sc.holdBack(k)
			continue
		}
		if sc.inFlight.Load() >= maxInFlight {
			sc.dropped.Add(1)
			continue
		}
		sc.inFlight.Add(1)
		select {
		case arrivals <- intended:
		default:
			wg.Add(1)
			go worker()
			arrivals <- intended
		}
	}
	// The iteration limit ended the schedule: its window runs to when the
	// next arrival would have been due.
	if sched != nil {
		if at, ok := sched.HitAt(hits); ok && at < o.end {
			return at
		}
		return o.end
	}
	return time.Since(o.begin)
}

// openSchedule is when the arrivals of an open-model scenario are due: by
// the Scheduler where the pacer is one, else by asking the pacer.
type openSchedule struct {
	pacer Pacer
	sched Scheduler
	begin time.Time
	end   time.Duration
	clock *arrivalClock
	// last is when the previous arrival was due, since begin: the clock
	// coalesces the wake-ups of arrivals closer together than its
	// timers' lateness.
	last time.Duration
}

// next waits until arrival number hits is due and returns its intended
// start; or false, with the window the schedule covered, when the schedule
// is over or the run stopped (a stopped run covered the time elapsed).
func (o *openSchedule) next(hits uint64) (intended time.Time, window time.Duration, ok bool) {
	for {
		elapsed := time.Since(o.begin)
		if o.sched != nil {
			// The schedule says when each arrival is due. Arrivals due
			// before the end are started even when the engine runs late, so
			// every arrival of the window is started, dropped or throttled,
			// and lateness shows in response times instead of vanishing.
			at, ok := o.sched.HitAt(hits)
			if !ok || at >= o.end {
				return time.Time{}, o.end, false
			}
			if at > elapsed && !o.clock.waitUntil(o.begin.Add(at), at-o.last) {
				return time.Time{}, time.Since(o.begin), false
			}
			o.last = at
			return o.begin.Add(at), 0, true
		}
		if elapsed >= o.end {
			return time.Time{}, o.end, false
		}
		wait, done := o.pacer.Pace(elapsed, hits)
		if done {
			return time.Time{}, elapsed, false
		}
		if wait <= 0 {
			o.last = elapsed
			return o.begin.Add(elapsed), 0, true
		}
		if due := min(elapsed+wait, o.end); !o.clock.waitUntil(o.begin.Add(due), due-o.last) {
			return time.Time{}, time.Since(o.begin), false
		}
	}
}

// runClosed runs virtual users: each starts its next iteration when the
// previous one (plus think time) is over. A ramp adds VUs or retires the
// highest-numbered ones after their current iteration.
func (sc *scenarioRun) runClosed(stop <-chan struct{}, flowCtx context.Context, wg *sync.WaitGroup) {
	cfg := sc.cfg
	vus := closedVUs{sc: sc, stop: stop, end: cfg.length(), target: func(time.Duration) int { return cfg.VUs }}
	if cfg.Executor == ExecRampingVUs {
		vus.target = func(e time.Duration) int {
			return int(math.Floor(rampValue(float64(cfg.StartVUs), cfg.Stages, e) + 1e-9))
		}
	}
	// running lets the executor end with its VUs when the iteration limit
	// retires them all before the duration.
	var running sync.WaitGroup
	for vu := range cfg.maxVUs() {
		wg.Add(1)
		running.Add(1)
		go func() {
			defer wg.Done()
			defer running.Done()
			vus.run(flowCtx, vu)
		}()
	}
	// The executor ends at the end of the scenario, or earlier when every
	// VU has retired (iteration limit); a VU in its think time is not done.
	vusDone := make(chan struct{})
	go func() { running.Wait(); close(vusDone) }()
	t := time.NewTimer(vus.end)
	defer t.Stop()
	select {
	case <-stop:
	case <-t.C:
	case <-vusDone:
	}
}

// closedVUs is what the virtual users of one closed-model scenario share.
type closedVUs struct {
	sc   *scenarioRun
	stop <-chan struct{}
	end  time.Duration
	// target is how many VUs run at a time since the scenario began.
	target  func(time.Duration) int
	claimed atomic.Int64
}

// sleep waits d or until stop or the end; false means stop.
func (c *closedVUs) sleep(t *time.Timer, d time.Duration) bool {
	left := c.end - time.Since(c.sc.begin)
	if left <= 0 {
		return false
	}
	t.Reset(min(d, left))
	select {
	case <-c.stop:
		return false
	case <-t.C:
		return true
	}
}

// run is virtual user number vu, iterating until stop, the end, or the
// iteration limit.
func (c *closedVUs) run(flowCtx context.Context, vu int) {
	sc, cfg := c.sc, c.sc.cfg
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		elapsed := time.Since(sc.begin)
		if elapsed >= c.end {
			return
		}
		// With the iteration limit reached, a VU the ramp has not
		// started yet retires too, so the scenario can end.
		if cfg.Iterations > 0 && c.claimed.Load() >= cfg.Iterations {
			return
		}
		if vu >= c.target(elapsed) {
			if !c.sleep(t, 50*time.Millisecond) {
				return
			}
			continue
		}
		if k := sc.run.paused(); k != notPaused {
			sc.holdBack(k)
			if !c.sleep(t, max(sc.run.pauseLeft(), time.Millisecond)) {
				return
			}
			continue
		}
		if d := sc.reserveSlot(); d > 0 {
			// A slot past the end is not taken: sleep stops at the end.
			if !c.sleep(t, d) || time.Since(sc.begin) >= c.end {
				return
			}
		}
		if cfg.Iterations > 0 && c.claimed.Add(1) > cfg.Iterations {
			return
		}
		sc.inFlight.Add(1)
		sc.iterate(flowCtx, time.Now())
		sc.inFlight.Add(-1)
		if cfg.ThinkTime > 0 && !c.sleep(t, cfg.ThinkTime) {
			return
		}
	}
}

// reserveSlot enforces the plan's max_rate on closed-model scenarios: it
// books the next start slot 1/max_rate after the previous one and returns
// how long to wait for it.
func (sc *scenarioRun) reserveSlot() time.Duration {
	rate := sc.run.rateCap
	if rate <= 0 {
		return 0
	}
	step := int64(float64(time.Second) / rate)
	for {
		now := int64(time.Since(sc.begin))
		cur := sc.nextSlot.Load()
		slot := max(cur, now)
		if sc.nextSlot.CompareAndSwap(cur, slot+step) {
			return time.Duration(slot - now)
		}
	}
}
