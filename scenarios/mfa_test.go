package scenarios_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

func runOnce(t *testing.T, cfg scenarios.Config, flow string, users int) (*recorder, error) {
	t.Helper()
	f, err := scenarios.New(flow, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.(interface {
		Setup(context.Context, int) error
	}).Setup(ctx, users); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	rec := &recorder{}
	return rec, f.Run(ctx, scenarios.Iteration{Seq: 1, Observer: rec})
}

func TestSignInMFAFailsWithoutMFA(t *testing.T) {
	cfg := newEmulator(t, nil) // MFA off: tokens at once
	cfg.Pool = scenarios.NewUserPool()
	_, err := runOnce(t, cfg, scenarios.FlowSignInMFA, 1)
	var se *scenarios.StepError
	if !errors.As(err, &se) || se.Step != scenarios.StepTokenPassword || !errors.Is(err, scenarios.ErrUnexpected) {
		t.Fatalf("want an unexpected answer at token.password, got %v", err)
	}
}

func TestSignInMFAWithoutCapabilitiesIsRedirected(t *testing.T) {
	cfg := newEmulator(t, mfaTenant)
	cfg.Pool = scenarios.NewUserPool()
	f, err := scenarios.New(scenarios.FlowSignInMFA, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.(interface {
		Setup(context.Context, int) error
	}).Setup(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	// The same pool, a flow that advertises no capability.
	cfg.Capabilities = []nativeauth.Capability{}
	f, err = scenarios.New(scenarios.FlowSignInMFA, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	err = f.Run(t.Context(), scenarios.Iteration{Seq: 1, Observer: rec})
	if !errors.Is(err, scenarios.ErrRedirect) || len(rec.steps) != 1 || !rec.steps[0].Redirect || rec.steps[0].Step != scenarios.StepSignInInitiate {
		t.Fatalf("want a redirect at signin.initiate, got %v, steps %v", err, rec.names())
	}
}

func TestSignInRegisterConsumesUsers(t *testing.T) {
	cfg := newEmulator(t, mfaTenant)
	cfg.Pool = scenarios.NewUserPool()
	if _, err := runOnce(t, cfg, scenarios.FlowSignInRegister, 2); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Pool.Total(); got != 1 {
		t.Errorf("pool: want 1 user left (the registered one has a method now), got %d", got)
	}
}
