package evidence

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const sampleJWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"

func TestRedactForm(t *testing.T) {
	tests := []struct {
		name string
		in   url.Values
		want map[string]string
	}{
		{"nil", nil, nil},
		{"plain fields kept", url.Values{"client_id": {"abc"}, "username": {"u@x.test"}}, map[string]string{"client_id": "abc", "username": "u@x.test"}},
		{"password", url.Values{"password": {"hunter2"}}, map[string]string{"password": Redacted}},
		{"new_password", url.Values{"new_password": {"hunter2"}}, map[string]string{"new_password": Redacted}},
		{"oob", url.Values{"oob": {"12345678"}}, map[string]string{"oob": Redacted}},
		{"continuation_token", url.Values{"continuation_token": {"AQAB"}}, map[string]string{"continuation_token": Redacted}},
		{"refresh_token", url.Values{"refresh_token": {"AwAB"}}, map[string]string{"refresh_token": Redacted}},
		{"case-insensitive name", url.Values{"Password": {"x"}}, map[string]string{"Password": Redacted}},
		{"empty secret stays empty", url.Values{"oob": {""}}, map[string]string{"oob": ""}},
		{"jwt in another field", url.Values{"attributes": {`{"a":"` + sampleJWT + `"}`}}, map[string]string{"attributes": `{"a":"` + Redacted + `"}`}},
		{"repeated", url.Values{"scope": {"openid", "profile"}}, map[string]string{"scope": "openid,profile"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RedactForm(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("RedactForm(%v) = %v, want %v", tt.in, got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("RedactForm(%v)[%q] = %q, want %q", tt.in, k, got[k], v)
				}
			}
		})
	}
}

func TestRedactBody(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      string
		forbidden []string
	}{
		{"empty", "", "", nil},
		{"token answer", `{"token_type":"Bearer","access_token":"` + sampleJWT + `","refresh_token":"AwABsecret","id_token":"` + sampleJWT + `","expires_in":3600}`,
			`{"access_token":"[redacted]","expires_in":3600,"id_token":"[redacted]","refresh_token":"[redacted]","token_type":"Bearer"}`, []string{"AwABsecret", "eyJ"}},
		{"nested continuation token", `{"error":"credential_required","continuation_token":"AQABsecret","required_attributes":[{"name":"city","code":"x"}]}`,
			`{"continuation_token":"[redacted]","error":"credential_required","required_attributes":[{"code":"[redacted]","name":"city"}]}`, []string{"AQABsecret"}},
		{"large numbers kept exact", `{"error_codes":[1003037],"n":12345678901234567890}`, `{"error_codes":[1003037],"n":12345678901234567890}`, nil},
		{"jwt inside description", `{"error_description":"bad token ` + sampleJWT + ` here"}`, `{"error_description":"bad token [redacted] here"}`, []string{"eyJ"}},
		{"not json", "oops " + sampleJWT, "oops " + Redacted, []string{"eyJ"}},
		{"broken json", `{"access_token":"` + sampleJWT, `{"access_token":"` + Redacted, []string{"eyJ"}},
		{"trailing garbage is text", `{"a":1} {"b":2}`, `{"a":1} {"b":2}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RedactBody([]byte(tt.in))
			if got != tt.want {
				t.Errorf("RedactBody(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, f := range tt.forbidden {
				if strings.Contains(got, f) {
					t.Errorf("RedactBody(%q) leaks %q: %q", tt.in, f, got)
				}
			}
		})
	}
}

func TestRedactBodyTruncates(t *testing.T) {
	got := RedactBody([]byte(strings.Repeat("a", maxBody*2)))
	if len(got) > maxBody+32 || !strings.HasSuffix(got, "[truncated]") {
		t.Errorf("RedactBody of %d bytes returned %d bytes ending %q", maxBody*2, len(got), got[len(got)-16:])
	}
}

func TestRelevantHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Date", "today")
	h.Set("access-control-allow-origin", "*")
	got := RelevantHeaders(h)
	if got["Content-Type"] != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", got["Content-Type"])
	}
	if got["Access-Control-Allow-Origin"] != "*" {
		t.Errorf("CORS header not kept: %v", got)
	}
	if _, ok := got["Date"]; ok {
		t.Errorf("Date kept: %v", got)
	}
	if RelevantHeaders(http.Header{"Date": {"x"}}) != nil {
		t.Errorf("want nil for no relevant header")
	}
}

func TestRecorder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("server cannot parse form: %v", err)
		}
		if r.PostForm.Get("password") != "hunter2" {
			t.Errorf("server got password %q: the recorder must pass the body on unchanged", r.PostForm.Get("password"))
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, `{"access_token":"`+sampleJWT+`","token_type":"Bearer"}`)
	}))
	defer srv.Close()

	rec := NewRecorder(srv.Client().Transport)
	client := &http.Client{Transport: rec}
	resp, err := client.PostForm(srv.URL+"/oauth2/v2.0/token?x=1", url.Values{"password": {"hunter2"}, "username": {"u@x.test"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !strings.Contains(string(body), sampleJWT) {
		t.Errorf("caller must see the real body, got %q", body)
	}

	if peek := rec.Peek(); len(peek) != 1 {
		t.Fatalf("Peek() returned %d exchanges, want 1", len(peek))
	}
	got := rec.Take()
	if len(got) != 1 {
		t.Fatalf("Take() returned %d exchanges, want 1", len(got))
	}
	ex := got[0]
	if ex.Method != http.MethodPost || ex.Path != "/oauth2/v2.0/token" || ex.Status != 200 {
		t.Errorf("exchange = %s %s %d", ex.Method, ex.Path, ex.Status)
	}
	if ex.Form["password"] != Redacted || ex.Form["username"] != "u@x.test" || ex.Form["?x"] != "1" {
		t.Errorf("form = %v", ex.Form)
	}
	if strings.Contains(ex.Body, "eyJ") || !strings.Contains(ex.Body, `"token_type":"Bearer"`) {
		t.Errorf("body = %q", ex.Body)
	}
	if ex.Headers["Cache-Control"] != "no-store" {
		t.Errorf("headers = %v", ex.Headers)
	}
	if ex.DurationNS <= 0 {
		t.Errorf("duration = %v, want > 0", ex.DurationNS)
	}
	if again := rec.Take(); len(again) != 0 {
		t.Errorf("second Take() = %d exchanges, want 0", len(again))
	}
}

func TestRecorderTransportError(t *testing.T) {
	rec := NewRecorder(roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, io.ErrUnexpectedEOF
	}))
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/x", strings.NewReader("oob=1234"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := rec.RoundTrip(req); err == nil {
		t.Fatal("want the transport error passed on")
	}
	got := rec.Take()
	if len(got) != 1 || got[0].Status != 0 || got[0].Form["oob"] != Redacted || !strings.Contains(got[0].Body, "transport error") {
		t.Errorf("recorded %+v", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzRedactBody feeds arbitrary server bodies: redaction must never panic
// and never let a JSON secret member's value through.
func FuzzRedactBody(f *testing.F) {
	f.Add([]byte(`{"continuation_token":"AQABsecret"}`))
	f.Add([]byte(`[{"refresh_token":"r"},{"x":["` + sampleJWT + `"]}]`))
	f.Add([]byte("not json at all"))
	f.Add([]byte(`{"a":`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out := RedactBody(body)
		if strings.Contains(out, "eyJ") && jwtPattern.MatchString(out) {
			t.Errorf("JWT left in %q", out)
		}
	})
}

// FuzzRedactForm feeds arbitrary request bodies as a form.
func FuzzRedactForm(f *testing.F) {
	f.Add("password=hunter2&username=a")
	f.Add("oob=1&oob=2&continuation_token=%00")
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		got := RedactForm(form)
		for k, v := range got {
			if IsSecretField(k) && v != "" && v != Redacted {
				t.Errorf("secret field %q kept value %q", k, v)
			}
		}
	})
}
