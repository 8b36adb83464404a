package nativeauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

// Distinctive secret values, easy to find in any output.
const (
	secPassword = "SECRET-password-91"
	secOTP      = "SECRET-otp-4471"
	secCT       = "SECRET-continuation-7c"
	secAT       = "SECRET-access-a1"
	secRT       = "SECRET-refresh-r2"
	secIT       = "SECRET-id-i3"
)

var allSecrets = []string{secPassword, secOTP, secCT, secAT, secRT, secIT}

func assertNoSecret(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range allSecrets {
		if strings.Contains(out, s) {
			t.Errorf("%s reveals %s: %s", what, s, out)
		}
	}
}

func TestNothingPrintsSecrets(t *testing.T) {
	body := []byte(`{"token_type":"Bearer","access_token":"` + secAT + `","refresh_token":"` + secRT + `","id_token":"` + secIT + `","continuation_token":"` + secCT + `"}`)
	resp := &Response{Endpoint: EndpointToken, HTTPStatus: 200, Body: body}
	values := map[string]any{
		"SignUpStartRequest":    SignUpStartRequest{Username: "u@contoso.com", Password: secPassword, Attributes: Attributes{"city": "Oslo"}},
		"ChallengeRequest":      ChallengeRequest{ContinuationToken: secCT},
		"SignUpContinueRequest": SignUpContinueRequest{ContinuationToken: secCT, GrantType: GrantTypeOOB, OOB: secOTP, Password: secPassword},
		"TokenRequest":          TokenRequest{GrantType: GrantTypePassword, ContinuationToken: secCT, Password: secPassword, OOB: secOTP, RefreshToken: secRT},
		"ResetContinueRequest":  ResetContinueRequest{ContinuationToken: secCT, OOB: secOTP},
		"ResetSubmitRequest":    ResetSubmitRequest{ContinuationToken: secCT, NewPassword: secPassword},
		"PollRequest":           PollRequest{ContinuationToken: secCT},
		"ContinuationResult":    &ContinuationResult{ContinuationToken: secCT, Response: resp},
		"ChallengeResult":       &ChallengeResult{ContinuationToken: secCT, ChallengeType: ChallengeTypeOOB, Response: resp},
		"TokenResult":           &TokenResult{AccessToken: secAT, RefreshToken: secRT, IDToken: secIT, Response: resp},
		"ResetContinueResult":   &ResetContinueResult{ContinuationToken: secCT, Response: resp},
		"ResetSubmitResult":     &ResetSubmitResult{ContinuationToken: secCT, Response: resp},
		"PollResult":            &PollResult{ContinuationToken: secCT, Response: resp},
		"Error":                 &Error{Code: ErrCredentialRequired, ContinuationToken: secCT, Response: resp},
		"ProtocolError":         newProtocolError(resp, "test", nil),
		"Response":              resp,
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
				assertNoSecret(t, verb, fmt.Sprintf(verb, v))
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("json: %v", err)
			}
			assertNoSecret(t, "json", string(b))
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
			slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
			assertNoSecret(t, "slog", buf.String())
			if err, ok := v.(error); ok {
				assertNoSecret(t, "Error()", err.Error())
			}
		})
	}
}

// TestLogValueKeepsUsefulFields: redaction must not blank the whole value.
func TestLogValueKeepsUsefulFields(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "req", TokenRequest{GrantType: GrantTypePassword, Password: secPassword, Scopes: []string{"openid"}})
	out := buf.String()
	for _, want := range []string{`"GrantType":"password"`, `"Password":"[redacted]"`, `"openid"`} {
		if !strings.Contains(out, want) {
			t.Errorf("slog output %s lacks %s", out, want)
		}
	}
}

func TestProtocolErrorRedactsBody(t *testing.T) {
	bodies := []string{
		`{"error":"x",,"continuation_token":"` + secCT + `"}`,
		`{"access_token" : "` + secAT + `", "refresh_token":"` + secRT + `", "id_token":"` + secIT + `", bad`,
		`{"continuation_token":"` + secCT, // truncated inside the value
		`<html>password=` + secPassword + `&oob=` + secOTP + `</html>`,
		strings.Repeat(" ", snippetMax-20) + `{"continuation_token":"` + secCT + `"}`,
	}
	for _, b := range bodies {
		pe := newProtocolError(&Response{Endpoint: EndpointToken, HTTPStatus: 200, Body: []byte(b)}, "invalid JSON", errors.New("boom"))
		assertNoSecret(t, "ProtocolError", pe.Error())
		assertNoSecret(t, "Snippet", pe.Snippet)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"continuation_token":"abc"}`, `{"continuation_token":"[redacted]"}`},
		{`{"Continuation_Token" : "a\"b"}`, `{"Continuation_Token" : "[redacted]"}`},
		{`{"password":12345}`, `{"password":"[redacted]"}`},
		{`{"oob":"1234","code_length":8,"error_codes":[1]}`, `{"oob":"[redacted]","code_length":8,"error_codes":[1]}`},
		{`{"suberror":"password_too_weak"}`, `{"suberror":"password_too_weak"}`},
		{`{"new_password":"x","username":"u"}`, `{"new_password":"[redacted]","username":"u"}`},
		{`client_id=c&password=p%20w&new_password=n&oob=1&scope=openid`, `client_id=c&password=[redacted]&new_password=[redacted]&oob=[redacted]&scope=openid`},
		{`{"id_token":"abc`, `{"id_token":"[redacted]"`},
		{`plain text`, `plain text`},
		// encoding/json decodes an escaped member name to the same member,
		// so the escape must not hide the value.
		{`{"continuation\u005ftoken":"abc"}`, `{"continuation\u005ftoken":"[redacted]"}`},
		{`{"\u0050ASSWORD":"abc","n":1}`, `{"\u0050ASSWORD":"[redacted]","n":1}`},
		{`{"password":["a","b]"],"n":1}`, `{"password":"[redacted]","n":1}`},
		{`{"error_codes":[1,2],"oob":[1`, `{"error_codes":[1,2],"oob":"[redacted]"`},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactForm(t *testing.T) {
	in := url.Values{"client_id": {"c"}, "password": {secPassword}, "oob": {secOTP}, "continuation_token": {secCT}}
	got := RedactForm(in)
	assertNoSecret(t, "RedactForm", got.Encode())
	if got.Get("client_id") != "c" || got.Get("password") != "[redacted]" {
		t.Errorf("RedactForm = %v", got)
	}
	if in.Get("password") != secPassword {
		t.Error("RedactForm modified its input")
	}
}

func TestSnippetBounded(t *testing.T) {
	s := Snippet(bytes.Repeat([]byte("é"), 10_000))
	if n := len([]rune(s)); n > snippetMax+1 {
		t.Errorf("snippet has %d runes", n)
	}
	if s := Snippet([]byte{0xff, 'a'}); !strings.Contains(s, "a") || !strings.Contains(s, "\uFFFD") {
		t.Errorf("invalid UTF-8 snippet %q", s)
	}
}

func TestErrorMatching(t *testing.T) {
	e := &Error{HTTPStatus: 400, Code: ErrInvalidGrant, Suberror: SuberrorInvalidOOBValue, ErrorCodes: []int{50181}, TraceID: "t-1",
		ContinuationToken: secCT, Response: &Response{Endpoint: EndpointSignUpContinue}}
	wrapped := fmt.Errorf("step signup.continue: %w", e)
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"IsError code", IsError(wrapped, ErrInvalidGrant), true},
		{"IsError code+sub", IsError(wrapped, ErrInvalidGrant, SuberrorInvalidOOBValue), true},
		{"IsError one of subs", IsError(wrapped, ErrInvalidGrant, SuberrorPasswordTooWeak, SuberrorInvalidOOBValue), true},
		{"IsError other sub", IsError(wrapped, ErrInvalidGrant, SuberrorPasswordTooWeak), false},
		{"IsError other code", IsError(wrapped, ErrExpiredToken), false},
		{"IsError plain error", IsError(errors.New("x"), ErrInvalidGrant), false},
		{"IsError nil", IsError(nil, ErrInvalidGrant), false},
		{"errors.Is code", errors.Is(wrapped, &Error{Code: ErrInvalidGrant}), true},
		{"errors.Is sub", errors.Is(wrapped, &Error{Suberror: SuberrorInvalidOOBValue}), true},
		{"errors.Is status", errors.Is(wrapped, &Error{HTTPStatus: 400, Code: ErrInvalidGrant}), true},
		{"errors.Is wrong status", errors.Is(wrapped, &Error{HTTPStatus: 401}), false},
		{"errors.Is wrong code", errors.Is(wrapped, &Error{Code: ErrUserNotFound}), false},
		{"HasErrorCode", e.HasErrorCode(50181), true},
		{"HasErrorCode other", e.HasErrorCode(55103), false},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	const want = "nativeauth: /signup/v1.0/continue: HTTP 400 invalid_grant (suberror invalid_oob_value) codes [50181] trace t-1"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}
