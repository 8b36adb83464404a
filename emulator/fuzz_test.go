package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

func FuzzParseForm(f *testing.F) {
	for _, s := range []string{
		"client_id=" + clientID + "&username=a%40b.co&challenge_type=oob+password+redirect",
		"a=1&a=2", "%zz", "a=b;c", "=x", "&&&", "attributes=%7B%22displayName%22%3A%22x%22%7D",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fm, ae := parseFormBody(body)
		if ae == nil {
			for k, v := range fm {
				if len(k)+len(v) > len(body) {
					t.Fatalf("decoded %q=%q is longer than the body", k, v)
				}
			}
			return
		}
		if ae.Error != nativeauth.ErrInvalidRequest || ae.httpStatus() != http.StatusBadRequest {
			t.Fatalf("parse error %+v is not a 400 invalid_request", ae)
		}
	})
}

func FuzzParseAttributes(f *testing.F) {
	for _, s := range []string{`{"displayName":"x"}`, `{"a":1,"b":true}`, `{"a":{}}`, `[]`, `null`, `{"a":null}`, `"x"`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, ae := parseAttributes(s)
		if ae != nil {
			if ae.Error != nativeauth.ErrInvalidRequest {
				t.Fatalf("attributes error %q", ae.Error)
			}
			return
		}
		if len(m) > maxAttributes {
			t.Fatalf("%d attributes accepted", len(m))
		}
	})
}

func FuzzContinuationToken(f *testing.F) {
	c := ctCodec{key: []byte("0123456789abcdef0123456789abcdef")}
	good := c.seal(ctClaims{kind: kindSignUp, step: stepSignUpStarted, nonce: 7, expires: time.UnixMilli(1700000000000)})
	f.Add(good)
	f.Add("")
	f.Add(good[:len(good)-1] + "A")
	f.Fuzz(func(t *testing.T, tok string) {
		cl, ok := c.open(tok)
		if !ok {
			return
		}
		// Only a token the codec itself minted opens; re-sealing its
		// claims must give back the same token.
		if c.seal(cl) != tok {
			t.Fatalf("opened a token the codec did not mint: %q", tok)
		}
	})
}

// FuzzRefreshToken: a refresh_token parameter parses to a key only when
// it is that key's one text, so no second text redeems the same grant.
func FuzzRefreshToken(f *testing.F) {
	good := refreshEncoding.EncodeToString(make([]byte, 32))
	f.Add(good)
	f.Add("")
	f.Add(good[:len(good)-1] + "B")
	f.Add(good + "=")
	f.Fuzz(func(t *testing.T, tok string) {
		k, ok := parseRefreshToken(tok)
		if ok && refreshEncoding.EncodeToString(k[:]) != tok {
			t.Fatalf("parsed %q, which is not the text of its key", tok)
		}
	})
}

// FuzzHandler throws random methods, paths, content types and bodies at
// the whole handler: it must never answer 5xx or panic, and every answer
// must be JSON without CORS headers.
func FuzzHandler(f *testing.F) {
	// One emulator for every input of this run (each fuzz worker process
	// runs FuzzHandler once), closed with the run so its janitor stops.
	fuzzEm, err := New(DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { fuzzEm.Close() })
	fuzzEm.log = fuzzEm.log.With("fuzz", true)
	form := "application/x-www-form-urlencoded"
	for _, ep := range nativeauth.Endpoints {
		f.Add("POST", "/contoso.onmicrosoft.com"+string(ep), form, "client_id="+clientID+"&username=a@b.co&challenge_type=oob+password+redirect&continuation_token=AQAB&grant_type=oob&oob=1&scope=openid")
	}
	for _, ep := range nativeauth.StrongAuthEndpoints {
		f.Add("POST", "/contoso.onmicrosoft.com"+string(ep), form, "client_id="+clientID+"&continuation_token=AQAB&id=email&challenge_type=oob&challenge_channel=sms&challenge_target=%2B15550100&grant_type=mfa_oob&oob=1")
	}
	f.Add("POST", "/contoso.onmicrosoft.com/oauth2/v2.0/initiate", form, "client_id="+clientID+"&username=a_b&challenge_type=password+redirect&capabilities=mfa_required+x")
	f.Add("PUT", "/emulator/v1/users/a%40b.co/strong_methods", "application/json", `[{"channel":"sms","target":"+15550100"}]`)
	f.Add("GET", "/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration", "", "")
	f.Add("POST", "/emulator/v1/users", "application/json", `{"username":"x@y.zz","password":"p"}`)
	f.Add("PUT", "/emulator/v1/config", "application/json", `{"otp":{"code_length":99}}`)
	f.Add("PUT", "/emulator/v1/faults", "application/json", `{"endpoints":{"*":{"rate_503":2}}}`)
	f.Add("POST", "/emulator/v1/clock", "application/json", `{"advance":"1h"}`)
	f.Add("OPTIONS", "/contoso.onmicrosoft.com/oauth2/v2.0/token", "", "")
	f.Add("GET", "/emulator/v1/stats", "", "")
	f.Add("POST", "/contoso.onmicrosoft.com/signup/v1.0/start", form+"; charset=\"", "attributes=%7B")
	f.Fuzz(func(t *testing.T, method, path, ct, body string) {
		req, err := http.NewRequest(method, "http://127.0.0.1"+path, bytes.NewReader([]byte(body)))
		if err != nil {
			return // not a request a client could send
		}
		if backdoorWrite(req) {
			// Writes to the backdoor would change faults or the clock for
			// every later input; they are exercised with fixed bodies.
			return
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		fuzzEm.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s (%q): status %d %s", method, path, ct, rec.Code, rec.Body.Bytes())
		}
		for k := range rec.Header() {
			if strings.HasPrefix(strings.ToLower(k), "access-control-") {
				t.Fatalf("CORS header %s", k)
			}
		}
		if rec.Code != http.StatusNoContent && method != http.MethodHead && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: body is not JSON: %q", method, path, rec.Body.Bytes())
		}
	})
}

// backdoorWrite reports whether req would change tenant-wide backdoor state.
// It looks at the parsed path the handler routes on, not the fuzzed string:
// "/emulator/v1/faults?x" is the faults call too, and letting it through
// made later, unrelated inputs fail with the 503s it switched on.
func backdoorWrite(req *http.Request) bool {
	if req.Method == http.MethodGet || !strings.HasPrefix(req.URL.Path, backdoor.Prefix) {
		return false
	}
	switch strings.TrimPrefix(req.URL.Path, backdoor.Prefix) {
	case backdoor.PathFaults, backdoor.PathConfig, backdoor.PathReset, backdoor.PathClock:
		return true
	}
	return false
}

func TestBackdoorWriteGuard(t *testing.T) {
	for path, want := range map[string]bool{
		"/emulator/v1/faults":        true,
		"/emulator/v1/faults?x=1":    true,
		"/emulator/v1/config#frag":   true,
		"/emulator/v1/%63lock":       true,
		"/emulator/v1/reset":         true,
		"/emulator/v1/users":         false,
		"/emulator/v1/faults/":       false,
		"/contoso.onmicrosoft.com/x": false,
	} {
		req, err := http.NewRequest(http.MethodPut, "http://127.0.0.1"+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := backdoorWrite(req); got != want {
			t.Errorf("%s: backdoorWrite %v, want %v", path, got, want)
		}
	}
}

// FuzzBackdoorToken: a protected backdoor opens to the exact bearer token
// only, and answers every other Authorization value with 401, never a 5xx.
func FuzzBackdoorToken(f *testing.F) {
	em, err := New(DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { em.Close() })
	if err := em.ProtectBackdoor(testBackdoorToken); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "Bearer", "Bearer ", "Bearer " + testBackdoorToken, "bearer " + testBackdoorToken, "Bearer " + testBackdoorToken + " ", "Basic eDp5", "Bearer \x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, auth string) {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/emulator/v1/clock", nil)
		req.Header["Authorization"] = []string{auth}
		rec := httptest.NewRecorder()
		em.ServeHTTP(rec, req)
		scheme, tok, _ := strings.Cut(auth, " ")
		valid := strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(tok) == testBackdoorToken
		switch {
		case valid && rec.Code != http.StatusOK:
			t.Fatalf("Authorization %q: want 200, got %d", auth, rec.Code)
		case !valid && rec.Code != http.StatusUnauthorized:
			t.Fatalf("Authorization %q: want 401, got %d", auth, rec.Code)
		}
		if strings.Contains(rec.Body.String(), testBackdoorToken) {
			t.Fatalf("the answer echoes the token")
		}
	})
}
