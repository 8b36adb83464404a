package nativeauth

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sync"
	"testing"
)

// captured is one request as the server saw it.
type captured struct {
	method, path, contentType, accept, requestID string
	rawBody                                      string
	form                                         url.Values
}

// formServer records every request and answers each endpoint with a valid
// success body, so any method can complete.
func formServer(t *testing.T) (*httptest.Server, func() captured) {
	t.Helper()
	var mu sync.Mutex
	var last captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			t.Errorf("request body is not a form: %v", err)
		}
		mu.Lock()
		last = captured{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Accept"), r.Header.Get("client-request-id"), string(raw), form}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		var body string
		switch Endpoint(r.URL.Path[len("/contoso.onmicrosoft.com"):]) {
		case EndpointSignUpChallenge, EndpointSignInChallenge, EndpointResetChallenge:
			body = `{"challenge_type":"oob","continuation_token":"ct2","binding_method":"prompt","challenge_channel":"email","challenge_target_label":"u***@c***.com","code_length":8,"interval":300}`
		case EndpointToken:
			body = `{"token_type":"Bearer","scope":"openid","expires_in":3600,"ext_expires_in":3600,"access_token":"at","refresh_token":"rt","id_token":"it","client_info":"ci"}`
		case EndpointResetContinue:
			body = `{"continuation_token":"ct2","expires_in":600}`
		case EndpointResetSubmit:
			body = `{"continuation_token":"ct2","poll_interval":2}`
		case EndpointResetPollCompletion:
			body = `{"status":"in_progress"}`
		default:
			body = `{"continuation_token":"ct2"}`
		}
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() captured { mu.Lock(); defer mu.Unlock(); return last }
}

func TestRequestForms(t *testing.T) {
	const cid = "111101-14a6-abcd-97bc-abcd1110011"
	oobPwRedirect := []ChallengeType{ChallengeTypeOOB, ChallengeTypePassword, ChallengeTypeRedirect}
	tests := []struct {
		name string
		call func(context.Context, *Client) error
		ep   Endpoint
		want url.Values
	}{
		{"signup start minimal", calling((*Client).SignUpStart, SignUpStartRequest{Username: "contoso-consumer@contoso.com", ChallengeTypes: oobPwRedirect}),
			EndpointSignUpStart, url.Values{"client_id": {cid}, "username": {"contoso-consumer@contoso.com"}, "challenge_type": {"oob password redirect"}}},
		{"signup start with password and attributes", calling((*Client).SignUpStart, SignUpStartRequest{Username: "u@contoso.com", ChallengeTypes: oobPwRedirect, Password: "S3cret!pw",
			Attributes: Attributes{"name": "Ann", "extension_2588abcdwhtfeehjjeeqwertc_age": "30"}}),
			EndpointSignUpStart, url.Values{"client_id": {cid}, "username": {"u@contoso.com"}, "challenge_type": {"oob password redirect"},
				"password": {"S3cret!pw"}, "attributes": {`{"extension_2588abcdwhtfeehjjeeqwertc_age":"30","name":"Ann"}`}}},
		{"signup challenge", calling((*Client).SignUpChallenge, ChallengeRequest{ContinuationToken: "AQABAAEAAA…", ChallengeTypes: oobPwRedirect}),
			EndpointSignUpChallenge, url.Values{"client_id": {cid}, "continuation_token": {"AQABAAEAAA…"}, "challenge_type": {"oob password redirect"}}},
		{"signup challenge without challenge types", calling((*Client).SignUpChallenge, ChallengeRequest{ContinuationToken: "ct"}),
			EndpointSignUpChallenge, url.Values{"client_id": {cid}, "continuation_token": {"ct"}}},
		{"signup continue oob", calling((*Client).SignUpContinue, SignUpContinueRequest{ContinuationToken: "ct", GrantType: GrantTypeOOB, OOB: "12345678"}),
			EndpointSignUpContinue, url.Values{"client_id": {cid}, "continuation_token": {"ct"}, "grant_type": {"oob"}, "oob": {"12345678"}}},
		{"signup continue password", calling((*Client).SignUpContinue, SignUpContinueRequest{ContinuationToken: "ct", GrantType: GrantTypePassword, Password: "p w&="}),
			EndpointSignUpContinue, url.Values{"client_id": {cid}, "continuation_token": {"ct"}, "grant_type": {"password"}, "password": {"p w&="}}},
		{"signup continue attributes", calling((*Client).SignUpContinue, SignUpContinueRequest{ContinuationToken: "ct", GrantType: GrantTypeAttributes, Attributes: Attributes{"city": `Zürich "HB"`}}),
			EndpointSignUpContinue, url.Values{"client_id": {cid}, "continuation_token": {"ct"}, "grant_type": {"attributes"}, "attributes": {`{"city":"Zürich \"HB\""}`}}},
		{"initiate", calling((*Client).SignInInitiate, InitiateRequest{Username: "u@contoso.com", ChallengeTypes: []ChallengeType{ChallengeTypePassword, ChallengeTypeRedirect}}),
			EndpointSignInInitiate, url.Values{"client_id": {cid}, "username": {"u@contoso.com"}, "challenge_type": {"password redirect"}}},
		{"signin challenge", calling((*Client).SignInChallenge, ChallengeRequest{ContinuationToken: "ct", ChallengeTypes: []ChallengeType{ChallengeTypeOOB, "", ChallengeTypeRedirect}}),
			EndpointSignInChallenge, url.Values{"client_id": {cid}, "continuation_token": {"ct"}, "challenge_type": {"oob redirect"}}},
		{"token continuation_token", calling((*Client).Token, TokenRequest{GrantType: GrantTypeContinuationToken, ContinuationToken: "ct", Username: "u@contoso.com", Scopes: []string{ScopeOpenID, ScopeOfflineAccess}}),
			EndpointToken, url.Values{"client_id": {cid}, "grant_type": {"continuation_token"}, "continuation_token": {"ct"}, "username": {"u@contoso.com"}, "scope": {"openid offline_access"}}},
		{"token password", calling((*Client).Token, TokenRequest{GrantType: GrantTypePassword, ContinuationToken: "ct", Password: "pw", Scopes: []string{ScopeOpenID, ScopeOfflineAccess}}),
			EndpointToken, url.Values{"client_id": {cid}, "grant_type": {"password"}, "continuation_token": {"ct"}, "password": {"pw"}, "scope": {"openid offline_access"}}},
		{"token oob with client_info", calling((*Client).Token, TokenRequest{GrantType: GrantTypeOOB, ContinuationToken: "ct", OOB: "1234", Scopes: []string{ScopeOpenID}, ClientInfo: true}),
			EndpointToken, url.Values{"client_id": {cid}, "grant_type": {"oob"}, "continuation_token": {"ct"}, "oob": {"1234"}, "scope": {"openid"}, "client_info": {"1"}}},
		{"token refresh_token", calling((*Client).Token, TokenRequest{GrantType: GrantTypeRefreshToken, RefreshToken: "rt", Scopes: []string{ScopeOpenID}}),
			EndpointToken, url.Values{"client_id": {cid}, "grant_type": {"refresh_token"}, "refresh_token": {"rt"}, "scope": {"openid"}}},
		{"reset start", calling((*Client).ResetStart, ResetStartRequest{Username: "u@contoso.com", ChallengeTypes: []ChallengeType{ChallengeTypeOOB, ChallengeTypeRedirect}}),
			EndpointResetStart, url.Values{"client_id": {cid}, "username": {"u@contoso.com"}, "challenge_type": {"oob redirect"}}},
		{"reset challenge", calling((*Client).ResetChallenge, ChallengeRequest{ContinuationToken: "ct", ChallengeTypes: []ChallengeType{ChallengeTypeOOB, ChallengeTypeRedirect}}),
			EndpointResetChallenge, url.Values{"client_id": {cid}, "continuation_token": {"ct"}, "challenge_type": {"oob redirect"}}},
		{"reset continue", calling((*Client).ResetContinue, ResetContinueRequest{ContinuationToken: "ct", OOB: "1234"}),
			EndpointResetContinue, url.Values{"client_id": {cid}, "continuation_token": {"ct"}, "grant_type": {"oob"}, "oob": {"1234"}}},
		{"reset submit", calling((*Client).ResetSubmit, ResetSubmitRequest{ContinuationToken: "ct", NewPassword: "n3w!"}),
			EndpointResetSubmit, url.Values{"client_id": {cid}, "continuation_token": {"ct"}, "new_password": {"n3w!"}}},
		{"reset poll", calling((*Client).ResetPollCompletion, PollRequest{ContinuationToken: "ct"}),
			EndpointResetPollCompletion, url.Values{"client_id": {cid}, "continuation_token": {"ct"}}},
	}
	srv, last := formServer(t)
	c := testClient(srv)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := WithClientRequestID(t.Context(), "req-"+tt.name)
			if err := tt.call(ctx, c); err != nil {
				t.Fatal(err)
			}
			got := last()
			if got.method != http.MethodPost || got.path != "/contoso.onmicrosoft.com"+string(tt.ep) {
				t.Errorf("sent %s %s, want POST %s", got.method, got.path, tt.ep)
			}
			if got.contentType != "application/x-www-form-urlencoded" || got.accept != "application/json" {
				t.Errorf("headers Content-Type %q Accept %q", got.contentType, got.accept)
			}
			if got.requestID != "req-"+tt.name {
				t.Errorf("client-request-id %q", got.requestID)
			}
			if !reflect.DeepEqual(got.form, tt.want) {
				t.Errorf("form\n got %v\nwant %v", got.form, tt.want)
			}
			// attributes must be a JSON object string, as the pages show.
			if a := got.form.Get("attributes"); a != "" {
				var m map[string]string
				if err := json.Unmarshal([]byte(a), &m); err != nil {
					t.Errorf("attributes %q is not a JSON object: %v", a, err)
				}
			}
		})
	}
}

// calling binds a typed method to one request, for a table of calls.
func calling[R, T any](method func(*Client, context.Context, R) (T, error), req R) func(context.Context, *Client) error {
	return func(ctx context.Context, c *Client) error {
		_, err := method(c, ctx, req)
		return err
	}
}

func TestSuccessFieldsDecoded(t *testing.T) {
	srv, _ := formServer(t)
	c := testClient(srv)
	ctx := t.Context()
	tok, err := c.Token(ctx, TokenRequest{GrantType: GrantTypeRefreshToken, RefreshToken: "rt"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.ExtExpiresIn != 3600 || tok.ClientInfo != "ci" || tok.IDToken.Reveal() != "it" || tok.Response.HTTPStatus != 200 {
		t.Errorf("token result %+v", tok)
	}
	rc, err := c.ResetContinue(ctx, ResetContinueRequest{ContinuationToken: "ct", OOB: "1"})
	if err != nil || rc.ExpiresIn != 600 || rc.ContinuationToken.Reveal() != "ct2" {
		t.Errorf("reset continue %+v %v", rc, err)
	}
	// in_progress carries no continuation token; that is not an error.
	pr, err := c.ResetPollCompletion(ctx, PollRequest{ContinuationToken: "ct"})
	if err != nil || pr.Status != PollStatusInProgress || pr.ContinuationToken != "" {
		t.Errorf("poll %+v %v", pr, err)
	}
}

func TestEndpointURL(t *testing.T) {
	tests := []struct {
		c    Client
		want string
	}{
		{Client{Tenant: "contoso"}, "https://contoso.ciamlogin.com/contoso.onmicrosoft.com/oauth2/v2.0/token"},
		{Client{Tenant: "contoso", BaseURL: "http://127.0.0.1:8080/t/"}, "http://127.0.0.1:8080/t/oauth2/v2.0/token"},
		{Client{BaseURL: "http://127.0.0.1:8080"}, "http://127.0.0.1:8080/oauth2/v2.0/token"},
	}
	for _, tt := range tests {
		if got := tt.c.EndpointURL(EndpointToken); got != tt.want {
			t.Errorf("EndpointURL = %q, want %q", got, tt.want)
		}
	}
}

func TestConfigurationErrors(t *testing.T) {
	if _, err := (&Client{ClientID: "x"}).Do(t.Context(), EndpointToken, nil); err == nil {
		t.Error("Do without BaseURL and Tenant succeeded")
	}
	srv, _ := formServer(t)
	c := testClient(srv)
	c.ClientID = ""
	if r, err := c.SignInInitiate(t.Context(), InitiateRequest{Username: "u"}); err == nil || r != nil {
		t.Errorf("initiate without ClientID: %v %v", r, err)
	}
}

// TestDoSendsFormVerbatim: Do adds nothing, so a check can omit client_id.
func TestDoSendsFormVerbatim(t *testing.T) {
	srv, last := formServer(t)
	form := url.Values{"challenge_type": {"oob"}, "username": {"u@contoso.com"}}
	resp, err := testClient(srv).Do(t.Context(), EndpointSignInInitiate, form)
	if err != nil {
		t.Fatal(err)
	}
	if got := last().form; !reflect.DeepEqual(got, form) {
		t.Errorf("Do sent %v, want %v", got, form)
	}
	if resp.HTTPStatus != 200 || string(resp.Body) != `{"continuation_token":"ct2"}` || resp.Endpoint != EndpointSignInInitiate {
		t.Errorf("Do response %d %q", resp.HTTPStatus, resp.Body)
	}
}
