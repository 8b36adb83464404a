package conformance

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// A Trigger turns a valid request (Reached) into the one that provokes a
// catalog entry's behaviour. It returns the form to send; skip is non-empty
// when the target cannot reach the case, with the reason.
type Trigger func(ctx context.Context, e *Env, r *Reached) (form url.Values, skip string, err error)

// set returns a copy of form with key set to value ("" deletes it).
func set(form url.Values, kv ...string) url.Values {
	f := url.Values{}
	for k, v := range form {
		f[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			f.Del(kv[i])
		} else {
			f.Set(kv[i], kv[i+1])
		}
	}
	return f
}

func mutate(kv ...string) Trigger {
	return func(_ context.Context, _ *Env, r *Reached) (url.Values, string, error) {
		return set(r.Form, kv...), "", nil
	}
}

// tamper flips characters in the middle of a token, keeping its alphabet,
// so the change is in the protected content, not in padding.
func tamper(tok string) string {
	if len(tok) < 4 {
		return tok + "x"
	}
	b := []byte(tok)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// triggers is the vocabulary of ways to provoke a documented behaviour.
var triggers = map[string]Trigger{
	// The valid request itself: the documented success.
	"valid": func(_ context.Context, _ *Env, r *Reached) (url.Values, string, error) { return r.Form, "", nil },

	"missing_client_id": mutate("client_id", ""),
	"unknown_client_id": func(_ context.Context, _ *Env, r *Reached) (url.Values, string, error) {
		return set(r.Form, "client_id", uuid.NewString()), "", nil
	},
	"malformed_client_id": mutate("client_id", "not-a-client-id"),
	"disabled_client": func(_ context.Context, e *Env, r *Reached) (url.Values, string, error) {
		if e.DisabledClientID == "" {
			return nil, "the target profile names no client with native authentication disabled", nil
		}
		return set(r.Form, "client_id", e.DisabledClientID), "", nil
	},
	"confidential_client": func(_ context.Context, e *Env, r *Reached) (url.Values, string, error) {
		if e.ConfidentialClientID == "" {
			return nil, "the target profile names no confidential client", nil
		}
		return set(r.Form, "client_id", e.ConfidentialClientID), "", nil
	},

	"challenge_type_without_redirect": func(_ context.Context, _ *Env, r *Reached) (url.Values, string, error) {
		ct := strings.TrimSpace(strings.ReplaceAll(r.Form.Get("challenge_type"), "redirect", ""))
		return set(r.Form, "challenge_type", ct), "", nil
	},
	"challenge_type_invalid": func(_ context.Context, _ *Env, r *Reached) (url.Values, string, error) {
		return set(r.Form, "challenge_type", "oob carrier_pigeon redirect"), "", nil
	},
	"challenge_type_redirect_only": mutate("challenge_type", "redirect"),
	"challenge_type_missing":       mutate("challenge_type", ""),
	"username_missing":             mutate("username", ""),
	"username_malformed":           mutate("username", "not an email"),
	"username_unknown": func(_ context.Context, e *Env, r *Reached) (url.Values, string, error) {
		return set(r.Form, "username", e.NewUsername("nobody")), "", nil
	},
	"username_exists":            existingUsername,
	"continuation_token_missing": mutate("continuation_token", ""),
	"continuation_token_tampered": func(_ context.Context, _ *Env, r *Reached) (url.Values, string, error) {
		return set(r.Form, "continuation_token", tamper(r.Form.Get("continuation_token"))), "", nil
	},
	"continuation_token_garbage":    mutate("continuation_token", "not-a-continuation-token"),
	"continuation_token_replayed":   replayed,
	"continuation_token_other_flow": otherFlowToken,
	"continuation_token_expired":    expired,
	"grant_type_missing":            mutate("grant_type", ""),
	"grant_type_unknown":            mutate("grant_type", "magic"),
	"grant_type_wrong":              wrongGrant,
	"oob_wrong":                     wrongOOB,
	"oob_missing":                   mutate("oob", ""),
	"password_wrong": func(_ context.Context, _ *Env, r *Reached) (url.Values, string, error) {
		return set(r.Form, "password", "Wrong-P4ssword!"), "", nil
	},
	"password_too_short":          passwordField(func(e *Env) string { return "Aa1!" }),
	"password_too_long":           passwordField(func(e *Env) string { return "Aa1!" + strings.Repeat("x", max(e.Tenant.PasswordMaxLength, 256)+1) }),
	"password_too_weak":           passwordField(func(e *Env) string { return strings.Repeat("a", max(e.Tenant.PasswordMinLength, 8)+4) }),
	"password_banned":             banned,
	"password_invalid_characters": passwordField(func(e *Env) string { return "Aa1!\x01\x02bcdefgh" }),
	"password_recently_used":      recentlyUsed,
	"scope_invalid":               mutate("scope", "openid https://not-a-resource.invalid/.default"),
}

func existingUsername(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	u, _, err := e.ExistingUser(ctx)
	if err != nil {
		return nil, "", err
	}
	return set(r.Form, "username", u), "", nil
}

// passwordField puts a password into the field the endpoint takes it in.
func passwordField(pw func(*Env) string) Trigger {
	return func(_ context.Context, e *Env, r *Reached) (url.Values, string, error) {
		switch r.Endpoint {
		case nativeauth.EndpointResetSubmit:
			return set(r.Form, "new_password", pw(e)), "", nil
		case nativeauth.EndpointSignUpStart:
			if e.Tenant.SignUpMethod != "password" {
				return nil, "the tenant signs up with email OTP: no password to judge", nil
			}
			return set(r.Form, "password", pw(e)), "", nil
		case nativeauth.EndpointSignUpContinue:
			if e.Tenant.SignUpMethod != "password" {
				return nil, "the tenant signs up with email OTP: no password to judge", nil
			}
			return set(r.Form, "grant_type", "password", "oob", "", "password", pw(e)), "", nil
		}
		return nil, "", fmt.Errorf("password trigger on %s: no password field", r.Endpoint)
	}
}

func recentlyUsed(_ context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if r.Endpoint == nativeauth.EndpointSignUpStart || r.Endpoint == nativeauth.EndpointSignUpContinue {
		return nil, "a user who is signing up has no previous password, so no request can provoke password_recently_used at sign-up (the pages list it there anyway)", nil
	}
	if r.Endpoint == nativeauth.EndpointResetSubmit && r.Password == "" {
		return nil, "the user signed up with email one-time passcode and has no password to reuse", nil
	}
	if r.Endpoint != nativeauth.EndpointResetSubmit {
		return nil, "", fmt.Errorf("password_recently_used needs a reset submit for a user with a known password")
	}
	return set(r.Form, "new_password", r.Password), "", nil
}

func wrongOOB(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	right := r.Form.Get("oob")
	wrong := strings.Repeat("0", max(len(right), 8))
	if wrong == right {
		wrong = strings.Repeat("1", len(right))
	}
	return set(r.Form, "oob", wrong), "", nil
}

// wrongGrant sends a grant type that exists but is not the one the step
// takes.
func wrongGrant(_ context.Context, _ *Env, r *Reached) (url.Values, string, error) {
	switch r.Form.Get("grant_type") {
	case "oob":
		if r.Endpoint == nativeauth.EndpointSignUpContinue {
			return set(r.Form, "grant_type", "attributes", "oob", "", "attributes", `{"city":"Oslo"}`), "", nil
		}
		return set(r.Form, "grant_type", "password", "oob", "", "password", "Some-P4ssword!"), "", nil
	case "password":
		return set(r.Form, "grant_type", "oob", "password", "", "oob", "12345678"), "", nil
	}
	return set(r.Form, "grant_type", "refresh_token"), "", nil
}

// replayed makes the valid request once, then sends the same continuation
// token to the same call again: the pages make each token good for one
// subsequent request.
func replayed(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	first, err := e.call(ctx, r.Endpoint, r.Form)
	if err != nil {
		return nil, "", fmt.Errorf("setup: first use of the token: %w", err)
	}
	if first.Resp.HTTPStatus != 200 {
		return nil, "", fmt.Errorf("setup: first use of the token answered %d %s", first.Resp.HTTPStatus, first.Error())
	}
	return r.Form, "", nil
}

// otherFlowToken sends a valid continuation token issued by another flow:
// sign-in's for sign-up and reset endpoints, sign-up's for sign-in ones.
func otherFlowToken(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	var foreign string
	if strings.HasPrefix(string(r.Endpoint), "/oauth2/") {
		su, err := e.SignUpStart(ctx, "foreign", e.Tenant.SignUpMethod == "password", e.Tenant.RequiredAttributes())
		if err != nil {
			return nil, "", err
		}
		foreign = su.CT
	} else {
		u, _, err := e.ExistingUser(ctx)
		if err != nil {
			return nil, "", err
		}
		si, err := e.SignInInitiate(ctx, u, signInChallengeTypes)
		if err != nil {
			return nil, "", err
		}
		foreign = si.CT
	}
	return set(r.Form, "continuation_token", foreign), "", nil
}

// expired makes the continuation token outlive its lifetime by moving the
// target's clock. Without a clock backdoor the real-expiry specs (label
// slow) cover the case: they share one wait (describeRealExpiry).
func expired(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if e.AdvanceClock == nil {
		return nil, "the target has no clock backdoor; the real-expiry variant (label slow) covers this case", nil
	}
	if err := e.AdvanceClock(ctx, e.ContinuationLifetime+time.Minute); err != nil {
		return nil, "", fmt.Errorf("advance clock: %w", err)
	}
	return r.Form, "", nil
}

func banned(ctx context.Context, e *Env, r *Reached) (url.Values, string, error) {
	if len(e.Tenant.Banned) == 0 {
		return nil, "the target profile names no banned password word", nil
	}
	return passwordField(func(e *Env) string { return "Xy1!" + e.Tenant.Banned[0] + "Qz9" })(ctx, e, r)
}
