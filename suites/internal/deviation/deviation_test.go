package deviation

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func fixed(status int, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

func serve(h http.Handler, path string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRewrites(t *testing.T) {
	tests := []struct {
		name       string
		mw         Middleware
		path       string
		status     int
		body       string
		wantStatus int
		wantBody   string // substring
		notInBody  string
		wantHeader string
	}{
		{"suberror dropped", MissingSuberror, "/signup/v1.0/start", 400, `{"error":"invalid_client","suberror":"nativeauthapi_disabled"}`, 400, `"invalid_client"`, "suberror", ""},
		{"suberror absent untouched", MissingSuberror, "/x", 400, `{"error":"invalid_request"}`, 400, `invalid_request`, "", ""},
		{"invalid_client → 401", WrongStatus, "/x", 400, `{"error":"invalid_client"}`, 401, `invalid_client`, "", ""},
		{"other errors keep status", WrongStatus, "/x", 400, `{"error":"invalid_grant"}`, 400, `invalid_grant`, "", ""},
		{"cors header", CORS, "/oauth2/v2.0/token", 200, `{}`, 200, `{}`, "", "*"},
		{"ct dropped on start", MissingContinuationToken, "/t/signup/v1.0/start", 200, `{"continuation_token":"abc"}`, 200, `{}`, "continuation_token", ""},
		{"ct kept elsewhere", MissingContinuationToken, "/t/oauth2/v2.0/initiate", 200, `{"continuation_token":"abc"}`, 200, `abc`, "", ""},
		{"refresh token added", RefreshTokenAlways, "/t/oauth2/v2.0/token", 200, `{"access_token":"a"}`, 200, `"refresh_token"`, "", ""},
		{"refresh token kept", RefreshTokenAlways, "/t/oauth2/v2.0/token", 200, `{"refresh_token":"r"}`, 200, `"r"`, "unasked", ""},
		{"refresh token not on errors", RefreshTokenAlways, "/t/oauth2/v2.0/token", 400, `{"error":"invalid_grant"}`, 400, `invalid_grant`, "refresh_token", ""},
		{"non-json passes", MissingSuberror, "/x", 200, `<html>`, 200, `<html>`, "", ""},
	}
	for _, tt := range tests {
		rec := serve(tt.mw(fixed(tt.status, tt.body)), tt.path, url.Values{})
		if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) ||
			(tt.notInBody != "" && strings.Contains(rec.Body.String(), tt.notInBody)) ||
			rec.Header().Get("Access-Control-Allow-Origin") != tt.wantHeader {
			t.Errorf("%s: %d %q headers %v", tt.name, rec.Code, rec.Body.String(), rec.Header())
		}
	}
}

func TestBadSignature(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	jws, _ := signer.Sign([]byte(`{"sub":"u"}`))
	tok, _ := jws.CompactSerialize()
	body, _ := json.Marshal(map[string]string{"id_token": tok, "token_type": "Bearer"})
	rec := serve(BadSignature()(fixed(200, string(body))), "/oauth2/v2.0/token", url.Values{})
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["id_token"] == tok {
		t.Fatal("id_token not re-signed")
	}
	parsed, err := jose.ParseSigned(got["id_token"], []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Signatures[0].Header.KeyID != "k1" {
		t.Errorf("kid = %q, want k1 kept", parsed.Signatures[0].Header.KeyID)
	}
	if _, err := parsed.Verify(&key.PublicKey); err == nil {
		t.Error("re-signed token still verifies with the tenant's key")
	}
	if string(parsed.UnsafePayloadWithoutVerification()) != `{"sub":"u"}` {
		t.Errorf("payload changed: %s", parsed.UnsafePayloadWithoutVerification())
	}
}

func TestWrongOTPAccepted(t *testing.T) {
	var seen []string
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		seen = append(seen, r.PostForm.Get("oob"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"continuation_token":"ct-`+r.URL.Path+`"}`)
	})
	codeFor := func(_ http.Handler, user string) (string, bool) { return "right-" + user, true }
	h := WrongOTPAccepted(codeFor)(inner)
	serve(h, "/start", url.Values{"username": {"a@x.test"}})
	serve(h, "/continue", url.Values{"continuation_token": {"ct-/start"}, "oob": {"wrong"}})
	if len(seen) != 2 || seen[1] != "right-a@x.test" {
		t.Errorf("inner handler saw oob %q, want the right code", seen)
	}
	serve(h, "/continue", url.Values{"continuation_token": {"unknown"}, "oob": {"wrong"}})
	if seen[2] != "wrong" {
		t.Errorf("unknown flow: oob %q rewritten", seen[2])
	}
}

func TestNames(t *testing.T) {
	if got := strings.Join(Names(), ","); got != "bad-signature,cors,introspect-hint-unmasked,malformed-client-id-unknown,mfa-required-without-token,missing-continuation-token,missing-suberror,refresh-token-always,wrong-otp-accepted,wrong-status" {
		t.Errorf("Names() = %s", got)
	}
}

func TestMalformedClientIDUnknown(t *testing.T) {
	refused := fixed(400, `{"error":"invalid_request"}`)
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"empty", url.Values{"client_id": {""}}, `"unauthorized_client"`},
		{"not a GUID", url.Values{"client_id": {"not-a-client-id"}}, `"unauthorized_client"`},
		{"missing keeps its answer", url.Values{}, `"invalid_request"`},
		{"a GUID keeps its answer", url.Values{"client_id": {"00000000-0000-4000-8000-00000000c1a0"}}, `"invalid_request"`},
	}
	for _, tt := range tests {
		if rec := serve(MalformedClientIDUnknown(refused), "/t/signup/v1.0/start", tt.form); !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("%s: body %s, want %s", tt.name, rec.Body.String(), tt.want)
		}
	}
	if rec := serve(MalformedClientIDUnknown(fixed(200, `{"continuation_token":"c"}`)), "/t/signup/v1.0/start", url.Values{"client_id": {""}}); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"c"`) {
		t.Errorf("a success is untouched: %d %s", rec.Code, rec.Body.String())
	}
}
