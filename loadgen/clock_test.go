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
		if !c.waitUntil(due) {
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
	if c.waitUntil(start.Add(time.Hour)) {
		t.Fatal("waitUntil returned true before an hour passed")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop took %s to notice", d)
	}
	if c.waitUntil(time.Now().Add(-time.Second)) != true {
		t.Error("a due time in the past is due, even after stop")
	}
}
