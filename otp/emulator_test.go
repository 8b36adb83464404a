package otp_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator"
	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/otp"
)

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
	ob := &otp.Outbox{Backdoor: &backdoor.Client{BaseURL: srv.URL, HTTPClient: srv.Client()}, CodeLength: 8}
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
	_, err := (&otp.Outbox{Backdoor: &backdoor.Client{BaseURL: srv.URL}}).Code(ctx, "a@example.com", time.Now())
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
	ob := &otp.Outbox{Backdoor: &backdoor.Client{BaseURL: srv.URL, HTTPClient: srv.Client()}, CodeLength: 8}
	since := time.Now().Add(-time.Minute)
	b.ResetTimer()
	for b.Loop() {
		if _, err := ob.Code(ctx, "bench@example.com", since); err != nil {
			b.Fatal(err)
		}
	}
}
