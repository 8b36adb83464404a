package otp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Environment variables Exec sets for its command, besides passing the
// username as the last argument.
const (
	EnvUsername = "CIAMCHECK_OTP_USERNAME"
	EnvSince    = "CIAMCHECK_OTP_SINCE" // RFC 3339 with nanoseconds
)

// maxExecOutput bounds what is kept of the command's stdout and stderr.
const maxExecOutput = 4096

// Exec runs a command that prints the passcode, e.g. a script that reads a
// test mailbox. The command is run directly (argv, never a shell), with the
// username appended as its last argument and in CIAMCHECK_OTP_USERNAME, and
// since in CIAMCHECK_OTP_SINCE. It prints the code on stdout (surrounding
// white space is ignored). A run that exits 0 with empty output means "not
// arrived yet" and is repeated after RetryInterval until Timeout or ctx ends.
type Exec struct {
	// Command is the program and its leading arguments.
	Command []string
	// Timeout bounds one Code call (default 60s), on top of ctx.
	Timeout time.Duration
	// RetryInterval is the wait between runs that found no code (default 1s).
	RetryInterval time.Duration
	// CodeLength, when > 0, is the exact length a code must have.
	CodeLength int
	// Dir is the working directory (default: the current one).
	Dir string
}

// Code runs the command until it prints a code or the time is up.
func (e *Exec) Code(ctx context.Context, username string, since time.Time) (nativeauth.Secret, error) {
	if len(e.Command) == 0 || e.Command[0] == "" {
		return "", fmt.Errorf("otp exec: no command configured")
	}
	if username == "" {
		return "", fmt.Errorf("otp exec: empty username")
	}
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	retry := e.RetryInterval
	if retry <= 0 {
		retry = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		code, err := e.run(ctx, username, since)
		if err != nil {
			return "", fmt.Errorf("otp exec %s for %s: %w", e.Command[0], username, err)
		}
		if code != "" {
			if err := ValidateCode(code, e.CodeLength); err != nil {
				return "", fmt.Errorf("otp exec %s for %s: %w", e.Command[0], username, err)
			}
			return nativeauth.Secret(code), nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("otp exec %s for %s: no code printed: %w", e.Command[0], username, ctx.Err())
		case <-time.After(retry):
		}
	}
}

// run executes the command once and returns its trimmed stdout.
func (e *Exec) run(ctx context.Context, username string, since time.Time) (string, error) {
	args := append(append([]string(nil), e.Command[1:]...), username)
	cmd := exec.CommandContext(ctx, e.Command[0], args...)
	cmd.Dir = e.Dir
	cmd.Env = append(os.Environ(),
		EnvUsername+"="+username,
		EnvSince+"="+since.UTC().Format(time.RFC3339Nano))
	var stdout, stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Children of a killed command may hold the pipes open; stop waiting for
	// them after a grace period so a timeout is a timeout.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return "", fmt.Errorf("command stopped: %w", ctxErr)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("exit status %d: %s", ee.ExitCode(), scrubDigits(stderr.String()))
		}
		return "", fmt.Errorf("run: %w", err)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// digitRun matches what could be a passcode in a diagnostic.
var digitRun = regexp.MustCompile(`[0-9]{4,}`)

// scrubDigits shortens a command's stderr for an error message and masks
// digit runs, which could be a passcode.
func scrubDigits(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return digitRun.ReplaceAllString(s, "[digits]")
}

// limitedBuffer keeps the first maxExecOutput bytes and discards the rest,
// so a runaway command cannot exhaust memory.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxExecOutput - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}
