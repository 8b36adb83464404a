package otp

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func mailbox(t *testing.T) *Exec {
	t.Helper()
	script, err := filepath.Abs("testdata/mailbox.sh")
	if err != nil {
		t.Fatal(err)
	}
	return &Exec{Command: []string{script}, CodeLength: 8, Timeout: 5 * time.Second, RetryInterval: 10 * time.Millisecond}
}

func TestExec(t *testing.T) {
	tests := []struct {
		user    string
		code    string
		wantErr string
	}{
		{user: "ok@example.com", code: "12345678"},
		{user: "short@example.com", wantErr: "not a valid one-time passcode"},
		{user: "letters@example.com", wantErr: "not a valid one-time passcode"},
		{user: "fail@example.com", wantErr: "exit status 2: mailbox [digits] unreachable"},
		// Shell metacharacters reach the script as one argument, not code.
		{user: "x;echo 99999999@example.com", wantErr: "exit status 5"},
		{user: "$(id)@example.com", code: "11112222"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			got, err := mailbox(t).Code(context.Background(), tt.user, time.Now())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Code: %v", err)
			}
			if got.Reveal() != tt.code {
				t.Fatalf("code mismatch")
			}
		})
	}
}

func TestExecRetriesEmptyOutput(t *testing.T) {
	e := mailbox(t)
	t.Setenv("STATE", filepath.Join(t.TempDir(), "n"))
	got, err := e.Code(context.Background(), "late@example.com", time.Now())
	if err != nil {
		t.Fatalf("Code: %v", err)
	}
	if got.Reveal() != "87654321" {
		t.Fatal("wrong code after retries")
	}
}

func TestExecTimeoutAndCancel(t *testing.T) {
	e := mailbox(t)
	e.Timeout = 100 * time.Millisecond
	start := time.Now()
	_, err := e.Code(context.Background(), "slow@example.com", time.Now())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v; the 5s script was not killed at the timeout", d)
	}

	e.Timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := e.Code(ctx, "slow@example.com", time.Now()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
}

func TestExecConfigErrors(t *testing.T) {
	if _, err := (&Exec{}).Code(context.Background(), "u", time.Now()); err == nil {
		t.Fatal("no command: want an error")
	}
	if _, err := (&Exec{Command: []string{"/nonexistent/cmd"}}).Code(context.Background(), "u", time.Now()); err == nil || !strings.Contains(err.Error(), "/nonexistent/cmd") {
		t.Fatalf("missing program: err = %v", err)
	}
}
