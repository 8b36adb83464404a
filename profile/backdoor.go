package profile

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

// Backdoor is a thin client of the emulator's test-only API under
// /emulator/v1/: clock, reset, users, config and faults.
type Backdoor struct {
	// BaseURL is the emulator host (http://127.0.0.1:PORT), not the tenant
	// base URL.
	BaseURL    string
	HTTPClient *http.Client
}

// maxBackdoorBody bounds a backdoor answer (a config or fault set).
const maxBackdoorBody = 1 << 20

// Clock is the emulator's clock as the backdoor reports it.
type Clock struct {
	Now    time.Time `json:"now"`
	Offset string    `json:"offset"`
}

// BackdoorUser is a user as the backdoor reports it (never the password).
type BackdoorUser struct {
	Username   string            `json:"username"`
	ObjectID   string            `json:"object_id"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// BackdoorError is a non-2xx answer of the backdoor.
type BackdoorError struct {
	Method, Path string
	HTTPStatus   int
	Body         string // the emulator's error body; never a secret
}

func (e *BackdoorError) Error() string {
	return fmt.Sprintf("backdoor %s %s: HTTP %d: %.300s", e.Method, e.Path, e.HTTPStatus, e.Body)
}

// do sends one call. in, when not nil, is sent as JSON (or as-is when it is
// json.RawMessage); out, when not nil, receives the JSON answer.
func (b *Backdoor) do(ctx context.Context, method, path string, in, out any, want int) error {
	var body io.Reader
	if in != nil {
		raw, ok := in.(json.RawMessage)
		if !ok {
			var err error
			if raw, err = json.Marshal(in); err != nil {
				return fmt.Errorf("backdoor %s %s: encode: %w", method, path, err)
			}
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(b.BaseURL, "/")+"/emulator/v1/"+path, body)
	if err != nil {
		return fmt.Errorf("backdoor %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	hc := b.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("backdoor %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxBackdoorBody))
	if err != nil {
		return fmt.Errorf("backdoor %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return &BackdoorError{Method: method, Path: path, HTTPStatus: resp.StatusCode, Body: string(rb)}
	}
	if out == nil {
		return nil
	}
	if raw, ok := out.(*json.RawMessage); ok {
		*raw = append((*raw)[:0], rb...)
		return nil
	}
	if err := json.Unmarshal(rb, out); err != nil {
		return fmt.Errorf("backdoor %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// Clock reads the emulator's clock.
func (b *Backdoor) Clock(ctx context.Context) (Clock, error) {
	var c Clock
	err := b.do(ctx, http.MethodGet, "clock", nil, &c, http.StatusOK)
	return c, err
}

// AdvanceClock moves the emulator's clock forward by d, which expires
// passcodes, continuation tokens and security tokens without waiting.
func (b *Backdoor) AdvanceClock(ctx context.Context, d time.Duration) (Clock, error) {
	var c Clock
	err := b.do(ctx, http.MethodPost, "clock", map[string]string{"advance": d.String()}, &c, http.StatusOK)
	return c, err
}

// Reset puts users, flows, outbox, clock and faults back to the config.
func (b *Backdoor) Reset(ctx context.Context) error {
	return b.do(ctx, http.MethodPost, "reset", nil, nil, http.StatusNoContent)
}

// CreateUser adds a user directly, skipping sign-up.
func (b *Backdoor) CreateUser(ctx context.Context, username string, password nativeauth.Secret, attrs nativeauth.Attributes) (BackdoorUser, error) {
	in := struct {
		Username   string            `json:"username"`
		Password   string            `json:"password"`
		Attributes map[string]string `json:"attributes,omitempty"`
	}{username, password.Reveal(), attrs}
	var u BackdoorUser
	err := b.do(ctx, http.MethodPost, "users", in, &u, http.StatusCreated)
	return u, err
}

// User reads a user; a missing user is a *BackdoorError with HTTP 404.
func (b *Backdoor) User(ctx context.Context, username string) (BackdoorUser, error) {
	var u BackdoorUser
	err := b.do(ctx, http.MethodGet, "users/"+url.PathEscape(username), nil, &u, http.StatusOK)
	return u, err
}

// Config returns the emulated tenant's configuration as JSON.
func (b *Backdoor) Config(ctx context.Context) (json.RawMessage, error) {
	var raw json.RawMessage
	err := b.do(ctx, http.MethodGet, "config", nil, &raw, http.StatusOK)
	return raw, err
}

// SetConfig replaces the tenant's configuration; an invalid one is a
// *BackdoorError with HTTP 400 and the emulator's reason.
func (b *Backdoor) SetConfig(ctx context.Context, cfg json.RawMessage) error {
	return b.do(ctx, http.MethodPut, "config", cfg, nil, http.StatusOK)
}

// Faults returns the fault set as JSON.
func (b *Backdoor) Faults(ctx context.Context) (json.RawMessage, error) {
	var raw json.RawMessage
	err := b.do(ctx, http.MethodGet, "faults", nil, &raw, http.StatusOK)
	return raw, err
}

// SetFaults replaces the fault set, e.g.
// {"endpoints":{"/oauth2/v2.0/token":{"rate_429":0.1,"retry_after":"1s"}}}.
func (b *Backdoor) SetFaults(ctx context.Context, faults json.RawMessage) error {
	return b.do(ctx, http.MethodPut, "faults", faults, nil, http.StatusOK)
}
