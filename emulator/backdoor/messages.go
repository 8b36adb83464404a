package backdoor

import (
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Prefix is where the backdoor sits, at the root of the emulator's host
// (not below the tenant base URL).
const Prefix = "/emulator/v1/"

// The backdoor's calls, below Prefix.
const (
	PathOutbox = "outbox" // GET ?username=U
	PathClock  = "clock"  // GET, POST ClockAdvance
	PathReset  = "reset"  // POST, answered 204
	PathUsers  = "users"  // POST NewUser; GET users/{username}
	PathConfig = "config" // GET, PUT Config
	PathFaults = "faults" // GET, PUT Faults
	PathStats  = "stats"  // GET Stats
	// PathStrongMethods follows users/{username}/: PUT []StrongMethod
	// replaces the user's registered strong methods.
	PathStrongMethods = "strong_methods"
)

// Stats is the answer of GET stats: the emulator's own limits and what
// they refused since the last reset.
type Stats struct {
	// LiveFlows is how many sign-up, sign-in and reset flows are held;
	// MaxLiveFlows the bound (Config.MaxLiveFlows).
	LiveFlows    int64 `json:"live_flows"`
	MaxLiveFlows int64 `json:"max_live_flows"`
	// FlowsRefused counts starts answered 429 at the bound.
	FlowsRefused int64 `json:"flows_refused"`
	// PasscodeLockouts counts codes that stopped working after
	// OTPMaxAttempts wrong values (Config.OTP.MaxAttempts).
	PasscodeLockouts int64 `json:"passcode_lockouts"`
	OTPMaxAttempts   int   `json:"otp_max_attempts"`
	// RefreshTokens is how many refresh tokens are held (issued, not
	// redeemed, not yet swept); MaxRefreshTokens the bound
	// (TokenConfig.MaxRefreshTokens); RefreshTokensEvicted counts the
	// oldest revoked at it.
	RefreshTokens        int64 `json:"refresh_tokens"`
	MaxRefreshTokens     int64 `json:"max_refresh_tokens"`
	RefreshTokensEvicted int64 `json:"refresh_tokens_evicted"`
	// OutboxMessages is how many passcode messages the outbox holds;
	// OutboxMaxMessages and OutboxPerUser are its bounds (OutboxConfig).
	// OutboxTrimmed counts messages an account's newer ones pushed out
	// past OutboxPerUser; OutboxEvicted counts the oldest of all pushed
	// out at OutboxMaxMessages (a code may go before it was read).
	OutboxMessages    int64 `json:"outbox_messages"`
	OutboxMaxMessages int64 `json:"outbox_max_messages"`
	OutboxPerUser     int   `json:"outbox_per_user"`
	OutboxTrimmed     int64 `json:"outbox_trimmed"`
	OutboxEvicted     int64 `json:"outbox_evicted"`
	// Users is how many accounts exist (seeded, created through the
	// backdoor or signed up); they stay until reset.
	Users int64 `json:"users"`
}

// Clock is the emulator's clock: its now, and how far it was moved past the
// wall clock (Go duration text).
type Clock struct {
	Now    time.Time `json:"now"`
	Offset string    `json:"offset"`
}

// ClockAdvance is the body of POST clock: a non-negative Go duration text.
type ClockAdvance struct {
	Advance string `json:"advance"`
}

// NewUser is the body of POST users: a user made directly, without
// sign-up.
type NewUser struct {
	Username   string            `json:"username"`
	Password   nativeauth.Secret `json:"password"`
	Attributes map[string]string `json:"attributes,omitempty"`
	// PasswordResetRequired makes password sign-in fail with 50142 until
	// the user completes a password reset.
	PasswordResetRequired bool           `json:"password_reset_required,omitempty"`
	Alias                 string         `json:"alias,omitempty"`
	StrongMethods         []StrongMethod `json:"strong_methods,omitempty"`
}

// wire is u as it is sent: the password in clear, which only the request
// body may carry (Secret marshals as "[redacted]").
func (u NewUser) wire() any {
	return struct {
		Username              string            `json:"username"`
		Password              string            `json:"password"`
		Attributes            map[string]string `json:"attributes,omitempty"`
		PasswordResetRequired bool              `json:"password_reset_required,omitempty"`
		Alias                 string            `json:"alias,omitempty"`
		StrongMethods         []StrongMethod    `json:"strong_methods,omitempty"`
	}{u.Username, u.Password.Reveal(), u.Attributes, u.PasswordResetRequired, u.Alias, u.StrongMethods}
}

// User is a user as the backdoor shows it: never the password.
type User struct {
	Username      string            `json:"username"`
	ObjectID      string            `json:"object_id"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	Alias         string            `json:"alias,omitempty"`
	StrongMethods []StrongMethod    `json:"strong_methods,omitempty"`
}

// Outbox is the answer of GET outbox: the passcodes sent to one user,
// oldest first (the emulator keeps the last 20).
type Outbox struct {
	Username string          `json:"username"`
	Messages []OutboxMessage `json:"messages"`
}

// OutboxMessage is one passcode "email".
type OutboxMessage struct {
	Code      nativeauth.Secret `json:"code"`
	Flow      string            `json:"flow"` // signup, signin, sspr, mfa or register
	IssuedAt  time.Time         `json:"issued_at"`
	ExpiresAt time.Time         `json:"expires_at"`
	// Channel is email or sms; Target the address or number the code went
	// to (the account's email unless a strong method says otherwise).
	Channel string `json:"channel,omitempty"`
	Target  string `json:"target,omitempty"`
}

// Newest returns the newest message issued at or after since, if any.
// Messages are listed oldest first, but the issue times decide, so an
// unsorted list cannot yield a stale code.
func (o Outbox) Newest(since time.Time) (OutboxMessage, bool) {
	var best OutboxMessage
	found := false
	for _, m := range o.Messages {
		if m.IssuedAt.Before(since) {
			continue
		}
		if !found || !m.IssuedAt.Before(best.IssuedAt) {
			best, found = m, true
		}
	}
	return best, found
}

// Revealed is o as the backdoor answers it, codes in clear. Only the
// emulator's GET outbox handler uses it; o itself marshals with the codes
// redacted, so an outbox logged or kept as evidence shows none.
func (o Outbox) Revealed() any {
	type message struct {
		Code      string    `json:"code"`
		Flow      string    `json:"flow"`
		IssuedAt  time.Time `json:"issued_at"`
		ExpiresAt time.Time `json:"expires_at"`
		Channel   string    `json:"channel,omitempty"`
		Target    string    `json:"target,omitempty"`
	}
	ms := make([]message, len(o.Messages))
	for i, m := range o.Messages {
		ms[i] = message{m.Code.Reveal(), m.Flow, m.IssuedAt, m.ExpiresAt, m.Channel, m.Target}
	}
	return struct {
		Username string    `json:"username"`
		Messages []message `json:"messages"`
	}{o.Username, ms}
}
