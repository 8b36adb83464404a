package otp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator"
	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// fakeOutbox serves the backdoor outbox from an in-memory list, so the
// tests do not depend on the emulator.
type fakeOutbox struct {
	mu    sync.Mutex
	msgs  map[string][]backdoor.OutboxMessage
	polls int
}

func (f *fakeOutbox) add(user, code string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.msgs == nil {
		f.msgs = map[string][]backdoor.OutboxMessage{}
	}
	f.msgs[user] = append(f.msgs[user], backdoor.OutboxMessage{Code: secret(code), Flow: "signup", IssuedAt: at, ExpiresAt: at.Add(10 * time.Minute)})
}

func (f *fakeOutbox) pollCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.polls
}

func (f *fakeOutbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != backdoor.Prefix+backdoor.PathOutbox || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.polls++
	user := r.URL.Query().Get("username")
	out := backdoor.Outbox{Username: user, Messages: f.msgs[user]}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out.Revealed())
}

func TestOutboxReturnsNewestSinceAndWaits(t *testing.T) {
	f := &fakeOutbox{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	since := time.Now()
	f.add("a@example.com", "11111111", since.Add(-time.Second)) // before since: stale
	ob := &Outbox{Backdoor: &backdoor.Client{BaseURL: srv.URL + "/"}, CodeLength: 8}

	// Deliver the fresh code only after the first poll, as a slow mailer
	// would (after a fixed 30ms, a late first poll found it at once).
	go func() {
		for deadline := time.Now().Add(5 * time.Second); f.pollCount() == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		f.add("a@example.com", "22222222", since.Add(time.Millisecond))
		f.add("a@example.com", "33333333", since.Add(2*time.Millisecond))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	code, err := ob.Code(ctx, "a@example.com", since)
	if err != nil {
		t.Fatalf("Code: %v", err)
	}
	if code.Reveal() != "33333333" && code.Reveal() != "22222222" {
		t.Fatalf("got a stale code")
	}
	if polls := f.pollCount(); polls < 2 {
		t.Errorf("polls = %d, want the outbox polled until the code arrived", polls)
	}
	// Once both are there, the newest wins.
	code, err = ob.Code(ctx, "a@example.com", since)
	if err != nil || code.Reveal() != "33333333" {
		t.Fatalf("Code = %v, %v; want the newest code", code == "", err)
	}
}

func TestOutboxDeadlineAndCancel(t *testing.T) {
	f := &fakeOutbox{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	ob := &Outbox{Backdoor: &backdoor.Client{BaseURL: srv.URL}}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := ob.Code(ctx, "nobody@example.com", time.Now())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "nobody@example.com") {
		t.Errorf("error %q does not name the user", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v, want soon after the 50ms deadline", d)
	}

	ctx, cancel2 := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel2)
	if _, err := ob.Code(ctx, "nobody@example.com", time.Now()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
}

func TestOutboxErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"backdoor off", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, "HTTP 404"},
		{"not json", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) }, "decode outbox"},
		{"invalid code", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"username":"u","messages":[{"code":"12ab","issued_at":"2099-01-01T00:00:00Z"}]}`))
		}, "not a valid one-time passcode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err := (&Outbox{Backdoor: &backdoor.Client{BaseURL: srv.URL}}).Code(ctx, "u", time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "12ab") {
				t.Errorf("error leaks the code: %v", err)
			}
		})
	}
}

// serveEmulator serves an emulator of cfg on loopback until the test ends,
// with a client of its default tenant.
func serveEmulator(tb testing.TB, cfg backdoor.Config) (*httptest.Server, *nativeauth.Client) {
	tb.Helper()
	emu, err := emulator.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { emu.Close() })
	srv := httptest.NewServer(emu)
	tb.Cleanup(srv.Close)
	return srv, &nativeauth.Client{Tenant: "contoso", ClientID: emulator.DefaultNativeClientID, BaseURL: srv.URL + "/contoso.onmicrosoft.com", HTTPClient: srv.Client()}
}

// TestOutboxAgainstEmulator reads codes the real emulator sends: a resend
// replaces the code, and the newest is the one returned.
func TestOutboxAgainstEmulator(t *testing.T) {
	srv, c := serveEmulator(t, emulator.DefaultConfig())
	ob := &Outbox{Backdoor: &backdoor.Client{BaseURL: srv.URL, HTTPClient: srv.Client()}, CodeLength: 8}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	user := "outbox@example.com"
	types := []nativeauth.ChallengeType{nativeauth.ChallengeTypeOOB, nativeauth.ChallengeTypePassword, nativeauth.ChallengeTypeRedirect}
	start, err := c.SignUpStart(ctx, nativeauth.SignUpStartRequest{Username: user, ChallengeTypes: types, Password: "Xy7!kLm9#pQr2", Attributes: nativeauth.Attributes{"displayName": "O"}})
	if err != nil {
		t.Fatal(err)
	}
	ct := start.ContinuationToken
	var codes []nativeauth.Secret
	for range 2 {
		since := time.Now()
		ch, err := c.SignUpChallenge(ctx, nativeauth.ChallengeRequest{ContinuationToken: ct, ChallengeTypes: types})
		if err != nil {
			t.Fatal(err)
		}
		ct = ch.ContinuationToken
		code, err := ob.Code(ctx, user, since)
		if err != nil {
			t.Fatalf("Code: %v", err)
		}
		codes = append(codes, code)
	}
	// The newest code is the one the API takes.
	if _, err := c.SignUpContinue(ctx, nativeauth.SignUpContinueRequest{ContinuationToken: ct, GrantType: nativeauth.GrantTypeOOB, OOB: codes[1]}); err != nil {
		t.Fatalf("continue with the newest code: %v", err)
	}

	// A user with no code yet: the wait ends at the deadline.
	short, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	if _, err := ob.Code(short, "nobody@example.com", time.Now()); err == nil {
		t.Fatal("want a deadline error for a user with no code")
	}
}

// TestOutboxBackdoorDisabled: a target without the backdoor gives a clear
// HTTP error, not an endless wait.
func TestOutboxBackdoorDisabled(t *testing.T) {
	cfg := emulator.DefaultConfig()
	cfg.Backdoor.Disabled = true
	srv, _ := serveEmulator(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := (&Outbox{Backdoor: &backdoor.Client{BaseURL: srv.URL}}).Code(ctx, "a@example.com", time.Now())
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Fatalf("err = %v, want an immediate HTTP 404 error", err)
	}
}

func BenchmarkOutboxCode(b *testing.B) {
	srv, c := serveEmulator(b, emulator.DefaultConfig())
	types := []nativeauth.ChallengeType{nativeauth.ChallengeTypeOOB, nativeauth.ChallengeTypePassword, nativeauth.ChallengeTypeRedirect}
	ctx := context.Background()
	start, err := c.SignUpStart(ctx, nativeauth.SignUpStartRequest{Username: "bench@example.com", ChallengeTypes: types, Password: "Xy7!kLm9#pQr2"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.SignUpChallenge(ctx, nativeauth.ChallengeRequest{ContinuationToken: start.ContinuationToken, ChallengeTypes: types}); err != nil {
		b.Fatal(err)
	}
	ob := &Outbox{Backdoor: &backdoor.Client{BaseURL: srv.URL, HTTPClient: srv.Client()}, CodeLength: 8}
	since := time.Now().Add(-time.Minute)
	b.ResetTimer()
	for b.Loop() {
		if _, err := ob.Code(ctx, "bench@example.com", since); err != nil {
			b.Fatal(err)
		}
	}
}
