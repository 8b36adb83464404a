package otp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// OutboxPath is the emulator backdoor endpoint that lists sent passcodes.
const OutboxPath = "/emulator/v1/outbox"

// maxOutboxBody bounds what is read from the backdoor: a user's outbox is a
// handful of small messages.
const maxOutboxBody = 1 << 20

// Outbox reads passcodes from the emulator's backdoor outbox
// (GET /emulator/v1/outbox?username=U), polling until one sent after since
// shows up.
type Outbox struct {
	// BaseURL is the emulator host, e.g. http://127.0.0.1:8080 (not the
	// tenant base URL: the backdoor sits at the host root).
	BaseURL string
	// HTTPClient defaults to http.DefaultClient.
	HTTPClient *http.Client
	// MinInterval is the first wait between polls (default 5ms); each wait
	// doubles up to MaxInterval (default 100ms). The emulator writes the
	// code before it answers the challenge, so the first poll usually hits.
	MinInterval, MaxInterval time.Duration
	// CodeLength, when > 0, is the exact length a code must have.
	CodeLength int
}

// OutboxMessage is one passcode as the backdoor lists it.
type OutboxMessage struct {
	Code      nativeauth.Secret `json:"code"`
	Flow      string            `json:"flow"`
	IssuedAt  time.Time         `json:"issued_at"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// OutboxAnswer is the backdoor's answer for one user, newest message last.
type OutboxAnswer struct {
	Username string          `json:"username"`
	Messages []OutboxMessage `json:"messages"`
}

// DecodeOutbox parses a backdoor answer. Unknown members are tolerated (the
// backdoor may grow), but a body that is not one JSON object is an error.
func DecodeOutbox(b []byte) (OutboxAnswer, error) {
	var a OutboxAnswer
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&a); err != nil {
		return OutboxAnswer{}, fmt.Errorf("decode outbox: %w", err)
	}
	if dec.More() {
		return OutboxAnswer{}, fmt.Errorf("decode outbox: trailing data after the object")
	}
	return a, nil
}

// Newest returns the newest message issued at or after since, if any.
// Messages are listed oldest first, but the issue times decide, so an
// unsorted list cannot yield a stale code.
func (a OutboxAnswer) Newest(since time.Time) (OutboxMessage, bool) {
	var best OutboxMessage
	found := false
	for _, m := range a.Messages {
		if m.IssuedAt.Before(since) {
			continue
		}
		if !found || !m.IssuedAt.Before(best.IssuedAt) {
			best, found = m, true
		}
	}
	return best, found
}

// Code polls the outbox until a passcode for username issued at or after
// since appears, and returns the newest. since is compared with the
// emulator's clock: a caller that moved that clock passes a time read from
// it.
func (o *Outbox) Code(ctx context.Context, username string, since time.Time) (nativeauth.Secret, error) {
	if username == "" {
		return "", fmt.Errorf("outbox: empty username")
	}
	u, err := url.Parse(strings.TrimSuffix(o.BaseURL, "/") + OutboxPath)
	if err != nil {
		return "", fmt.Errorf("outbox: base URL %q: %w", o.BaseURL, err)
	}
	u.RawQuery = url.Values{"username": {username}}.Encode()
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
		a, err := o.fetch(ctx, u.String())
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

func (o *Outbox) fetch(ctx context.Context, u string) (OutboxAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return OutboxAnswer{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return OutboxAnswer{}, fmt.Errorf("GET %s: %w", OutboxPath, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOutboxBody+1))
	if err != nil {
		return OutboxAnswer{}, fmt.Errorf("read %s: %w", OutboxPath, err)
	}
	if len(body) > maxOutboxBody {
		return OutboxAnswer{}, fmt.Errorf("%s answer exceeds %d bytes", OutboxPath, maxOutboxBody)
	}
	if resp.StatusCode != http.StatusOK {
		// The body is the backdoor's own message, never a code: codes only
		// appear in 200 answers.
		return OutboxAnswer{}, fmt.Errorf("GET %s: HTTP %d: %.200s", OutboxPath, resp.StatusCode, body)
	}
	return DecodeOutbox(body)
}
