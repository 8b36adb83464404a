package scenarios_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// TestReachEveryEndpoint: on either sign-up method, Reach walks a flow to
// every endpoint and hands back a call the emulator accepts, as it stands;
// the same call without its client_id is refused, so the call is what the
// endpoint judges.
func TestReachEveryEndpoint(t *testing.T) {
	// The 2026-02 revision's endpoints are reached on a tenant that
	// requires MFA (password sign-up); the others on both methods.
	for _, method := range append(nativeauth.SignUpMethods, "mfa") {
		t.Run(string(method), func(t *testing.T) {
			var tenant func(*backdoor.Config)
			endpoints := slices.DeleteFunc(slices.Clone(nativeauth.Endpoints), func(ep nativeauth.Endpoint) bool {
				return slices.Contains(nativeauth.StrongAuthEndpoints, ep)
			})
			switch method {
			case nativeauth.SignUpMethodOTP:
				tenant = otpTenant
			case "mfa":
				tenant, method, endpoints = mfaTenant, nativeauth.SignUpMethodPassword, nativeauth.StrongAuthEndpoints
			}
			w := &scenarios.Walker{Config: newEmulator(t, tenant)}
			w.SignUpMethod = method
			w.Scopes = []string{nativeauth.ScopeOpenID}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for _, ep := range endpoints {
				r, err := w.Reach(ctx, ep)
				if err != nil {
					t.Fatalf("Reach(%s): %v", ep, err)
				}
				if r.Call.Endpoint != ep || r.Username == "" {
					t.Fatalf("Reach(%s) = call to %s for %q", ep, r.Call.Endpoint, r.Username)
				}
				broken := r.Call
				broken.Set(nativeauth.ParamClientID, "")
				resp, err := w.Client.Send(ctx, broken)
				if err != nil || resp.HTTPStatus == http.StatusOK {
					t.Errorf("%s without client_id: %v, status %v", ep, err, status(resp))
				}
				resp, err = w.Client.Send(ctx, r.Call)
				if err != nil || resp.HTTPStatus != http.StatusOK {
					t.Errorf("%s: %v, status %v, body %s", ep, err, status(resp), body(resp))
				}
			}
		})
	}
}

func status(r *nativeauth.Response) int {
	if r == nil {
		return 0
	}
	return r.HTTPStatus
}

func body(r *nativeauth.Response) string {
	if r == nil {
		return ""
	}
	return string(r.Body)
}
