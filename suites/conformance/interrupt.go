package conformance

import (
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
)

// interrupted is set when SIGINT or SIGTERM reaches the process during a
// run. Ginkgo handles the signal itself (it cuts the running spec off and
// skips the rest); the record needs to know too, so that the run says
// "interrupted" instead of failing the entry whose spec was cut off.
var (
	interrupted   atomic.Bool
	watchInterupt sync.Once
)

// watchInterrupts starts noting the first interrupt of the process. After
// it, the watcher lets go, so a second Ctrl-C keeps its usual effect.
func watchInterrupts() {
	watchInterupt.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		go func() {
			<-ch
			interrupted.Store(true)
			signal.Stop(ch)
		}()
	})
}
