package conformance

import (
	"context"

	"github.com/google/uuid"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/scenarios"
)

// Client identity: the client_id the reached call goes out with.

func withoutClientID(_ context.Context, _ *Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	r.Call.ClientID = ""
	return nil, "", nil
}

// unknownClient sends a well-formed client_id (a fresh GUID) no tenant knows.
func unknownClient(_ context.Context, _ *Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	r.Call.ClientID = uuid.NewString()
	return nil, "", nil
}

func disabledClient(_ context.Context, e *Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	if e.Target.Caps.DisabledClientID == "" {
		return skip("the target profile names no client with native authentication disabled")
	}
	r.Call.ClientID = e.Target.Caps.DisabledClientID
	return nil, "", nil
}

func confidentialClient(_ context.Context, e *Env, r *scenarios.Reached) (*nativeauth.Response, string, error) {
	if e.Target.Caps.ConfidentialClientID == "" {
		return skip("the target profile names no confidential client")
	}
	r.Call.ClientID = e.Target.Caps.ConfidentialClientID
	return nil, "", nil
}
