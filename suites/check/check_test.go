package check

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
)

const (
	guid1   = "b386ad47-23ae-4092-8d0c-6c1a5a5e1000"
	guid2   = "72f57f26-1c2d-4b3a-9f00-aa00bb113fa6"
	errBody = `{"error":"invalid_client","suberror":"nativeauthapi_disabled","error_description":"AADSTS…","error_codes":[500021],"timestamp":"2025-01-02 10:15:00Z","trace_id":"` + guid1 + `","correlation_id":"` + guid2 + `"}`
)

func resp(status int, body string, headers ...string) *nativeauth.Response {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			h.Del(headers[i])
			continue
		}
		h.Set(headers[i], headers[i+1])
	}
	return &nativeauth.Response{HTTPStatus: status, Header: h, Body: []byte(body)}
}

// fields returns the Field of every Failure in err, or nil.
func fields(err error) []string {
	var out []string
	for _, f := range Failures(err) {
		out = append(out, f.Field)
	}
	return out
}

func sameFields(t *testing.T, name string, err error, want []string) {
	t.Helper()
	got := fields(err)
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s: failing fields = %q, want %q (err: %v)", name, got, want, err)
	}
}

func TestEnvelope(t *testing.T) {
	tests := []struct {
		name string
		r    *nativeauth.Response
		want []string
	}{
		{"json object", resp(200, `{"a":1}`), nil},
		{"nil response", nil, []string{"response"}},
		{"5xx", resp(500, `{}`), []string{"status"}},
		{"wrong content type", resp(200, `{}`, "Content-Type", "text/html"), []string{"header Content-Type"}},
		{"no content type", resp(400, `{}`, "Content-Type", ""), []string{"header Content-Type"}},
		{"cors header", resp(200, `{}`, "Access-Control-Allow-Origin", "*"), []string{"header Access-Control-Allow-Origin"}},
		{"not json", resp(200, `<html>`), []string{"body"}},
		{"json array", resp(200, `[]`), []string{"body"}},
		{"json null", resp(200, `null`), []string{"body"}},
		{"trailing data", resp(200, `{}{}`), []string{"body"}},
	}
	for _, tt := range tests {
		_, err := Envelope(tt.r)
		sameFields(t, tt.name, err, tt.want)
	}
}

func TestError(t *testing.T) {
	want := ErrorWant{HTTPStatus: 400, Error: nativeauth.ErrInvalidClient, Suberror: nativeauth.SuberrorNativeAuthAPIDisabled, ErrorCodes: []int{500021}}
	mutate := func(old, new string) string { return strings.Replace(errBody, old, new, 1) }
	tests := []struct {
		name string
		r    *nativeauth.Response
		want ErrorWant
		fail []string
	}{
		{"conforming", resp(400, errBody), want, nil},
		{"wrong status", resp(401, errBody), want, []string{"status"}},
		{"wrong error", resp(400, mutate(`"invalid_client"`, `"invalid_request"`)), want, []string{"body.error"}},
		{"missing suberror", resp(400, mutate(`"suberror":"nativeauthapi_disabled",`, ``)), want, []string{"body.suberror"}},
		{"suberror not documented: any accepted", resp(400, errBody), ErrorWant{HTTPStatus: 400, Error: nativeauth.ErrInvalidClient}, nil},
		{"normative code missing", resp(400, mutate(`[500021]`, `[1]`)), want, []string{"body.error_codes"}},
		{"extra codes allowed", resp(400, mutate(`[500021]`, `[1,500021]`)), want, nil},
		{"codes not integers", resp(400, mutate(`[500021]`, `["500021"]`)), ErrorWant{Error: nativeauth.ErrInvalidClient}, []string{"body.error_codes[0]"}},
		{"trace_id not a guid", resp(400, mutate(guid1, "b386ad47-...-0000")), want, []string{"body.trace_id"}},
		{"correlation_id missing", resp(400, mutate(`,"correlation_id":"`+guid2+`"`, ``)), want, []string{"body.correlation_id"}},
		{"timestamp garbage", resp(400, mutate(`2025-01-02 10:15:00Z`, `yesterday`)), want, []string{"body.timestamp"}},
		{"timestamp rfc3339", resp(400, mutate(`2025-01-02 10:15:00Z`, `2025-01-02T10:15:00.123Z`)), want, nil},
		{"description missing", resp(400, mutate(`"error_description":"AADSTS…",`, ``)), want, []string{"body.error_description"}},
		{"cors on error", resp(400, errBody, "Access-Control-Allow-Origin", "*"), want, []string{"header Access-Control-Allow-Origin"}},
		{"5xx", resp(503, errBody), want, []string{"status", "status"}},
	}
	for _, tt := range tests {
		_, err := Error(tt.r, tt.want)
		sameFields(t, tt.name, err, tt.fail)
	}
}

func TestSuccessShapes(t *testing.T) {
	const label = "c***r@co**o**o.com"
	oob := `{"interval":300,"continuation_token":"AQAB","challenge_type":"oob","binding_method":"prompt","challenge_channel":"email","challenge_target_label":"` + label + `","code_length":8}`
	tests := []struct {
		name  string
		check func(*nativeauth.Response) (Body, error)
		r     *nativeauth.Response
		fail  []string
	}{
		{"continuation ok", Continuation, resp(200, `{"continuation_token":"AQAB"}`), nil},
		{"continuation missing", Continuation, resp(200, `{}`), []string{"body.continuation_token"}},
		{"continuation empty", Continuation, resp(200, `{"continuation_token":""}`), []string{"body.continuation_token"}},
		{"continuation number", Continuation, resp(200, `{"continuation_token":5}`), []string{"body.continuation_token"}},
		{"redirect is not success", Continuation, resp(200, `{"challenge_type":"redirect"}`), []string{"body.challenge_type", "body.continuation_token"}},
		{"continuation on 400", Continuation, resp(400, `{"continuation_token":"x"}`), []string{"status"}},
		{"redirect ok", Redirect, resp(200, `{"challenge_type":"redirect"}`), nil},
		{"oob ok", func(r *nativeauth.Response) (Body, error) { return OOBChallenge(r, "contoso@contoso.com") }, resp(200, oob), nil},
		{"oob no interval ok", func(r *nativeauth.Response) (Body, error) { return OOBChallenge(r, "") }, resp(200, strings.Replace(oob, `"interval":300,`, ``, 1)), nil},
		{"oob binding", func(r *nativeauth.Response) (Body, error) { return OOBChallenge(r, "") }, resp(200, strings.Replace(oob, `"prompt"`, `"prompt "`, 1)), []string{"body.binding_method"}},
		{"oob channel", func(r *nativeauth.Response) (Body, error) { return OOBChallenge(r, "") }, resp(200, strings.Replace(oob, `"email"`, `"sms"`, 1)), []string{"body.challenge_channel"}},
		{"oob unmasked", func(r *nativeauth.Response) (Body, error) { return OOBChallenge(r, "c@x.com") }, resp(200, strings.Replace(oob, label, "c@x.com", 1)), []string{"body.challenge_target_label"}},
		{"oob code_length string", func(r *nativeauth.Response) (Body, error) { return OOBChallenge(r, "") }, resp(200, strings.Replace(oob, `"code_length":8`, `"code_length":"8"`, 1)), []string{"body.code_length"}},
		{"oob negative interval", func(r *nativeauth.Response) (Body, error) { return OOBChallenge(r, "") }, resp(200, strings.Replace(oob, `300`, `-1`, 1)), []string{"body.interval"}},
		{"password challenge", PasswordChallenge, resp(200, `{"challenge_type":"password","continuation_token":"x"}`), nil},
		{"password challenge got oob", PasswordChallenge, resp(200, oob), []string{"body.challenge_type"}},
		{"reset continue ok", ResetContinue, resp(200, `{"expires_in":600,"continuation_token":"x"}`), nil},
		{"reset continue 601", ResetContinue, resp(200, `{"expires_in":601,"continuation_token":"x"}`), []string{"body.expires_in"}},
		{"reset continue float", ResetContinue, resp(200, `{"expires_in":1.5,"continuation_token":"x"}`), []string{"body.expires_in"}},
		{"reset submit ok", ResetSubmit, resp(200, `{"poll_interval":2,"continuation_token":"x"}`), nil},
		{"reset submit missing poll", ResetSubmit, resp(200, `{"continuation_token":"x"}`), []string{"body.poll_interval"}},
		{"poll succeeded", Poll, resp(200, `{"status":"succeeded","continuation_token":"x"}`), nil},
		{"poll in progress no token", Poll, resp(200, `{"status":"in_progress"}`), nil},
		{"poll succeeded no token", Poll, resp(200, `{"status":"succeeded"}`), []string{"body.continuation_token"}},
		{"poll unknown status", Poll, resp(200, `{"status":"done"}`), []string{"body.status"}},
	}
	for _, tt := range tests {
		_, err := tt.check(tt.r)
		sameFields(t, tt.name, err, tt.fail)
	}
}

func TestAttributeList(t *testing.T) {
	tests := []struct {
		name string
		body string
		fail []string
	}{
		{"page example", `{"required_attributes":[{"name":"name","type":"string","required":true,"options":{"regex":".*@.**$"}},{"name":"age","type":"string","required":true}]}`, nil},
		{"missing", `{}`, []string{"body.required_attributes"}},
		{"not array", `{"required_attributes":{}}`, []string{"body.required_attributes"}},
		{"item not object", `{"required_attributes":["city"]}`, []string{"body.required_attributes[0]"}},
		{"no name", `{"required_attributes":[{"type":"string"}]}`, []string{"body.required_attributes[0].name"}},
		{"required string", `{"required_attributes":[{"name":"a","required":"true"}]}`, []string{"body.required_attributes[0].required"}},
		{"regex number", `{"required_attributes":[{"name":"a","options":{"regex":1}}]}`, []string{"body.required_attributes[0].options.regex"}},
		{"options array", `{"required_attributes":[{"name":"a","options":[]}]}`, []string{"body.required_attributes[0].options"}},
	}
	for _, tt := range tests {
		b, err := Decode([]byte(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		sameFields(t, tt.name, b.AttributeList("required_attributes"), tt.fail)
	}
	b, _ := Decode([]byte(`{"invalid_attributes":[{"name":"city"},{"name":"age"}]}`))
	if got := b.AttributeNames("invalid_attributes"); strings.Join(got, ",") != "city,age" {
		t.Errorf("AttributeNames = %v", got)
	}
}

func TestIn(t *testing.T) {
	_, err := Error(resp(401, errBody), ErrorWant{HTTPStatus: 400, Error: nativeauth.ErrInvalidClient})
	err = In("SU-START-CLIENT-DISABLED", err)
	msg := err.Error()
	if !strings.Contains(msg, "[catalog:SU-START-CLIENT-DISABLED] status: want 400, got 401") {
		t.Errorf("message %q must name the entry and the field", msg)
	}
	if In("X", nil) != nil {
		t.Error("In(nil) must be nil")
	}
}

func TestIsMasked(t *testing.T) {
	tests := []struct {
		label, email string
		want         bool
	}{
		{"c***r@co**o**o.com", "contoso@contoso.com", true},
		{"contoso@contoso.com", "contoso@contoso.com", false},
		{"c***", "", true},
		{"plain", "", false},
	}
	for _, tt := range tests {
		if got := IsMasked(tt.label, tt.email); got != tt.want {
			t.Errorf("IsMasked(%q, %q) = %v, want %v", tt.label, tt.email, got, tt.want)
		}
	}
}

// FuzzDecode: a server body can be anything; Decode and the shape checks
// must never panic on it.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(errBody))
	f.Add([]byte(`{"required_attributes":[{"name":1,"options":{"regex":[]}}],"error_codes":[1.5,"x",null]}`))
	f.Add([]byte(`{"expires_in":1e400}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := Decode(body)
		if err != nil {
			return
		}
		_ = ErrorDiagnostics(b)
		_ = b.AttributeList("required_attributes")
		_ = b.ErrorCodes([]int{55103})
		_ = b.positiveInt("expires_in", 1, 600)
		r := resp(200, string(body))
		_, _ = OOBChallenge(r, "a@b.c")
		_, _ = Poll(r)
		_, _ = Token(r, TokenWant{Scopes: []string{"openid", "offline_access"}})
	})
}

// TestFailuresRedactSecrets: a Failure's Got goes into the run record and
// the JUnit report, so it must not carry a token the evidence redacts.
func TestFailuresRedactSecrets(t *testing.T) {
	const ct = "AQEBsecret-continuation-token"
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl"
	b := Body{"continuation_token": ct, "refresh_token": json.Number("42"), "challenge_type": "oob " + jwt}
	errs := []error{
		b.Absent("continuation_token"),
		b.Equals("continuation_token", "x"),
		b.Field("refresh_token", KindString),
		b.Rule(catalog.Field{Name: "continuation_token", Value: "x"}, ""),
		b.Equals("challenge_type", "redirect"),
	}
	for i, err := range errs {
		if err == nil {
			t.Errorf("check %d passed", i)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, ct) || strings.Contains(msg, "42") || strings.Contains(msg, jwt) {
			t.Errorf("check %d reveals a secret: %s", i, msg)
		}
	}
	if msg := b.Field("refresh_token", KindString).Error(); !strings.Contains(msg, "integer") {
		t.Errorf("a kind mismatch no longer names the kind: %s", msg)
	}
}
