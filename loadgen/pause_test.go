package loadgen

import (
	"testing"
	"time"
)

// TestPausedAt: an arrival due inside a Retry-After pause is held back even
// when the engine reaches it after the pause ended; one due before the
// answer that asked for the pause, or after it, is not.
func TestPausedAt(t *testing.T) {
	ms := func(n int) int64 { return int64(time.Duration(n) * time.Millisecond) }
	r := &run{begin: time.Now().Add(-2 * time.Second)}
	// A 429 at 100ms asked for 900ms; a 503 at 1200ms asked for 300ms.
	r.throttleUntil.Store(ms(1000))
	r.throttlePauses.add(ms(100), ms(1000))
	r.unavailableUntil.Store(ms(1500))
	r.unavailablePauses.add(ms(1200), ms(1500))
	tests := []struct {
		name string
		due  int
		want pauseKind
	}{
		{"due before the 429 came: only late", 50, notPaused},
		{"due as the 429 came", 100, pausedThrottled},
		{"due in the 429's pause", 500, pausedThrottled},
		{"due as the 429's pause ended", 1000, notPaused},
		{"due between the pauses", 1100, notPaused},
		{"due in the 503's pause", 1300, pausedUnavailable},
		{"due after both", 1700, notPaused},
	}
	for _, tc := range tests {
		intended := r.begin.Add(time.Duration(tc.due) * time.Millisecond)
		if got := r.pausedAt(intended); got != tc.want {
			t.Errorf("%s (%dms): want %v, got %v", tc.name, tc.due, tc.want, got)
		}
	}
	// A pause that holds now holds whatever the due time.
	r.throttleUntil.Store(ms(60_000))
	if got := r.pausedAt(r.begin); got != pausedThrottled {
		t.Errorf("pause holding now, arrival due at 0: want %v, got %v", pausedThrottled, got)
	}
}
