// Command ciamcheck is the conformance and load-testing harness for the
// Microsoft Entra External ID native authentication API. This package only
// wires flags to the packages that do the work.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// subcommands is filled by each command's file in its init, so commands can
// be added without touching this file.
var subcommands []func() *cobra.Command

// Exit statuses, the same for every command: a judged run that passed, a
// judged run that failed (a deviation, a threshold, a regression), and a
// run that could not judge (usage, unreadable input, unreachable target,
// setup failure, interruption). An error that says nothing else is the
// last: only a judgement may claim 0 or 1.
const (
	exitPassed      = 0
	exitFailed      = 1
	exitCouldNotRun = 2
)

// exitError carries a process exit code through cobra without printing usage.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "ciamcheck",
		Short: "Conformance and load testing for the Entra External ID native authentication API",
		Long: `ciamcheck checks a Microsoft Entra External ID tenant's native authentication
API against every behaviour its reference documents, and measures it under load.

With no target profile every command runs against the embedded emulator, so
it works on a fresh machine with no tenant.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())}
	})
	for _, sub := range subcommands {
		root.AddCommand(sub())
	}
	return root
}

// signalContext is cancelled by the first SIGINT or SIGTERM, which starts
// the graceful stop (a load run lets in-flight flows finish and writes its
// record and log). The signals then get their default effect back, so a
// second Ctrl-C during a long graceful stop ends the process at once.
func signalContext(stderr io.Writer) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, func() {
		stop()
		// stop() itself cancels ctx at the end of a normal run: only a
		// signal leaves a cause of its own (which wraps context.Canceled).
		if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
			fmt.Fprintf(stderr, "ciamcheck: %v: stopping gracefully (again to quit at once)\n", cause)
		}
	})
	return ctx, stop
}

func main() {
	ctx, stop := signalContext(os.Stderr)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ciamcheck:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(exitCouldNotRun)
	}
}
