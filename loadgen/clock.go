package loadgen

import (
	"runtime"
	"runtime/metrics"
	"slices"
	"time"
)

// arrivalClock is the open-model engine's wait for the next arrival.
//
// The engine measures every iteration from its intended start, so its own
// lateness in starting an arrival shows in the response times it reports. A
// Go timer is on time while the process is busy (the scheduler runs due
// timers whenever it switches goroutines, and the woken goroutine runs
// next), but in an idle process it wakes up to a millisecond late (about
// 0.9 ms at the median on the 2-core Linux VM we measure on): the runtime's
// network poller then sleeps in whole milliseconds. So the clock:
//
//   - measures how late its own timer wakes (see measure) and keeps a
//     margin, early;
//   - when early is small (a busy process), or the process is saturated,
//     sleeps on a timer, as Vegeta does, which costs the least;
//   - when arrivals come closer together than early, also sleeps on a
//     timer only: the wake-up comes up to early late, and the engine starts
//     every arrival due by then at once, each measured from its own
//     intended start, so that lateness shows in the response times;
//   - otherwise sleeps on a timer until early before the due time, then
//     finely for the rest: on Linux a timerfd read through the poller, which
//     the kernel's high-resolution timer wakes tens of µs late rather than a
//     millisecond, without holding a processor or a thread.
//
// It never spins. Yielding in a loop until the due time is on time to the
// µs, but a processor that never idles never polls the network either: at
// 10,000/s on two cores that turned service times of 0.3 ms into 3 ms. A
// nanosleep holds the processor in a system call and, measured, cost as
// much.
//
// What punctuality costs is wake-ups of the process, not the sleep itself:
// each one passes through the scheduler's idle threads (futex) and the
// poller. Against a loopback server at 5,000/s on that VM (the process:
// generator and server), a fine sleep per arrival cost 127 µs of CPU per
// request for a response-time p50 of 126 µs, against Vegeta's 65 µs and
// 650 µs; coalesced, ciamcheck costs 58-67 µs against Vegeta's 59-66 µs in
// the same runs (ratio 0.98-1.08 over three), for a p50 of 660-675 µs:
// as late as Vegeta, but measured. At 1,000/s (arrivals 1 ms apart, about
// the timers' lateness) fine sleeps cost 221 µs a request against 152 µs
// coalesced. The timers' lateness used to be measured by a probe goroutine
// of the clock's own, whose 200 wake-ups a second cost 20 µs a request at
// 2,500/s; the clock now measures the timer it sleeps on anyway.
// BenchmarkVegetaComparison prints these figures side by side.
const (
	maxEarly    = 2 * time.Millisecond
	fineAbove   = 200 * time.Microsecond // timer lateness from which fine sleeps are used
	measureEach = 5 * time.Millisecond   // a period of the lateness measure
	periodsKept = 4                      // periods remembered; the margin follows the worst

	saturatedRunnable = 4 // goroutines waiting to run per processor
)

type arrivalClock struct {
	stop  <-chan struct{}
	timer *time.Timer
	fine  fineSleeper
	// early is how long before the due time the timer is set to wake,
	// from the lateness measured: see measure.
	early time.Duration
	// fineSleeps counts the fine sleeps taken; the tests read it.
	fineSleeps int

	// The lateness measure: the worst timer lateness of each of the last
	// periodsKept periods, whether the process was saturated at the end of
	// each, and when the current period ends.
	late      [periodsKept]time.Duration
	busy      [periodsKept]bool
	period    int
	periodEnd time.Time
	runnable  []metrics.Sample
}

// newArrivalClock returns a clock that waits until stop is closed; close
// releases it. Only one goroutine may use a clock.
func newArrivalClock(stop <-chan struct{}) *arrivalClock {
	c := &arrivalClock{stop: stop, timer: time.NewTimer(time.Hour), early: maxEarly,
		periodEnd: time.Now().Add(measureEach),
		runnable:  []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}}
	c.timer.Stop()
	c.fine.start()
	return c
}

func (c *arrivalClock) close() {
	c.timer.Stop()
	c.fine.stop()
}

// measure takes the lateness of one timer wake-up, and at the end of each
// period sets the margin: 1.25× the worst lateness of the last periodsKept
// periods plus 20 µs, at most maxEarly; or 0 (timers only) when the process
// is saturated: at the end of at least half of those periods more
// goroutines were waiting to run than saturatedRunnable per processor. A
// goroutine woken by the poller then waits behind all of them, while one
// woken by a timer runs next; that lateness, not the timer's, is what a
// saturated engine would add.
func (c *arrivalClock) measure(late time.Duration, now time.Time) {
	c.late[c.period] = max(c.late[c.period], late)
	if now.Before(c.periodEnd) {
		return
	}
	metrics.Read(c.runnable)
	if c.runnable[0].Value.Kind() == metrics.KindUint64 {
		c.busy[c.period] = c.runnable[0].Value.Uint64() > uint64(saturatedRunnable*runtime.GOMAXPROCS(0))
	}
	saturated := 0
	for _, b := range c.busy {
		if b {
			saturated++
		}
	}
	if 2*saturated >= periodsKept {
		c.early = 0
	} else {
		worst := slices.Max(c.late[:])
		c.early = min(worst+worst/4+20*time.Microsecond, maxEarly)
	}
	c.period = (c.period + 1) % periodsKept
	c.late[c.period], c.busy[c.period] = 0, false
	c.periodEnd = now.Add(measureEach)
}

// waitUntil returns when due has come (true) or stop is closed (false). It
// returns at most a fine sleep's lateness after due, and never before,
// unless gap, the time between this arrival and the one before it, is
// below the margin: then it sleeps on the timer only, and returns up to the
// timer's lateness after due (see arrivalClock).
func (c *arrivalClock) waitUntil(due time.Time, gap time.Duration) bool {
	for {
		now := time.Now()
		left := due.Sub(now)
		if left <= 0 {
			return true
		}
		early := c.early
		if early < fineAbove || gap < early {
			// Timers are on time (the process is busy, and the timer's
			// wake-up comes first in the scheduler's queue, where the
			// poller's goes to the back), or waking once for the arrivals
			// of one lateness is worth more than their punctuality.
			early = 0
		}
		if left > early {
			set := now.Add(left - early)
			c.timer.Reset(left - early)
			select {
			case <-c.stop:
				return false
			case <-c.timer.C:
			}
			woke := time.Now()
			c.measure(woke.Sub(set), woke)
			continue
		}
		c.fineSleeps++
		c.fine.sleep(left)
	}
}
