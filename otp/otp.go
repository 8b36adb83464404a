// Package otp fetches the one-time passcodes the API emails to test users,
// from the emulator's outbox, an IMAP test mailbox, an external command or a
// person at a terminal.
package otp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Source yields the passcode most recently sent to a user.
type Source interface {
	// Code waits for a passcode sent to username after since and returns the
	// newest one. It is bounded by ctx (callers set a deadline) and returns
	// ctx's error, wrapped, when ctx ends first.
	Code(ctx context.Context, username string, since time.Time) (nativeauth.Secret, error)
}

// ErrInvalidCode is wrapped by errors about a code that is not digits of the
// expected length. The message never contains the code.
var ErrInvalidCode = errors.New("not a valid one-time passcode")

// ValidateCode checks that code is ASCII digits only and, when length > 0,
// exactly length of them. Any length from 4 to 12 is accepted when length
// is 0 (the API announces code_length per challenge; a source configured
// without it still rejects garbage).
func ValidateCode(code string, length int) error {
	n := len(code)
	switch {
	case n == 0:
		return fmt.Errorf("%w: empty", ErrInvalidCode)
	case length > 0 && n != length:
		return fmt.Errorf("%w: %d characters, want %d", ErrInvalidCode, n, length)
	case length <= 0 && (n < 4 || n > 12):
		return fmt.Errorf("%w: %d characters, want 4 to 12", ErrInvalidCode, n)
	}
	for i := 0; i < n; i++ {
		if code[i] < '0' || code[i] > '9' {
			return fmt.Errorf("%w: character %d is not a digit", ErrInvalidCode, i+1)
		}
	}
	return nil
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, username string, since time.Time) (nativeauth.Secret, error)

// Code calls f.
func (f SourceFunc) Code(ctx context.Context, username string, since time.Time) (nativeauth.Secret, error) {
	return f(ctx, username, since)
}
