package otp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Prompt asks a person for the passcode: it prints the username to Out and
// reads one line from In, asking again when the line is not a valid code.
// It is meant for interactive runs against a real tenant. Concurrent calls
// are served one at a time.
type Prompt struct {
	In  io.Reader
	Out io.Writer
	// CodeLength, when > 0, is the exact length a code must have.
	CodeLength int

	// turn holds one token: one question on the terminal at a time. A
	// channel, not a mutex, so a caller queued behind another question
	// still gives up when its own ctx ends (waiting is bounded).
	turn   chan struct{}
	once   sync.Once
	lines  chan string
	endErr error // why lines was closed; read only after the close
}

// NewPrompt returns a Prompt reading in and writing out.
func NewPrompt(in io.Reader, out io.Writer, codeLength int) *Prompt {
	return &Prompt{In: in, Out: out, CodeLength: codeLength}
}

// readLines runs for the Prompt's life: a blocked terminal read cannot be
// cancelled, so one reader feeds every call and a line typed after a
// cancelled call goes to the next one instead of being lost.
func (p *Prompt) readLines() {
	sc := bufio.NewScanner(p.In)
	for sc.Scan() {
		p.lines <- sc.Text()
	}
	p.endErr = sc.Err()
	if p.endErr == nil {
		p.endErr = io.EOF
	}
	close(p.lines)
}

// Code asks for the passcode sent to username.
func (p *Prompt) Code(ctx context.Context, username string, since time.Time) (nativeauth.Secret, error) {
	if p.In == nil || p.Out == nil {
		return "", fmt.Errorf("otp prompt: no terminal configured")
	}
	p.once.Do(func() {
		p.lines = make(chan string)
		p.turn = make(chan struct{}, 1)
		go p.readLines()
	})
	select {
	case p.turn <- struct{}{}:
		defer func() { <-p.turn }()
	case <-ctx.Done():
		return "", fmt.Errorf("otp prompt for %s: waiting for the terminal: %w", username, ctx.Err())
	}
	for {
		want := "the one-time passcode"
		if p.CodeLength > 0 {
			want = fmt.Sprintf("the %d-digit one-time passcode", p.CodeLength)
		}
		if _, err := fmt.Fprintf(p.Out, "Enter %s sent to %s (after %s): ", want, username, since.Local().Format(time.TimeOnly)); err != nil {
			return "", fmt.Errorf("otp prompt: write question: %w", err)
		}
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			fmt.Fprintln(p.Out)
			return "", fmt.Errorf("otp prompt for %s: %w", username, ctx.Err())
		case line, ok = <-p.lines:
		}
		if !ok {
			if errors.Is(p.endErr, io.EOF) {
				return "", fmt.Errorf("otp prompt for %s: input closed: %w", username, p.endErr)
			}
			return "", fmt.Errorf("otp prompt for %s: read answer: %w", username, p.endErr)
		}
		code := strings.TrimSpace(line)
		if err := ValidateCode(code, p.CodeLength); err != nil {
			fmt.Fprintf(p.Out, "That is %v; try again.\n", err)
			continue
		}
		return nativeauth.Secret(code), nil
	}
}
