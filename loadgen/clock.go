package loadgen

import (
	"runtime"
	"runtime/metrics"
	"slices"
	"sync/atomic"
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
//   - keeps a probe goroutine that measures how late timers of its own wake
//     (every probeEvery) and publishes a margin, early;
//   - when early is small (a busy process), or the process is saturated
//     (see probe), sleeps on a timer, as Vegeta does, which costs the least;
//   - otherwise sleeps on a timer until early before the due time, then
//     finely for the rest: on Linux a timerfd read through the poller, which
//     the kernel's high-resolution timer wakes tens of µs late rather than a
//     millisecond, without holding a processor or a thread.
//
// It never spins. Yielding in a loop until the due time is on time to the
// µs, but a processor that never idles never polls the network either: at
// 10,000/s on two cores that turned service times of 0.3 ms into 3 ms. A
// nanosleep holds the processor in a system call and, measured, cost as
// much. The fine sleeps cost CPU (a wake-up per arrival instead of one per
// millisecond): at 5,000/s on that VM the process (generator and loopback
// server) spent about 165 µs per request against Vegeta's 85; the
// comparison benchmark with Vegeta reports it.
const (
	maxEarly   = 2 * time.Millisecond
	fineAbove  = 200 * time.Microsecond // timer lateness from which fine sleeps are used
	probeEvery = 5 * time.Millisecond
	probeKeep  = 4 // probes remembered; the margin follows the worst

	saturatedRunnable = 4 // goroutines waiting to run per processor
)

type arrivalClock struct {
	stop  <-chan struct{}
	timer *time.Timer
	early atomic.Int64 // ns the timer is set early by; written by the probe
	done  chan struct{}
	fine  fineSleeper
}

// newArrivalClock starts the clock's probe; close stops it.
func newArrivalClock(stop <-chan struct{}) *arrivalClock {
	c := &arrivalClock{stop: stop, timer: time.NewTimer(time.Hour), done: make(chan struct{})}
	c.timer.Stop()
	c.early.Store(int64(maxEarly))
	c.fine.start()
	go c.probe()
	return c
}

func (c *arrivalClock) close() {
	c.timer.Stop()
	c.fine.stop()
	close(c.done)
}

// probe measures how late timers wake and publishes the margin: 1.25× the
// worst lateness of the last probeKeep probes plus 20 µs, at most maxEarly;
// or 0 (timers only) when the process is saturated: in at least half of the
// last probeKeep probes more goroutines were waiting to run than
// saturatedRunnable per processor. A goroutine woken by the poller then
// waits behind all of them, while one woken by a timer runs next; that
// lateness, not the timer's, is what a saturated engine would add.
func (c *arrivalClock) probe() {
	t := time.NewTimer(probeEvery)
	defer t.Stop()
	var seen [probeKeep]time.Duration
	var busy [probeKeep]bool
	runnable := []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}
	for i := 0; ; i++ {
		at := time.Now().Add(probeEvery)
		t.Reset(probeEvery)
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		seen[i%probeKeep] = time.Since(at)
		metrics.Read(runnable)
		if runnable[0].Value.Kind() == metrics.KindUint64 {
			busy[i%probeKeep] = runnable[0].Value.Uint64() > uint64(saturatedRunnable*runtime.GOMAXPROCS(0))
		}
		saturated := 0
		for _, b := range busy {
			if b {
				saturated++
			}
		}
		if 2*saturated >= probeKeep {
			c.early.Store(0)
			continue
		}
		worst := slices.Max(seen[:])
		c.early.Store(int64(min(worst+worst/4+20*time.Microsecond, maxEarly)))
	}
}

// waitUntil returns when due has come (true) or stop is closed (false). It
// returns at most a fine sleep's lateness after due, and never before.
func (c *arrivalClock) waitUntil(due time.Time) bool {
	for {
		left := time.Until(due)
		if left <= 0 {
			return true
		}
		early := time.Duration(c.early.Load())
		if early < fineAbove {
			// Timers are on time: the process is busy, and the timer's
			// wake-up comes first in the scheduler's queue, where the
			// poller's goes to the back.
			early = 0
		}
		if left > early {
			c.timer.Reset(left - early)
			select {
			case <-c.stop:
				return false
			case <-c.timer.C:
			}
			continue
		}
		c.fine.sleep(left)
	}
}
