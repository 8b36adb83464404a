package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func hexSHA(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

const testJWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"

func TestCheckNoSecrets(t *testing.T) {
	ex := func(r *Record) *Exchange { return &r.Conformance.Entries[0].Evidence[0] }
	tests := []struct {
		name   string
		mutate func(*Record)
		leak   string // expected What, "" for clean
	}{
		{"clean", func(*Record) {}, ""},
		{"empty secret is not a leak", func(r *Record) { ex(r).Form["oob"] = "" }, ""},
		{"form password", func(r *Record) { ex(r).Form["password"] = "hunter2" }, "password"},
		{"form key case", func(r *Record) { ex(r).Form["New_Password"] = "hunter2" }, "new_password"},
		{"query field", func(r *Record) { ex(r).Form["?client_secret"] = "s3cr3t" }, "client_secret"},
		{"form oob", func(r *Record) { ex(r).Form["oob"] = "123456" }, "oob"},
		{"body continuation token", func(r *Record) { ex(r).Body = `{"continuation_token":"AQABIgEAAAB"}` }, "continuation_token"},
		{"nested body member", func(r *Record) { ex(r).Body = `{"a":{"refresh_token" : "0.AXoA"}}` }, "refresh_token"},
		{"truncated body", func(r *Record) { ex(r).Body = `{"token_type":"Bearer","access_token":"abc\"def","id_tok` }, "access_token"},
		{"redacted body", func(r *Record) {
			ex(r).Body = `{"access_token":"[redacted]","id_token":"[redacted]","refresh_token":"[redacted]"}`
		}, ""},
		{"form-encoded body", func(r *Record) { ex(r).Form = map[string]string{"<body>": "grant_type=password&password=pw1"} }, "password"},
		{"form-encoded body redacted", func(r *Record) { ex(r).Form = map[string]string{"<body>": "password=%5Bredacted%5D"} }, ""},
		{"jwt in body text", func(r *Record) { ex(r).Body = "token " + testJWT }, "JWT"},
		{"jwt in reason", func(r *Record) { r.Conformance.Entries[1].Reason = "got " + testJWT }, "JWT"},
		{"jwt-ish without payload is not a jwt", func(r *Record) { ex(r).Body = "eyJhbGciOiJSUzI1NiJ9.abc.def" }, ""},
		{"bearer header", func(r *Record) { ex(r).Headers["Authorization"] = "Bearer 0.AXoAabc" }, "bearer token"},
		{"other keys are fine", func(r *Record) { ex(r).Body = `{"error":"invalid_grant","suberror":"password_too_weak"}` }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := conformanceRecord()
			tc.mutate(r)
			err := CheckNoSecrets(r)
			if tc.leak == "" {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			var le *LeakError
			if !errors.As(err, &le) || !errors.Is(err, ErrSecretInRecord) {
				t.Fatalf("want *LeakError, got %v", err)
			}
			found := false
			for _, l := range le.Leaks {
				found = found || l.What == tc.leak
			}
			if !found {
				t.Fatalf("want a %q leak, got %+v", tc.leak, le.Leaks)
			}
			for _, secret := range []string{"hunter2", "s3cr3t", "123456", "AQABIgEAAAB", "0.AXoA", testJWT, "pw1"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("the leak error repeats the secret: %v", err)
				}
			}
		})
	}
}
