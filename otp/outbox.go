package otp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Outbox reads passcodes from the emulator's backdoor outbox
// (GET /emulator/v1/outbox?username=U), polling until one sent after since
// shows up.
type Outbox struct {
	// Backdoor is the emulator's backdoor client.
	Backdoor *backdoor.Client
	// MinInterval is the first wait between polls (default 5ms); each wait
	// doubles up to MaxInterval (default 100ms). The emulator writes the
	// code before it answers the challenge, so the first poll usually hits.
	MinInterval, MaxInterval time.Duration
	// CodeLength, when > 0, is the exact length a code must have.
	CodeLength int
}

// Code polls the outbox until a passcode for username issued at or after
// since appears, and returns the newest. since is compared with the
// emulator's clock: a caller that moved that clock passes a time read from
// it.
func (o *Outbox) Code(ctx context.Context, username string, since time.Time) (nativeauth.Secret, error) {
	if username == "" {
		return "", errors.New("outbox: empty username")
	}
	if o.Backdoor == nil {
		return "", errors.New("outbox: no backdoor client")
	}
	wait, maxWait := o.MinInterval, o.MaxInterval
	if wait <= 0 {
		wait = 5 * time.Millisecond
	}
	if maxWait <= 0 {
		maxWait = 100 * time.Millisecond
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		a, err := o.Backdoor.Outbox(ctx, username)
		if err != nil {
			return "", fmt.Errorf("outbox for %s: %w", username, err)
		}
		if m, ok := a.Newest(since); ok {
			if err := ValidateCode(m.Code.Reveal(), o.CodeLength); err != nil {
				return "", fmt.Errorf("outbox for %s: %w", username, err)
			}
			return m.Code, nil
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("outbox for %s: no code issued since %s: %w", username, since.Format(time.RFC3339Nano), ctx.Err())
		case <-timer.C:
		}
		wait = min(2*wait, maxWait)
	}
}
