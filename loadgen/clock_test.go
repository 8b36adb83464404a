package loadgen

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestArrivalClockNeverEarly(t *testing.T) {
	stop := make(chan struct{})
	c := newArrivalClock(stop)
	defer c.close()
	var late []time.Duration
	for range 300 {
		due := time.Now().Add(time.Duration(rand.Int64N(int64(3 * time.Millisecond))))
		if !c.waitUntil(due, time.Hour) {
			t.Fatal("waitUntil returned false without stop")
		}
		now := time.Now()
		if now.Before(due) {
			t.Fatalf("woke %s early", due.Sub(now))
		}
		late = append(late, now.Sub(due))
	}
	slices.Sort(late)
	t.Logf("lateness p50 %s p90 %s max %s", late[len(late)/2], late[len(late)*9/10], late[len(late)-1])
	// Only a gross error fails: the machine running the tests may be busy.
	if p50 := late[len(late)/2]; p50 > 5*time.Millisecond {
		t.Errorf("median lateness %s", p50)
	}
}

func TestArrivalClockStop(t *testing.T) {
	stop := make(chan struct{})
	c := newArrivalClock(stop)
	defer c.close()
	time.AfterFunc(20*time.Millisecond, func() { close(stop) })
	start := time.Now()
	if c.waitUntil(start.Add(time.Hour), time.Hour) {
		t.Fatal("waitUntil returned true before an hour passed")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop took %s to notice", d)
	}
	if c.waitUntil(time.Now().Add(-time.Second), 0) != true {
		t.Error("a due time in the past is due, even after stop")
	}
}

// TestArrivalClockCoalesces: with timers up to 2 ms late, arrivals 100 µs
// apart wait on the timer alone (no fine sleep each) and those 10 ms apart
// sleep finely; neither ever returns before its due time.
func TestArrivalClockCoalesces(t *testing.T) {
	stop := make(chan struct{})
	c := newArrivalClock(stop)
	defer c.close()
	// The test sets the margin; the measure's period never ends.
	c.early, c.periodEnd = maxEarly, time.Now().Add(time.Hour)
	for _, tc := range []struct {
		gap  time.Duration
		fine bool
	}{{100 * time.Microsecond, false}, {10 * time.Millisecond, true}} {
		c.fineSleeps = 0
		for range 20 {
			due := time.Now().Add(5 * time.Millisecond)
			if !c.waitUntil(due, tc.gap) {
				t.Fatal("waitUntil returned false without stop")
			}
			if now := time.Now(); now.Before(due) {
				t.Fatalf("gap %s: woke %s early", tc.gap, due.Sub(now))
			}
		}
		if got := c.fineSleeps > 0; got != tc.fine {
			t.Errorf("gap %s: fine sleeps: want %v, got %d", tc.gap, tc.fine, c.fineSleeps)
		}
	}
}

// TestArrivalClockMargin: the margin follows the worst lateness of the last
// periodsKept periods (×1.25 + 20 µs, at most maxEarly), and changes only
// when a period ends.
func TestArrivalClockMargin(t *testing.T) {
	c := newArrivalClock(make(chan struct{}))
	defer c.close()
	at := c.periodEnd
	c.measure(400*time.Microsecond, at.Add(-time.Millisecond))
	if c.early != maxEarly {
		t.Fatalf("early before the period ended: want %s, got %s", maxEarly, c.early)
	}
	steps := []struct {
		late, want time.Duration
	}{
		{100 * time.Microsecond, 520 * time.Microsecond}, // the 400 µs of this period
		{100 * time.Microsecond, 520 * time.Microsecond},
		{100 * time.Microsecond, 520 * time.Microsecond},
		{100 * time.Microsecond, 520 * time.Microsecond}, // four periods remembered
		{100 * time.Microsecond, 145 * time.Microsecond},
		{10 * time.Millisecond, maxEarly},
	}
	for i, s := range steps {
		at = at.Add(measureEach)
		c.measure(s.late, at)
		if c.early != s.want {
			t.Errorf("period %d, lateness %s: early: want %s, got %s", i, s.late, s.want, c.early)
		}
	}
}
