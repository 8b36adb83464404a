package emulator

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// refresh redeems rt at token.
func (h *harness) refresh(rt string) resp {
	h.t.Helper()
	return h.post(nativeauth.EndpointToken, vals("client_id", clientID, "grant_type", "refresh_token", "refresh_token", rt))
}

// wantRefreshRefused checks the answer to a refresh token the tenant no
// longer holds.
func wantRefreshRefused(t *testing.T, what string, r resp) {
	t.Helper()
	wantError(t, what, r, nativeauth.ErrInvalidGrant, "", codeInvalidRefreshToken)
}

// wantRefreshed checks a successful refresh and returns the new token.
func wantRefreshed(t *testing.T, what string, r resp) string {
	t.Helper()
	if r.status != http.StatusOK || r.str("refresh_token") == "" || r.str("access_token") == "" {
		t.Fatalf("%s: want 200 with access and refresh tokens, got %d: %s", what, r.status, r.raw)
	}
	return r.str("refresh_token")
}

// A refresh token works until the configured lifetime has passed, not a
// moment longer, and the sweep then reclaims it.
func TestRefreshTokenExpiry(t *testing.T) {
	h := newHarness(t, nil)
	const u = "expiry@example.com"
	h.createUser(u, goodPass, nil)
	lifetime := h.e.Config().Tokens.RefreshTokenLifetime.D()
	rt := h.signInPassword(u, goodPass).str("refresh_token")

	h.e.clock.Advance(lifetime - time.Minute)
	if _, n := h.e.sweep(); n != 0 {
		t.Errorf("sweep before expiry: removed %d refresh tokens, want 0", n)
	}
	rt = wantRefreshed(t, "refresh a minute before expiry", h.refresh(rt))
	if s := h.stats(); s.RefreshTokens != 1 {
		t.Errorf("refresh_tokens after a rotation: want 1, got %d", s.RefreshTokens)
	}

	h.e.clock.Advance(lifetime + time.Second)
	wantRefreshRefused(t, "refresh past the lifetime", h.refresh(rt))
	if s := h.stats(); s.RefreshTokens != 1 {
		t.Errorf("refresh_tokens before the sweep: want 1 (expired, held), got %d", s.RefreshTokens)
	}
	if _, n := h.e.sweep(); n != 1 {
		t.Errorf("sweep after expiry: removed %d refresh tokens, want 1", n)
	}
	if s := h.stats(); s.RefreshTokens != 0 || s.RefreshTokensEvicted != 0 {
		t.Errorf("stats after the sweep: want refresh_tokens 0, refresh_tokens_evicted 0, got %d, %d", s.RefreshTokens, s.RefreshTokensEvicted)
	}
}

// Past tokens.max_refresh_tokens the oldest token is revoked: redeeming it
// answers invalid_grant, the others keep working, and stats count it.
func TestRefreshTokenEvictionAtCap(t *testing.T) {
	h := newHarness(t, func(c *backdoor.Config) { c.Tokens.MaxRefreshTokens = 3 })
	const u = "cap@example.com"
	h.createUser(u, goodPass, nil)
	var rts []string
	for i := range 4 {
		rts = append(rts, h.signInPassword(u, goodPass).str("refresh_token"))
		if i < 3 {
			if s := h.stats(); s.RefreshTokensEvicted != 0 {
				t.Fatalf("refresh_tokens_evicted after %d sign-ins under the cap: want 0, got %d", i+1, s.RefreshTokensEvicted)
			}
		}
	}
	s := h.stats()
	if s.RefreshTokens != 3 || s.MaxRefreshTokens != 3 || s.RefreshTokensEvicted != 1 {
		t.Errorf("stats past the cap: want refresh_tokens 3, max_refresh_tokens 3, refresh_tokens_evicted 1, got %d, %d, %d",
			s.RefreshTokens, s.MaxRefreshTokens, s.RefreshTokensEvicted)
	}
	wantRefreshRefused(t, "oldest token, evicted", h.refresh(rts[0]))
	// A rotation swaps one token for another: nothing more is evicted.
	rts[1] = wantRefreshed(t, "second token", h.refresh(rts[1]))
	if s := h.stats(); s.RefreshTokens != 3 || s.RefreshTokensEvicted != 1 {
		t.Errorf("stats after a rotation: want refresh_tokens 3, refresh_tokens_evicted 1, got %d, %d", s.RefreshTokens, s.RefreshTokensEvicted)
	}

	// Lowering the bound through PUT config revokes the oldest at the next
	// issue: of rts[2], rts[3], rts[1] and the new one, only the new one stays.
	cfg := h.e.Config()
	cfg.Tokens.MaxRefreshTokens = 1
	if r := h.backdoor(http.MethodPut, backdoor.PathConfig, cfg); r.status != http.StatusOK {
		t.Fatalf("PUT config: %d %s", r.status, r.raw)
	}
	latest := h.signInPassword(u, goodPass).str("refresh_token")
	for i, rt := range rts[1:] {
		wantRefreshRefused(t, fmt.Sprintf("token %d after the bound shrank", i+2), h.refresh(rt))
	}
	if s := h.stats(); s.RefreshTokens != 1 || s.RefreshTokensEvicted != 4 {
		t.Errorf("stats after the bound shrank: want refresh_tokens 1, refresh_tokens_evicted 4, got %d, %d", s.RefreshTokens, s.RefreshTokensEvicted)
	}
	wantRefreshed(t, "newest token", h.refresh(latest))
}

// A refresh token has one text: the spare bits of its last base64url
// character cannot be flipped into a second token for the same grant.
func TestRefreshTokenTextIsCanonical(t *testing.T) {
	h := newHarness(t, nil)
	const u = "canon@example.com"
	h.createUser(u, goodPass, nil)
	rt := h.signInPassword(u, goodPass).str("refresh_token")
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, rt[len(rt)-1])
	if last < 0 {
		t.Fatalf("refresh token %q is not base64url", rt)
	}
	// 32 bytes leave 2 spare bits in the 43rd character.
	variant := rt[:len(rt)-1] + string(alphabet[last^1])
	wantRefreshRefused(t, "token with a spare bit flipped", h.refresh(variant))
	wantRefreshed(t, "the token itself", h.refresh(rt))
}

// sendCodes runs n sign-up challenges for username (a start, then each
// challenge on the token of the answer before) and returns the codes sent, oldest first, as
// the outbox showed each right after it was sent.
func (h *harness) sendCodes(username string, n int) []string {
	h.t.Helper()
	ct := wantToken(h.t, "sign-up start", h.post(nativeauth.EndpointSignUpStart,
		vals("client_id", clientID, "username", username, "challenge_type", "oob password redirect")))
	var codes []string
	for range n {
		ct = wantToken(h.t, "sign-up challenge", h.post(nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ct)))
		codes = append(codes, h.lastCode(username))
	}
	return codes
}

// outboxCodes lists the codes GET outbox shows for username, oldest first.
func (h *harness) outboxCodes(username string) []string {
	h.t.Helper()
	cli := &backdoor.Client{BaseURL: h.srv.URL, HTTPClient: h.cli}
	o, err := cli.Outbox(context.Background(), username)
	if err != nil {
		h.t.Fatalf("outbox for %s: %v", username, err)
	}
	var codes []string
	for _, m := range o.Messages {
		codes = append(codes, m.Code.Reveal())
	}
	return codes
}

// The outbox keeps each account's newest outbox.per_user messages and, of
// all accounts, the newest outbox.max_messages; what it drops is counted,
// and the newest code, the one otp.Outbox reads, always stays.
func TestOutboxKeepsNewest(t *testing.T) {
	h := newHarness(t, func(c *backdoor.Config) { c.Outbox.PerUser, c.Outbox.MaxMessages = 3, 5 })
	const a, b = "ann@example.com", "ben@example.com"
	sentA := h.sendCodes(a, 5)
	if got, want := strings.Join(h.outboxCodes(a), ","), strings.Join(sentA[2:], ","); got != want {
		t.Errorf("outbox of %s after 5 codes, per_user 3: want the newest 3 %s, got %s", a, want, got)
	}
	if s := h.stats(); s.OutboxMessages != 3 || s.OutboxTrimmed != 2 || s.OutboxEvicted != 0 || s.OutboxPerUser != 3 || s.OutboxMaxMessages != 5 {
		t.Errorf("stats: want outbox_messages 3, outbox_trimmed 2, outbox_evicted 0, outbox_per_user 3, outbox_max_messages 5, got %d, %d, %d, %d, %d",
			s.OutboxMessages, s.OutboxTrimmed, s.OutboxEvicted, s.OutboxPerUser, s.OutboxMaxMessages)
	}

	// Three codes for another account pass max_messages by one: the
	// oldest message of all, the first of a's three, goes.
	sentB := h.sendCodes(b, 3)
	if got, want := strings.Join(h.outboxCodes(a), ","), strings.Join(sentA[3:], ","); got != want {
		t.Errorf("outbox of %s past max_messages: want %s, got %s", a, want, got)
	}
	if got, want := strings.Join(h.outboxCodes(b), ","), strings.Join(sentB, ","); got != want {
		t.Errorf("outbox of %s: want %s, got %s", b, want, got)
	}
	if s := h.stats(); s.OutboxMessages != 5 || s.OutboxTrimmed != 2 || s.OutboxEvicted != 1 {
		t.Errorf("stats past max_messages: want outbox_messages 5, outbox_trimmed 2, outbox_evicted 1, got %d, %d, %d",
			s.OutboxMessages, s.OutboxTrimmed, s.OutboxEvicted)
	}

	// The newest code is the flow's code: it verifies the email.
	cli := &backdoor.Client{BaseURL: h.srv.URL, HTTPClient: h.cli}
	o, err := cli.Outbox(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := o.Newest(time.Time{})
	if !ok || m.Code.Reveal() != sentA[4] {
		t.Fatalf("newest message of %s: want the last code sent, got %v (found %v)", a, m.Code, ok)
	}
}

// The sweep drops messages one code lifetime past their expiry, per
// message; an account whose messages all went is gone from the outbox.
func TestOutboxSweep(t *testing.T) {
	h := newHarness(t, nil)
	const u = "sweep@example.com"
	h.sendCodes(u, 2)
	lifetime := h.e.Config().OTP.Lifetime.D()
	h.e.clock.Advance(2*lifetime - time.Second) // not yet expired for a whole lifetime: still shown
	h.e.sweep()
	if got := len(h.outboxCodes(u)); got != 2 {
		t.Errorf("messages one lifetime past expiry: want 2 kept, got %d", got)
	}
	newer := h.sendCodes(u, 1)
	h.e.clock.Advance(lifetime / 2)
	h.e.sweep()
	if got, want := strings.Join(h.outboxCodes(u), ","), newer[0]; got != want {
		t.Errorf("after the sweep: want only the newest code %s, got %s", want, got)
	}
	h.e.clock.Advance(2 * lifetime)
	h.e.sweep()
	if got := h.outboxCodes(u); len(got) != 0 {
		t.Errorf("after every message expired: want none, got %d", len(got))
	}
	if s := h.stats(); s.OutboxMessages != 0 || s.OutboxTrimmed != 0 || s.OutboxEvicted != 0 {
		t.Errorf("stats: want outbox_messages 0, outbox_trimmed 0, outbox_evicted 0 (the sweep is no drop), got %d, %d, %d",
			s.OutboxMessages, s.OutboxTrimmed, s.OutboxEvicted)
	}
	if n := len(h.e.data.Load().outbox.boxes); n != 0 {
		t.Errorf("accounts left in the outbox: want 0, got %d", n)
	}
}

// PUT config refuses bad bounds with the field, what it wants and what it
// got, and keeps the tenant as it was.
func TestPutConfigRefusesBadBounds(t *testing.T) {
	h := newHarness(t, nil)
	cfg := h.e.Config()
	cfg.Outbox.PerUser = 0
	r := h.backdoor(http.MethodPut, backdoor.PathConfig, cfg)
	want := "outbox.per_user: want 1..1000, got 0"
	if r.status != http.StatusBadRequest || !strings.Contains(string(r.raw), want) {
		t.Errorf("PUT config with outbox.per_user 0: want 400 saying %q, got %d: %s", want, r.status, r.raw)
	}
	if got := h.e.Config().Outbox.PerUser; got != DefaultOutboxPerUser {
		t.Errorf("outbox.per_user after the refused PUT: want %d, got %d", DefaultOutboxPerUser, got)
	}
}

// heapInUse is the live heap after a collection.
func heapInUse() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestStoreEntrySizes measures the heap one refresh token, one outbox
// message and one signed-up user hold (README, Limits), and fails when one
// grows past its budget. Names are made before the first reading: they
// belong to the account, which the entries share.
func TestStoreEntrySizes(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates some 100 MB")
	}
	const n = 100_000
	e, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tn, d := e.tenant.Load(), e.data.Load()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("user%07d@example.com", i)
	}
	budgets := []struct {
		what   string
		budget int64 // bytes per entry
		add    func(i int)
	}{
		{"refresh token", 400, func(i int) {
			sc, ae := tn.parseScopes("openid profile offline_access")
			if ae != nil {
				t.Fatal(ae.Message)
			}
			d.refresh.issue(&refreshGrant{username: names[i], clientID: DefaultNativeClientID, scopes: sc.list,
				expires: e.clock.Now().Add(time.Hour).UnixMilli()}, n)
		}},
		{"outbox message (one account each)", 400, func(i int) {
			now := e.clock.Now()
			d.outbox.add(names[i], backdoor.OutboxMessage{Code: nativeauth.Secret(newOTP(8)), Flow: "signup", IssuedAt: now,
				ExpiresAt: now.Add(10 * time.Minute), Channel: backdoor.StrongMethodEmail, Target: names[i]}, DefaultOutboxPerUser, n)
		}},
		{"user (two attributes)", 800, func(i int) {
			if _, err := e.createUser(d, names[i], goodPass, map[string]string{"displayName": "Load User", "city": "Lyon"}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, b := range budgets {
		before := heapInUse()
		for i := range n {
			b.add(i)
		}
		per := (heapInUse() - before) / n
		t.Logf("%s: %d bytes each (%d entries)", b.what, per, n)
		if per > b.budget {
			t.Errorf("%s: want at most %d bytes each, got %d", b.what, b.budget, per)
		}
	}
	if got := d.refresh.len() + d.outbox.len(); got != 2*n {
		t.Errorf("entries held: want %d, got %d", 2*n, got)
	}
	runtime.KeepAlive(d)
}

// TestBoundsHoldUnderConcurrency issues and redeems refresh tokens and
// sends codes from 8 goroutines while sweeps run, with small bounds: under
// -race this checks the stores' locking, and at the end neither store
// holds more than its bound nor disagrees with its own count.
func TestBoundsHoldUnderConcurrency(t *testing.T) {
	const maxTokens, perUser, maxMessages = 5, 2, 7
	h := newHarness(t, func(c *backdoor.Config) {
		c.Tokens.MaxRefreshTokens, c.Outbox.PerUser, c.Outbox.MaxMessages = maxTokens, perUser, maxMessages
	})
	h.createUser("conc@example.com", goodPass, nil)
	stopSweeping := h.sweepContinuously()
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 10 {
				ct := ctOf(direct(t, h.e, nativeauth.EndpointSignInInitiate, vals("client_id", clientID, "username", "conc@example.com", "challenge_type", "password redirect")))
				ct = ctOf(direct(t, h.e, nativeauth.EndpointSignInChallenge, vals("client_id", clientID, "continuation_token", ct)))
				r := direct(t, h.e, nativeauth.EndpointToken, vals("client_id", clientID, "continuation_token", ct, "grant_type", "password", "password", goodPass, "scope", "openid offline_access"))
				rt, _ := r["refresh_token"].(string)
				if rt == "" {
					errs <- fmt.Errorf("goroutine %d, sign-in %d: %v", g, i, r)
					return
				}
				// Evicted meanwhile or not, a refresh answers tokens or invalid_grant.
				r = direct(t, h.e, nativeauth.EndpointToken, vals("client_id", clientID, "grant_type", "refresh_token", "refresh_token", rt))
				if r["access_token"] == nil && r["error"] != string(nativeauth.ErrInvalidGrant) {
					errs <- fmt.Errorf("goroutine %d, refresh %d: %v", g, i, r)
					return
				}
				u := fmt.Sprintf("c%d-%d@example.com", g, i%3)
				st := direct(t, h.e, nativeauth.EndpointSignUpStart, vals("client_id", clientID, "username", u, "challenge_type", "oob password redirect"))
				if ctOf(direct(t, h.e, nativeauth.EndpointSignUpChallenge, vals("client_id", clientID, "continuation_token", ctOf(st)))) == "" {
					errs <- fmt.Errorf("goroutine %d, sign-up %d: no code sent", g, i)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	stopSweeping()
	d := h.e.data.Load()
	if n := d.refresh.len(); n > maxTokens {
		t.Errorf("refresh tokens held: want at most %d, got %d", maxTokens, n)
	}
	d.outbox.mu.Lock()
	defer d.outbox.mu.Unlock()
	held, listed := 0, 0
	for u, box := range d.outbox.boxes {
		if len(box) > perUser || len(box) == 0 {
			t.Errorf("messages of %s: want 1..%d, got %d", u, perUser, len(box))
		}
		held += len(box)
	}
	for e := d.outbox.oldest; e != nil; e = e.next {
		listed++
	}
	if held != d.outbox.n || listed != d.outbox.n || held > maxMessages {
		t.Errorf("outbox: want accounts' messages = list = count <= %d, got %d, %d, %d", maxMessages, held, listed, d.outbox.n)
	}
}

// Of concurrent redemptions of one refresh token, exactly one gets tokens.
func TestRefreshTokenRedeemedOnce(t *testing.T) {
	h := newHarness(t, nil)
	const u = "once@example.com"
	h.createUser(u, goodPass, nil)
	rt := h.signInPassword(u, goodPass).str("refresh_token")
	wins := make(chan bool, 8)
	for range 8 {
		go func() {
			r := direct(t, h.e, nativeauth.EndpointToken, vals("client_id", clientID, "grant_type", "refresh_token", "refresh_token", rt))
			wins <- r["access_token"] != nil
		}()
	}
	won := 0
	for range 8 {
		if <-wins {
			won++
		}
	}
	if won != 1 {
		t.Errorf("concurrent redemptions of one token: want 1 to get tokens, got %d", won)
	}
}
