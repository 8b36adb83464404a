package nativeauth

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// decoders are every typed decoding path, by name.
var decoders = map[string]func(*Response) (any, error){
	"continuation":              decoder[ContinuationResult](redirectAllowed),
	"continuation, no redirect": decoder[ContinuationResult](redirectNone),
	"challenge":                 decoder[ChallengeResult](redirectAllowed),
	"token":                     decoder[TokenResult](redirectAllowed),
	"reset continue":            decoder[ResetContinueResult](redirectNone),
	"reset submit":              decoder[ResetSubmitResult](redirectNone),
	"poll":                      decoder[PollResult](redirectNone),
	"introspect":                decoder[IntrospectResult](redirectAllowed),
	"register challenge":        decoder[RegisterChallengeResult](redirectAllowed),
}

func decoder[T any, P answerOf[T]](r redirects) func(*Response) (any, error) {
	return func(resp *Response) (any, error) { return nilIfErr(decodeAnswer[T, P](resp, r)) }
}

// checkDecode runs every decoder on one answer and checks the invariants:
// no panic, result XOR error, *Error only for 4xx/5xx with a code, a result
// only for 200, and error messages never showing a secret value.
func checkDecode(t *testing.T, status int, contentType string, body []byte) {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	for name, dec := range decoders {
		resp := &Response{Endpoint: EndpointToken, HTTPStatus: status, Header: h, Body: body}
		res, err := dec(resp)
		if (res == nil) == (err == nil) {
			t.Fatalf("%s: result %v and error %v", name, res, err)
		}
		if err == nil {
			if status != 200 {
				t.Fatalf("%s: result for HTTP %d", name, status)
			}
			continue
		}
		msg := err.Error()
		var e *Error
		var pe *ProtocolError
		switch {
		case errors.As(err, &e):
			if status < 400 || e.Code == "" || e.Response != resp {
				t.Fatalf("%s: *Error %q for HTTP %d", name, msg, status)
			}
			if e.ContinuationToken != "" && strings.Contains(msg, e.ContinuationToken.Reveal()) {
				t.Fatalf("%s: message shows the continuation token: %s", name, msg)
			}
		case errors.As(err, &pe):
			if pe.Response != resp || pe.Reason == "" {
				t.Fatalf("%s: ProtocolError without response or reason: %s", name, msg)
			}
		default:
			t.Fatalf("%s: error of type %T: %v", name, err, err)
		}
	}
}

func addPageSeeds(f *testing.F, kind string, status int) {
	files, _ := filepath.Glob("testdata/pages/*" + kind + "*.json")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(status, "application/json", b)
	}
}

func FuzzDecodeError(f *testing.F) {
	addPageSeeds(f, "_error_", 400)
	f.Add(429, "application/json; charset=utf-8", []byte(`{"error":"temporarily_unavailable","error_codes":[50196]}`))
	f.Add(500, "text/html", []byte(`<html>oops</html>`))
	f.Add(401, "application/json", []byte(`{"error":5}`))
	f.Add(400, "application/json", []byte(`{"error":"invalid_grant","required_attributes":[{"name":1}]}`))
	f.Add(400, "application/json", []byte(`{"error":"invalid_grant","suberror":"mfa_required","error_codes":[50076],"continuation_token":"CT-SECRET-x9"}`))
	f.Add(400, "application/json", []byte(`{"error":"access_denied","suberror":"provider_blocked_by_rep","error_codes":[550024]}`))
	f.Fuzz(checkDecode)
}

func FuzzDecodeSuccess(f *testing.F) {
	addPageSeeds(f, "_success", 200)
	addPageSeeds(f, "_redirect", 200)
	f.Add(200, "application/json", []byte(`{"continuation_token":"a","expires_in":600,"poll_interval":2,"status":"succeeded","token_type":"Bearer","access_token":"x","challenge_type":"oob"}`))
	f.Add(200, "application/json", []byte(`null`))
	f.Add(302, "", []byte(nil))
	f.Add(200, "application/json;;", []byte(`{}`))
	f.Add(200, "application/json", []byte(`{"continuation_token":"a","methods":[{"id":"m1","challenge_type":"oob","challenge_channel":"sms","login_hint":"+1********6"}]}`))
	f.Add(200, "application/json", []byte(`{"continuation_token":"a","methods":[{"id":""}]}`))
	f.Add(200, "application/json", []byte(`{"continuation_token":"a","methods":{"id":"x"}}`))
	f.Add(200, "application/json", []byte(`{"continuation_token":"a","challenge_type":"preverified"}`))
	f.Add(200, "application/json", []byte(`{"continuation_token":"a","challenge_type":"oob","binding_method":"prompt","challenge_target":"u@contoso.com","challenge_channel":"email","code_length":8}`))
	f.Add(200, "application/json", []byte(`{"challenge_type":"redirect","redirect_reason":"Client is missing registration_required capability"}`))
	f.Fuzz(checkDecode)
}
