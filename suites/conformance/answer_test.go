package conformance

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
	"github.com/ciamcheck/ciamcheck/suites/check"
)

func answerResp(status int, body string) *nativeauth.Response {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	return &nativeauth.Response{HTTPStatus: status, Header: h, Body: []byte(body)}
}

// A well-formed success and a well-formed error, each with every member a
// wrong-status answer could carry, so only the status is wrong.
const (
	okBody  = `{"continuation_token":"ct","challenge_type":"redirect","status":"succeeded","token_type":"Bearer","access_token":"a","expires_in":3600,"scope":"openid"}`
	errBody = `{"error":"invalid_request","error_description":"d","error_codes":[90014],"timestamp":"2025-01-02 10:15:00Z","trace_id":"b386ad47-23ae-4092-8d0c-6c1a5a5e1000","correlation_id":"72f57f26-1c2d-4b3a-9f00-aa00bb113fa6"}`
)

// TestAnswerChecksNormativeStatus: for every catalog entry whose HTTP
// status is normative, an answer with another status fails the entry and
// names the status. A server that accepts an expired passcode (200 where
// the catalog says 400) must not pass.
func TestAnswerChecksNormativeStatus(t *testing.T) {
	n := 0
	for _, c := range catalog.All() {
		if !normative(c, catalog.AspectStatus) {
			continue
		}
		want := c.Expect.HTTPStatus
		if want == 0 && c.Kind == catalog.KindError {
			want = http.StatusBadRequest
		}
		if want == 0 {
			continue
		}
		wrong := answerResp(http.StatusOK, okBody)
		if want == http.StatusOK {
			wrong = answerResp(http.StatusBadRequest, errBody)
		}
		n++
		err := Answer(c, wrong, "someone@example.com", []string{"openid"})
		if err == nil {
			t.Errorf("%s: an answer %d passed where the catalog says %d", c.ID, wrong.HTTPStatus, want)
			continue
		}
		if !slices.ContainsFunc(check.Failures(err), func(f *check.Failure) bool { return f.Field == "status" }) {
			t.Errorf("%s: an answer %d failed without naming the status: %v", c.ID, wrong.HTTPStatus, err)
		}
	}
	if n < 100 {
		t.Errorf("only %d entries with a normative status; the catalog has more", n)
	}
}

// TestAnswerCodeEntryStatus spells out the two code entries whose only
// normative aspect is the status: the right status passes, a success fails.
func TestAnswerCodeEntryStatus(t *testing.T) {
	for _, id := range []string{"codes.50182", "codes.399279"} {
		c, found := catalog.ByID(id)
		if !found {
			t.Fatalf("no catalog entry %s", id)
		}
		if err := Answer(c, answerResp(http.StatusBadRequest, errBody), "u@example.com", nil); err != nil {
			t.Errorf("%s: a documented 400 error failed: %v", id, err)
		}
		err := Answer(c, answerResp(http.StatusOK, `{"continuation_token":"ct"}`), "u@example.com", nil)
		if err == nil || !strings.Contains(err.Error(), "status") {
			t.Errorf("%s: a 200 success passed or failed without naming the status: %v", id, err)
		}
	}
}

// TestSelection: a filter or focus that does not parse is refused before
// the run; one that selected no spec (a typo) fails the run instead of
// skipping every entry and exiting 0.
func TestSelection(t *testing.T) {
	for _, f := range [][2]string{{"((", ""}, {"", "(("}} {
		if err := CheckSelection(f[0], f[1]); err == nil {
			t.Errorf("CheckSelection(%q, %q) = nil, want an error", f[0], f[1])
		}
	}
	if err := CheckSelection("flow:signup && !slow", "signup.start"); err != nil {
		t.Errorf("CheckSelection: %v", err)
	}
	for _, f := range [][2]string{{"flow:sigup", ""}, {"", "signup.strat"}, {"flow:sspr", "signup.start"}} {
		if err := selectionError(f[0], f[1], 0); err == nil {
			t.Errorf("selectionError(%q, %q, 0) = nil, want an error", f[0], f[1])
		}
		if err := selectionError(f[0], f[1], 3); err != nil {
			t.Errorf("selectionError(%q, %q, 3) = %v", f[0], f[1], err)
		}
	}
	// No filter selecting nothing is an empty catalog, not a typo.
	if err := selectionError("", "", 0); err != nil {
		t.Errorf("selectionError without filters = %v", err)
	}
}

// TestAnswerResetContinueAnotherChallenge: reset continue may answer the
// token for /submit or another challenge; either shape passes the entry
// that says so, anything else fails it.
func TestAnswerResetContinueAnotherChallenge(t *testing.T) {
	e, ok := catalog.ByID("sspr.continue.another_challenge")
	if !ok {
		t.Fatal("no entry sspr.continue.another_challenge")
	}
	user := "someone@example.com"
	for _, tt := range []struct {
		name string
		body string
		pass bool
	}{
		{"token for submit", `{"continuation_token":"ct","expires_in":600}`, true},
		{"another oob challenge", `{"continuation_token":"ct","challenge_type":"oob","binding_method":"prompt","challenge_channel":"email","challenge_target_label":"s***e@ex***.com","code_length":8}`, true},
		{"a challenge without its members", `{"continuation_token":"ct","challenge_type":"oob"}`, false},
		{"no token", `{"expires_in":600}`, false},
	} {
		err := Answer(e, answerResp(http.StatusOK, tt.body), user, nil)
		if (err == nil) != tt.pass {
			t.Errorf("%s: Answer = %v, want pass %v", tt.name, err, tt.pass)
		}
	}
}

// A label filter that does not parse is refused in plain text: Ginkgo
// colours its parse errors, and ours go to CI logs and files.
func TestCheckSelectionPlainText(t *testing.T) {
	err := CheckSelection("flow:((", "")
	if err == nil || strings.ContainsRune(err.Error(), '\x1b') || !strings.Contains(err.Error(), "Syntax Error") {
		t.Fatalf("want a plain-text syntax error, got %q", err)
	}
}
