package nativeauth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// formServer answers body to every request and keeps the last form.
func strongAuthServer(t *testing.T, status int, body string) (*Client, *url.Values, *string) {
	t.Helper()
	var got url.Values
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got, path = r.PostForm, r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL, ClientID: "00000000-0000-4000-8000-00000000c1a0", HTTPClient: srv.Client()}, &got, &path
}

func TestStrongAuthForms(t *testing.T) {
	tests := []struct {
		name string
		req  interface{ Form() url.Values }
		want url.Values
	}{
		{"introspect", IntrospectRequest{ContinuationToken: "ct"}, url.Values{"continuation_token": {"ct"}}},
		{"mfa challenge without challenge_type (page, Android)", MFAChallengeRequest{ContinuationToken: "ct", ID: "m1"},
			url.Values{"continuation_token": {"ct"}, "id": {"m1"}}},
		{"mfa challenge with challenge_type (JS)", MFAChallengeRequest{ContinuationToken: "ct", ID: "m1",
			ChallengeTypes: []ChallengeType{ChallengeTypeOOB, ChallengeTypeRedirect}},
			url.Values{"continuation_token": {"ct"}, "id": {"m1"}, "challenge_type": {"oob redirect"}}},
		{"register challenge", RegisterChallengeRequest{ContinuationToken: "ct", ChallengeType: ChallengeTypeOOB,
			ChallengeChannel: ChallengeChannelSMS, ChallengeTarget: "+15550100"},
			url.Values{"continuation_token": {"ct"}, "challenge_type": {"oob"}, "challenge_channel": {"sms"}, "challenge_target": {"+15550100"}}},
		{"register continue oob", RegisterContinueRequest{ContinuationToken: "ct", GrantType: GrantTypeOOB, OOB: "1234"},
			url.Values{"continuation_token": {"ct"}, "grant_type": {"oob"}, "oob": {"1234"}}},
		{"register continue preverified", RegisterContinueRequest{ContinuationToken: "ct", GrantType: GrantTypeContinuationToken},
			url.Values{"continuation_token": {"ct"}, "grant_type": {"continuation_token"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.req.Form(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("form: want %v, got %v", tt.want, got)
			}
		})
	}
}

func TestCapabilitiesSentOnTheThreeStarts(t *testing.T) {
	caps := []Capability{CapabilityMFARequired, CapabilityRegistrationRequired}
	c, form, _ := strongAuthServer(t, 200, `{"continuation_token":"c"}`)
	ctx := t.Context()
	calls := map[string]func() error{
		"initiate": func() error {
			_, err := c.SignInInitiate(ctx, InitiateRequest{Username: "u@contoso.com", Capabilities: caps})
			return err
		},
		"signup start": func() error {
			_, err := c.SignUpStart(ctx, SignUpStartRequest{Username: "u@contoso.com", Capabilities: caps})
			return err
		},
		"reset start": func() error {
			_, err := c.ResetStart(ctx, ResetStartRequest{Username: "u@contoso.com", Capabilities: caps})
			return err
		},
	}
	for name, call := range calls {
		if err := call(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := form.Get("capabilities"); got != "mfa_required registration_required" {
			t.Errorf("%s: capabilities: want %q, got %q", name, "mfa_required registration_required", got)
		}
	}
	if _, err := c.SignInInitiate(ctx, InitiateRequest{Username: "u@contoso.com"}); err != nil {
		t.Fatal(err)
	}
	if _, sent := (*form)["capabilities"]; sent {
		t.Errorf("capabilities sent though none configured")
	}
}

func TestSignInIntrospectDecodes(t *testing.T) {
	body := `{"continuation_token":"c2","methods":[{"id":"0a0a","challenge_type":"oob","challenge_channel":"email","login_hint":"c***r@co**o**o.com"},{"id":"1b1b","challenge_type":"oob","challenge_channel":"sms","login_hint":"+1********6"}]}`
	c, form, path := strongAuthServer(t, 200, body)
	res, err := c.SignInIntrospect(t.Context(), IntrospectRequest{ContinuationToken: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if *path != string(EndpointSignInIntrospect) || form.Get("continuation_token") != "c1" || form.Get("client_id") == "" {
		t.Errorf("request: path %s form %v", *path, *form)
	}
	want := []StrongMethod{
		{ID: "0a0a", ChallengeType: ChallengeTypeOOB, ChallengeChannel: ChallengeChannelEmail, LoginHint: "c***r@co**o**o.com"},
		{ID: "1b1b", ChallengeType: ChallengeTypeOOB, ChallengeChannel: ChallengeChannelSMS, LoginHint: "+1********6"},
	}
	if res.ContinuationToken != "c2" || !reflect.DeepEqual(res.Methods, want) {
		t.Errorf("methods: want %+v, got %+v (token %q)", want, res.Methods, res.ContinuationToken.Reveal())
	}
}

func TestStrongAuthDecodeRejects(t *testing.T) {
	tests := []struct {
		name, body, member string
		call               func(c *Client, t *testing.T) (any, error)
	}{
		{"introspect without methods", `{"continuation_token":"c"}`, "methods", introspectCall},
		{"introspect with empty methods", `{"continuation_token":"c","methods":[]}`, "methods", introspectCall},
		{"introspect method without id", `{"continuation_token":"c","methods":[{"challenge_type":"oob","challenge_channel":"email"}]}`, "methods[0].id", introspectCall},
		{"introspect method without channel", `{"continuation_token":"c","methods":[{"id":"email","challenge_type":"oob"}]}`, "methods[0].challenge_channel", introspectCall},
		{"register oob without challenge_target", `{"continuation_token":"c","challenge_type":"oob","binding_method":"prompt","challenge_channel":"email","code_length":8}`, "challenge_target", registerCall},
		{"register oob without code_length", `{"continuation_token":"c","challenge_type":"oob","binding_method":"prompt","challenge_channel":"email","challenge_target":"u@contoso.com"}`, "code_length", registerCall},
		{"register preverified without token", `{"challenge_type":"preverified"}`, "continuation_token", registerCall},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := strongAuthServer(t, 200, tt.body)
			res, err := tt.call(c, t)
			var pe *ProtocolError
			if res != nil || !errors.As(err, &pe) || !strings.Contains(pe.Reason, `"`+tt.member+`"`) {
				t.Fatalf("want ProtocolError naming %q, got %v, %v", tt.member, res, err)
			}
		})
	}
}

func introspectCall(c *Client, t *testing.T) (any, error) {
	return nilIfErr(c.SignInIntrospect(t.Context(), IntrospectRequest{ContinuationToken: "c"}))
}

func registerCall(c *Client, t *testing.T) (any, error) {
	return nilIfErr(c.RegisterChallenge(t.Context(), RegisterChallengeRequest{ContinuationToken: "c", ChallengeType: ChallengeTypeOOB}))
}

func TestRegisterChallengePreverified(t *testing.T) {
	c, _, _ := strongAuthServer(t, 200, `{"continuation_token":"c2","challenge_type":"preverified"}`)
	res, err := c.RegisterChallenge(t.Context(), RegisterChallengeRequest{ContinuationToken: "c", ChallengeType: ChallengeTypeOOB,
		ChallengeChannel: ChallengeChannelEmail, ChallengeTarget: "u@contoso.com"})
	if err != nil {
		t.Fatal(err)
	}
	if res.ChallengeType != ChallengeTypePreverified || res.ContinuationToken != "c2" || res.CodeLength != 0 {
		t.Errorf("want preverified with token c2, got %+v", res)
	}
}

func TestTokenRedirectWithReason(t *testing.T) {
	c, _, _ := strongAuthServer(t, 200, `{"challenge_type":"redirect","redirect_reason":"Client is missing registration_required capability"}`)
	res, err := c.Token(t.Context(), TokenRequest{GrantType: GrantTypePassword, ContinuationToken: "c", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsRedirect() || res.Redirect.Reason != "Client is missing registration_required capability" || res.AccessToken != "" {
		t.Errorf("want redirect with reason, got %+v", res)
	}
}

func TestMFARequiredCarriesContinuationToken(t *testing.T) {
	c, _, _ := strongAuthServer(t, 400, `{"error":"invalid_grant","suberror":"mfa_required","error_codes":[50076],"continuation_token":"c2"}`)
	_, err := c.Token(t.Context(), TokenRequest{GrantType: GrantTypePassword, ContinuationToken: "c", Password: "pw"})
	e, ok := AsError(err)
	if !ok || !IsError(err, ErrInvalidGrant, SuberrorMFARequired) || e.ContinuationToken != "c2" {
		t.Fatalf("want invalid_grant/mfa_required with continuation token, got %v", err)
	}
	if strings.Contains(err.Error(), "c2\"") {
		t.Errorf("error text shows the continuation token: %s", err)
	}
}
