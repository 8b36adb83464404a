//go:build !linux

package loadgen

import "time"

// fineSleeper is time.Sleep where no finer sleep is wired up.
type fineSleeper struct{}

func (*fineSleeper) start() {}
func (*fineSleeper) stop()  {}

func (*fineSleeper) sleep(d time.Duration) { time.Sleep(d) }
