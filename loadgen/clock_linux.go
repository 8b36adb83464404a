package loadgen

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fineSleeper sleeps on a timerfd read through the runtime's network
// poller: the goroutine parks without holding a processor or a thread, and
// the kernel's high-resolution timer wakes the poller within tens of µs
// (the poller's own timeout is in whole milliseconds). If the timerfd cannot
// be made, it falls back to time.Sleep.
type fineSleeper struct {
	f   *os.File
	buf [8]byte
}

func (s *fineSleeper) start() {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return
	}
	s.f = os.NewFile(uintptr(fd), "loadgen-timerfd")
}

func (s *fineSleeper) stop() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// sleep sleeps about d; it may return early, the caller loops.
func (s *fineSleeper) sleep(d time.Duration) {
	if s.f == nil || d <= 0 {
		time.Sleep(d)
		return
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(int(s.f.Fd()), 0, &spec, nil); err != nil {
		time.Sleep(d)
		return
	}
	if _, err := s.f.Read(s.buf[:]); err != nil {
		time.Sleep(d)
	}
}
