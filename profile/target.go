package profile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator"
	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/otp"
)

// Capabilities is what the target can do for tests beyond the API itself.
type Capabilities struct {
	// Backdoor: the emulator's /emulator/v1/ API (outbox, users, config,
	// faults, reset).
	Backdoor bool
	// Clock: time can be moved forward (expiry specs without waiting).
	Clock bool
	// DisabledClientID is a client whose native auth is off; "" if none.
	DisabledClientID string
	// ConfidentialClientID is a confidential client; "" if none.
	ConfidentialClientID string
	// UnconsentedScope is an API scope the client has no consent for; ""
	// if none is known.
	UnconsentedScope string
	// ExistingUsers is how many users with known passwords the profile
	// names (others are made by sign-up).
	ExistingUsers int
}

// Credential is a user that can sign in.
type Credential struct {
	Username string
	Password nativeauth.Secret
}

// Target is an opened target: everything a suite or load run needs of the
// system under test.
type Target struct {
	Profile *Profile
	// BaseURL is the tenant base URL, e.g.
	// http://127.0.0.1:PORT/contoso.onmicrosoft.com.
	BaseURL string
	// Tenant and ClientID are the profile's, or the emulator's defaults.
	Tenant, ClientID string
	// Client is the API client for the native-auth public client.
	Client *nativeauth.Client
	// HTTPClient is what every client of this target sends through.
	HTTPClient *http.Client
	OTP        otp.Source
	Expect     Expectations
	Caps       Capabilities
	// Backdoor is nil unless the target has one.
	Backdoor *backdoor.Client
	Users    *Users
	// Existing are the profile's users with their passwords read from the
	// environment.
	Existing []Credential

	srv *http.Server
	emu *emulator.Emulator
}

// Open makes the target usable: for kind emulator it starts the embedded
// emulator on a free loopback port; for kind tenant it only builds clients
// (nothing is sent until a spec runs). Close releases what Open started.
func Open(ctx context.Context, p *Profile) (*Target, error) {
	if p == nil {
		p = Default()
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("target profile: %w", err)
	}
	users, err := NewUsers(p.Users.LocalPart, p.Users.Domain)
	if err != nil {
		return nil, fmt.Errorf("open target: %w", err)
	}
	t := &Target{
		Profile:    p,
		Users:      users,
		HTTPClient: newHTTPClient(),
	}
	for i, u := range p.Users.Existing {
		pw, ok := os.LookupEnv(u.PasswordEnv)
		if !ok || pw == "" {
			return nil, fmt.Errorf("open target: users.existing[%d]: environment variable %s is not set", i, u.PasswordEnv)
		}
		t.Existing = append(t.Existing, Credential{Username: u.Username, Password: nativeauth.Secret(pw)})
	}
	var host string // the emulator host for the backdoor and outbox
	switch p.Kind {
	case KindEmulator:
		if err := t.startEmulator(ctx); err != nil {
			return nil, err
		}
		host = t.hostURL()
	case KindTenant:
		t.BaseURL = strings.TrimSuffix(p.BaseURL, "/")
		t.Tenant, t.ClientID = p.Tenant, p.ClientID
		t.Expect = *p.Expect
		t.Caps = Capabilities{
			Backdoor:             p.Capabilities.Backdoor,
			Clock:                p.Capabilities.Backdoor,
			DisabledClientID:     p.DisabledClientID,
			ConfidentialClientID: p.ConfidentialClientID,
			UnconsentedScope:     p.UnconsentedScope,
		}
		if p.Capabilities.Backdoor {
			host, err = hostOf(t.BaseURL)
			if err != nil {
				return nil, fmt.Errorf("open target: %w", err)
			}
		}
	}
	t.Caps.ExistingUsers = len(t.Existing)
	token, err := backdoorToken(p.Capabilities.BackdoorTokenEnv)
	if err != nil {
		return nil, fmt.Errorf("open target: %w", err)
	}
	if host != "" {
		t.Backdoor = &backdoor.Client{BaseURL: host, HTTPClient: t.HTTPClient, Token: token}
	}
	t.Client = t.ClientFor(t.ClientID)
	switch p.OTP.Source {
	case OTPOutbox:
		t.OTP = &otp.Outbox{Backdoor: t.Backdoor, CodeLength: t.Expect.CodeLength}
	case OTPExec:
		// The command runs in the profile's directory, so
		// [./read-mailbox.sh] means the script beside the profile.
		t.OTP = &otp.Exec{Command: p.OTP.Command, Timeout: p.OTP.Timeout.D(), CodeLength: t.Expect.CodeLength, Dir: p.dir}
	case OTPPrompt:
		t.OTP = otp.NewPrompt(os.Stdin, os.Stderr, t.Expect.CodeLength)
	case OTPIMAP:
		m, err := p.openIMAP(t.Expect.CodeLength)
		if err != nil {
			_ = t.Close()
			return nil, fmt.Errorf("open target: %w", err)
		}
		t.OTP = m
	}
	return t, nil
}

// newHTTPClient is the client every call to the target goes through. Load
// runs hold hundreds of concurrent flows against one host; the default
// transport keeps only two idle connections per host and would reconnect
// on almost every call.
func newHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 1024
	tr.MaxIdleConnsPerHost = 512
	tr.IdleConnTimeout = 90 * time.Second
	return &http.Client{Timeout: 60 * time.Second, Transport: tr}
}

// hostOf returns scheme://host of a URL: the backdoor sits at the root of
// an emulator's host, not under the tenant path.
func hostOf(base string) (string, error) {
	i := strings.Index(base, "://")
	if i < 0 {
		return "", fmt.Errorf("base URL %q has no scheme", base)
	}
	rest := base[i+3:]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		rest = rest[:j]
	}
	return base[:i+3] + rest, nil
}

func (t *Target) hostURL() string { return "http://" + t.srv.Addr }

func (t *Target) startEmulator(ctx context.Context) error {
	p := t.Profile
	cfg := emulator.DefaultConfig()
	if p.EmulatorConfig != "" {
		var err error
		if cfg, err = emulator.LoadConfig(p.path(p.EmulatorConfig)); err != nil {
			return fmt.Errorf("open target: %w", err)
		}
	}
	emu, err := emulator.New(cfg)
	if err != nil {
		return fmt.Errorf("open target: start emulator: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		_ = emu.Close()
		return fmt.Errorf("open target: listen on loopback: %w", err)
	}
	srv := &http.Server{
		Addr:              ln.Addr().String(),
		Handler:           emu,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("embedded emulator stopped", "err", err)
		}
	}()
	t.emu, t.srv = emu, srv
	cfg = emu.Config()
	t.Tenant, t.ClientID = cfg.Tenant, p.ClientID
	t.BaseURL = fmt.Sprintf("http://%s/%s.onmicrosoft.com", srv.Addr, cfg.Tenant)
	t.Expect = ExpectationsOf(cfg)
	if p.Expect != nil {
		// A profile may state expectations for the emulator too (a config
		// file that changes them); they then win, so a mismatch shows.
		t.Expect = *p.Expect
	}
	t.Caps = Capabilities{Backdoor: !cfg.Backdoor.Disabled, Clock: !cfg.Backdoor.Disabled}
	for _, a := range cfg.Apps {
		switch {
		case !a.PublicClient && t.Caps.ConfidentialClientID == "":
			t.Caps.ConfidentialClientID = a.ClientID
		case a.PublicClient && !a.NativeAuth && t.Caps.DisabledClientID == "":
			t.Caps.DisabledClientID = a.ClientID
		}
	}
	for _, a := range cfg.Apps {
		if t.ClientID == "" && a.PublicClient && a.NativeAuth {
			t.ClientID = a.ClientID
		}
	}
	if t.ClientID == "" {
		_ = t.Close()
		return fmt.Errorf("open target: the emulator config has no public client with native auth")
	}
	t.Caps.UnconsentedScope = unconsentedScope(cfg, t.ClientID)
	return nil
}

// unconsentedScope is the first scope the emulator's app clientID has no
// consent for, or "".
func unconsentedScope(cfg backdoor.Config, clientID string) string {
	for _, a := range cfg.Apps {
		if strings.EqualFold(a.ClientID, clientID) && len(a.NoConsent) > 0 {
			return a.NoConsent[0]
		}
	}
	return ""
}

// ClientFor returns an API client of this target for another client ID
// (the disabled or confidential one), sharing the HTTP client.
func (t *Target) ClientFor(clientID string) *nativeauth.Client {
	return &nativeauth.Client{
		Tenant:     t.Tenant,
		ClientID:   clientID,
		BaseURL:    t.BaseURL,
		HTTPClient: t.HTTPClient,
	}
}

// Emulator is the embedded emulator, nil for kind tenant. Tests in this
// process may use it directly (its clock, its config).
func (t *Target) Emulator() *emulator.Emulator { return t.emu }

// Summary describes the opened target for the run record, with the actual
// base URL (the emulator's port is only known after Open) and no secrets.
func (t *Target) Summary() Summary {
	s := t.Profile.Redacted()
	s.BaseURL = redactURL(t.BaseURL)
	s.Tenant, s.ClientID = t.Tenant, t.ClientID
	return s
}

// Close stops the embedded emulator, if Open started one, and ends the
// OTP source's connection (an IMAP mailbox's), if it holds one.
func (t *Target) Close() error {
	if c, ok := t.OTP.(io.Closer); ok {
		if err := c.Close(); err != nil {
			slog.Warn("close the one-time passcode source", "err", err)
		}
	}
	if t.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := t.srv.Shutdown(ctx)
	if cerr := t.emu.Close(); err == nil {
		err = cerr
	}
	t.srv = nil
	if tr, ok := t.HTTPClient.Transport.(*http.Transport); ok {
		tr.CloseIdleConnections()
	}
	if err != nil {
		return fmt.Errorf("close target: %w", err)
	}
	return nil
}
