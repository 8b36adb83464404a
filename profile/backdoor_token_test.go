package profile

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// The backdoor token travels on backdoor calls (the backdoor client and the
// outbox) and on nothing else, in particular not to the tenant endpoints.
func TestBackdoorTokenOnlyOnBackdoorCalls(t *testing.T) {
	const token = "profile-test-token-0123456789"
	var mu sync.Mutex
	seen := map[string]string{} // path -> Authorization
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Get("Authorization")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/emulator/v1/outbox":
			_, _ = w.Write([]byte(`{"username":"a@example.com","messages":[{"code":"12345678","flow":"signup","issued_at":"2030-01-01T00:00:00Z","expires_at":"2030-01-01T00:10:00Z"}]}`))
		case "/emulator/v1/clock":
			_, _ = w.Write([]byte(`{"now":"2030-01-01T00:00:00Z","offset":"0s"}`))
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"x","error_codes":[900144]}`))
		}
	}))
	defer srv.Close()
	p, err := Parse([]byte("kind: tenant\nbase_url: " + srv.URL + "/contoso.onmicrosoft.com\ntenant: contoso\nclient_id: 00000000-0000-4000-8000-00000000c1a0\n" +
		"expect: {}\notp: {source: outbox}\ncapabilities: {backdoor: true, backdoor_token_env: CIAMCHECK_TEST_BACKDOOR_TOKEN}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Setenv("CIAMCHECK_TEST_BACKDOOR_TOKEN", "")
	if _, err := Open(ctx, p); err == nil || !strings.Contains(err.Error(), "CIAMCHECK_TEST_BACKDOOR_TOKEN is not set") {
		t.Fatalf("open with the variable empty: want an error naming it, got %v", err)
	}
	t.Setenv("CIAMCHECK_TEST_BACKDOOR_TOKEN", token)
	tgt := openTarget(t, p)
	if _, err := tgt.Backdoor.Clock(ctx); err != nil {
		t.Fatalf("clock: %v", err)
	}
	octx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := tgt.OTP.Code(octx, "a@example.com", time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("outbox: %v", err)
	}
	_, _ = tgt.Client.SignInInitiate(ctx, nativeauth.InitiateRequest{Username: "a@example.com", ChallengeTypes: []nativeauth.ChallengeType{"password", "redirect"}})
	mu.Lock()
	defer mu.Unlock()
	for _, path := range []string{"/emulator/v1/clock", "/emulator/v1/outbox"} {
		if got := seen[path]; got != "Bearer "+token {
			t.Errorf("%s: Authorization: want the bearer token, got %q", path, got)
		}
	}
	initiate := "/contoso.onmicrosoft.com/oauth2/v2.0/initiate"
	if got, ok := seen[initiate]; !ok || got != "" {
		t.Errorf("%s: want called without Authorization, got called=%v with %q", initiate, ok, got)
	}
}
