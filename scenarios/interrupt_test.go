package scenarios_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/otp"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// fakeSignUp is a tenant whose sign-up start and challenge succeed and
// whose continue answers with continueAnswer, for the interruption paths
// the emulator never takes.
func fakeSignUp(t *testing.T, continueAnswer func(n int64) (int, map[string]any)) (scenarios.Config, *atomic.Int64) {
	t.Helper()
	var continues atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, body := http.StatusOK, map[string]any{"continuation_token": "ct"}
		switch {
		case strings.HasSuffix(r.URL.Path, string(nativeauth.EndpointSignUpChallenge)):
			body = map[string]any{"continuation_token": "ct", "challenge_type": "oob", "binding_method": "prompt",
				"challenge_channel": "email", "challenge_target_label": "a***@example.com", "code_length": 8, "interval": 300}
		case strings.HasSuffix(r.URL.Path, string(nativeauth.EndpointSignUpContinue)):
			status, body = continueAnswer(continues.Add(1))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return scenarios.Config{
		Client:   &nativeauth.Client{Tenant: "contoso", ClientID: "c", BaseURL: srv.URL + "/contoso.onmicrosoft.com", HTTPClient: srv.Client()},
		OTP:      otp.SourceFunc(func(context.Context, string, time.Time) (nativeauth.Secret, error) { return "12345678", nil }),
		Users:    &seqUsers{},
		Password: scenarios.PasswordPolicy{MinLength: 8, MaxLength: 256},
	}, &continues
}

func apiError(code nativeauth.ErrorCode, ct string) (int, map[string]any) {
	b := map[string]any{"error": string(code), "error_description": "AADSTS55106: see the docs", "error_codes": []int{55106},
		"timestamp": "2024-01-01 00:00:00Z", "trace_id": "t", "correlation_id": "c"}
	if ct != "" {
		b["continuation_token"] = ct
	}
	return http.StatusBadRequest, b
}

// TestSignUpInterruptionFailures: a documented interruption is a turn of
// the flow only when the flow can take it; otherwise the step fails and is
// not recorded as expected.
func TestSignUpInterruptionFailures(t *testing.T) {
	cases := []struct {
		name   string
		flow   string
		answer func(int64) (int, map[string]any)
		step   scenarios.StepName
		code   nativeauth.ErrorCode
		calls  int64
	}{
		{"attributes_required without a continuation token", scenarios.FlowSignUpPasswordContinue,
			func(int64) (int, map[string]any) { return apiError(nativeauth.ErrAttributesRequired, "") },
			scenarios.StepSignUpContinueOOB, nativeauth.ErrAttributesRequired, 1},
		{"credential_required after the password was sent at start", scenarios.FlowSignUpPassword,
			func(int64) (int, map[string]any) { return apiError(nativeauth.ErrCredentialRequired, "ct") },
			scenarios.StepSignUpContinueOOB, nativeauth.ErrCredentialRequired, 1},
		// The flow sent every attribute it has: asked again, it cannot go on.
		{"attributes_required again after the attributes", scenarios.FlowSignUpPassword,
			func(int64) (int, map[string]any) { return apiError(nativeauth.ErrAttributesRequired, "ct") },
			scenarios.StepSignUpContinueAttributes, nativeauth.ErrAttributesRequired, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, continues := fakeSignUp(t, c.answer)
			f, err := scenarios.New(c.flow, cfg)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = f.Run(ctx, scenarios.Iteration{Observer: rec})
			var se *scenarios.StepError
			if !errors.As(err, &se) || se.Step != c.step {
				t.Fatalf("err = %v, want a failure at %s", err, c.step)
			}
			if n := continues.Load(); n != c.calls {
				t.Errorf("%d continue calls, want %d", n, c.calls)
			}
			last := rec.steps[len(rec.steps)-1]
			if last.Step != c.step || last.Error != c.code || last.Expected || last.Err == nil {
				t.Errorf("last step %s: error %q expected %v err %v; want a failure with %s, not expected", last.Step, last.Error, last.Expected, last.Err, c.code)
			}
		})
	}
}
