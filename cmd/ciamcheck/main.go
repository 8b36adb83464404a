// Command ciamcheck is the conformance and load-testing harness for the
// Microsoft Entra External ID native authentication API. This package only
// wires flags to the packages that do the work.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// subcommands is filled by each command's file in its init, so commands can
// be added without touching this file.
var subcommands []func() *cobra.Command

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
	for _, sub := range subcommands {
		root.AddCommand(sub())
	}
	return root
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ciamcheck:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}
