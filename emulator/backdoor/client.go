package backdoor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// MaxAnswerBytes bounds what the client reads of one answer: a config or
// an outbox is a few KiB, so anything near this is not the emulator.
const MaxAnswerBytes = 1 << 20

// Client calls the backdoor of one emulator. The zero HTTPClient is
// http.DefaultClient.
type Client struct {
	// BaseURL is the emulator host (http://127.0.0.1:PORT), not the tenant
	// base URL: the backdoor sits at the host root.
	BaseURL    string
	HTTPClient *http.Client
	// Token, when set, is sent as "Authorization: Bearer": an emulator
	// serving its backdoor beyond loopback requires it (TokenEnv).
	Token nativeauth.Secret
}

// TokenEnv is the environment variable that holds a backdoor's bearer
// token, for `ciamcheck emulator` that requires it and for the target
// profiles that name it (a profile holds the variable's name, never the
// token).
const TokenEnv = "CIAMCHECK_BACKDOOR_TOKEN"

// Error is a backdoor call that failed: an answer with an unexpected
// status, an answer that could not be read or decoded, or no answer.
type Error struct {
	Method string
	Path   string // below Prefix, without the query
	// Status is the answer's HTTP status; 0 when no answer came.
	Status int
	// Body is the start of an error answer: the emulator's JSON error
	// body, which holds no secret (codes appear only in 200 answers, and
	// those are never kept here).
	Body string
	// Err is what went wrong besides the status (transport, oversize
	// answer, decoding); nil when the status alone is the failure.
	Err error
}

// maxErrorBody bounds Error.Body.
const maxErrorBody = 1024

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "backdoor %s %s%s", e.Method, Prefix, e.Path)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
		return b.String()
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal([]byte(e.Body), &body) == nil && body.Error != "" {
		// The description's first line is the reason; the rest is the
		// trace and correlation IDs.
		desc, _, _ := strings.Cut(body.Description, "\r\n")
		fmt.Fprintf(&b, ": %s: %s", body.Error, desc)
		return b.String()
	}
	fmt.Fprintf(&b, ": %.300q", e.Body)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// call is one backdoor request: in, when not nil, is sent as JSON (as-is
// when it is json.RawMessage); decode, when not nil, reads a want answer.
type call struct {
	method, path string
	query        url.Values
	in           any
	want         int
	decode       func([]byte) error
}

func (c *Client) do(ctx context.Context, k call) error {
	fail := func(status int, err error) error {
		return &Error{Method: k.method, Path: k.path, Status: status, Err: err}
	}
	var body io.Reader
	if k.in != nil {
		raw, ok := k.in.(json.RawMessage)
		if !ok {
			var err error
			if raw, err = json.Marshal(k.in); err != nil {
				return fail(0, fmt.Errorf("encode request: %w", err))
			}
		}
		body = bytes.NewReader(raw)
	}
	u := strings.TrimSuffix(c.BaseURL, "/") + Prefix + k.path
	if len(k.query) > 0 {
		u += "?" + k.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, k.method, u, body)
	if err != nil {
		return fail(0, err)
	}
	if k.in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token.Reveal())
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fail(0, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBytes+1))
	if err != nil {
		return fail(resp.StatusCode, fmt.Errorf("read answer: %w", err))
	}
	if len(b) > MaxAnswerBytes {
		return fail(resp.StatusCode, fmt.Errorf("answer exceeds %d bytes", MaxAnswerBytes))
	}
	if resp.StatusCode != k.want {
		if len(b) > maxErrorBody {
			b = b[:maxErrorBody]
		}
		return &Error{Method: k.method, Path: k.path, Status: resp.StatusCode, Body: string(b)}
	}
	if k.decode == nil {
		return nil
	}
	if err := k.decode(b); err != nil {
		return fail(resp.StatusCode, err)
	}
	return nil
}

// decode reads exactly one JSON value; on error it returns the zero T, so
// a half-decoded answer is never used. strict refuses unknown members:
// answers a caller may send back (config, faults) are strict, so a round
// trip never drops a setting this client does not know.
func decode[T any](what string, b []byte, strict bool) (T, error) {
	var v, zero T
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(&v); err != nil {
		return zero, fmt.Errorf("decode %s: %w", what, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return zero, fmt.Errorf("decode %s: data after the JSON value", what)
	}
	return v, nil
}

func decodeClock(b []byte) (Clock, error) { return decode[Clock]("clock", b, false) }

func decodeUser(b []byte) (User, error) { return decode[User]("user", b, false) }

func decodeStats(b []byte) (Stats, error) { return decode[Stats]("stats", b, false) }

// DecodeOutbox reads an answer of GET outbox, for a caller that already
// holds it (a test calling the emulator's handler directly). Unknown
// members are tolerated: the outbox is only read.
func DecodeOutbox(b []byte) (Outbox, error) { return decode[Outbox]("outbox", b, false) }

func decodeConfig(b []byte) (Config, error) { return decode[Config]("config", b, true) }

func decodeFaults(b []byte) (Faults, error) { return decode[Faults]("faults", b, true) }

// exchange sends one call and decodes its answer with dec.
func exchange[T any](ctx context.Context, c *Client, k call, dec func([]byte) (T, error)) (T, error) {
	var out T
	k.decode = func(b []byte) error {
		var err error
		out, err = dec(b)
		return err
	}
	err := c.do(ctx, k)
	return out, err
}

// Stats reads the emulator's limits and their counts.
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	return exchange(ctx, c, call{method: http.MethodGet, path: PathStats, want: http.StatusOK}, decodeStats)
}

// Clock reads the emulator's clock.
func (c *Client) Clock(ctx context.Context) (Clock, error) {
	return exchange(ctx, c, call{method: http.MethodGet, path: PathClock, want: http.StatusOK}, decodeClock)
}

// AdvanceClock moves the emulator's clock forward by d, which expires
// passcodes, continuation tokens and security tokens without waiting.
func (c *Client) AdvanceClock(ctx context.Context, d time.Duration) (Clock, error) {
	return exchange(ctx, c, call{method: http.MethodPost, path: PathClock, in: ClockAdvance{Advance: d.String()}, want: http.StatusOK}, decodeClock)
}

// Reset puts users, flows, outbox, clock, faults and tenant settings back
// to the config the emulator started with.
func (c *Client) Reset(ctx context.Context) error {
	return c.do(ctx, call{method: http.MethodPost, path: PathReset, want: http.StatusNoContent})
}

// CreateUser adds a user directly, skipping sign-up. An existing user is
// an *Error with HTTP 409.
func (c *Client) CreateUser(ctx context.Context, u NewUser) (User, error) {
	return exchange(ctx, c, call{method: http.MethodPost, path: PathUsers, in: u.wire(), want: http.StatusCreated}, decodeUser)
}

// User reads a user; a missing one is an *Error with HTTP 404.
func (c *Client) User(ctx context.Context, username string) (User, error) {
	return exchange(ctx, c, call{method: http.MethodGet, path: PathUsers + "/" + url.PathEscape(username), want: http.StatusOK}, decodeUser)
}

// SetStrongMethods replaces the user's registered strong methods (none
// removes them all); a missing user is an *Error with HTTP 404.
func (c *Client) SetStrongMethods(ctx context.Context, username string, methods []StrongMethod) (User, error) {
	if methods == nil {
		methods = []StrongMethod{}
	}
	return exchange(ctx, c, call{method: http.MethodPut, path: PathUsers + "/" + url.PathEscape(username) + "/" + PathStrongMethods,
		in: methods, want: http.StatusOK}, decodeUser)
}

// Outbox lists the passcodes sent to username, oldest first.
func (c *Client) Outbox(ctx context.Context, username string) (Outbox, error) {
	return exchange(ctx, c, call{method: http.MethodGet, path: PathOutbox, query: url.Values{"username": {username}}, want: http.StatusOK}, DecodeOutbox)
}

// Config reads the tenant's configuration (seeded users' passwords
// blank).
func (c *Client) Config(ctx context.Context) (Config, error) {
	return exchange(ctx, c, call{method: http.MethodGet, path: PathConfig, want: http.StatusOK}, decodeConfig)
}

// SetConfig replaces the tenant's configuration and returns it as the
// emulator now serves it; an invalid one is an *Error with HTTP 400 and the
// emulator's reason.
func (c *Client) SetConfig(ctx context.Context, cfg Config) (Config, error) {
	return exchange(ctx, c, call{method: http.MethodPut, path: PathConfig, in: cfg, want: http.StatusOK}, decodeConfig)
}

// EditConfig reads the tenant's configuration, applies edit to it, puts
// it, and returns the configuration the emulator now holds (as SetConfig
// does) and a function that puts the configuration read back, as it was
// read.
func (c *Client) EditConfig(ctx context.Context, edit func(*Config)) (applied Config, restore func(context.Context) error, err error) {
	var old json.RawMessage
	cfg, err := exchange(ctx, c, call{method: http.MethodGet, path: PathConfig, want: http.StatusOK}, func(b []byte) (Config, error) {
		old = append(json.RawMessage(nil), b...)
		return decodeConfig(b)
	})
	if err != nil {
		return Config{}, nil, fmt.Errorf("read tenant config: %w", err)
	}
	edit(&cfg)
	if applied, err = c.SetConfig(ctx, cfg); err != nil {
		return Config{}, nil, fmt.Errorf("set tenant config: %w", err)
	}
	return applied, func(ctx context.Context) error {
		if err := c.do(ctx, call{method: http.MethodPut, path: PathConfig, in: old, want: http.StatusOK}); err != nil {
			return fmt.Errorf("restore tenant config: %w", err)
		}
		return nil
	}, nil
}

// Faults reads the fault set.
func (c *Client) Faults(ctx context.Context) (Faults, error) {
	return exchange(ctx, c, call{method: http.MethodGet, path: PathFaults, want: http.StatusOK}, decodeFaults)
}

// SetFaults replaces the fault set and returns it as the emulator now
// applies it; an invalid one is an *Error with HTTP 400.
func (c *Client) SetFaults(ctx context.Context, f Faults) (Faults, error) {
	return exchange(ctx, c, call{method: http.MethodPut, path: PathFaults, in: f, want: http.StatusOK}, decodeFaults)
}
