package nativeauth

import (
	"net/url"
	"reflect"
	"testing"
)

// TestCallForm: a Call is the typed request's form with the client_id, and
// overrides that set, replace or remove any parameter; Set on a copy leaves
// the original alone.
func TestCallForm(t *testing.T) {
	base := Call{Endpoint: EndpointSignUpChallenge, ClientID: "cid",
		Request: ChallengeRequest{ContinuationToken: "ct", ChallengeTypes: []ChallengeType{ChallengeTypeOOB, ChallengeTypeRedirect}}}
	changed := base
	changed.Set(ParamClientID, "")
	changed.Set(ParamChallengeType, "oob carrier_pigeon")
	changed.Set(ParamGrantType, "magic")
	tests := []struct {
		name string
		call Call
		want url.Values
	}{
		{"typed", base, url.Values{"client_id": {"cid"}, "continuation_token": {"ct"}, "challenge_type": {"oob redirect"}}},
		{"overridden", changed, url.Values{"continuation_token": {"ct"}, "challenge_type": {"oob carrier_pigeon"}, "grant_type": {"magic"}}},
		{"no client", Call{Endpoint: EndpointResetPollCompletion, Request: PollRequest{ContinuationToken: "ct"}}, url.Values{"continuation_token": {"ct"}}},
	}
	for _, tt := range tests {
		if got := tt.call.Form(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Form() = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := changed.Get(ParamChallengeType); got != "oob carrier_pigeon" {
		t.Errorf("Get(challenge_type) = %q", got)
	}
}
