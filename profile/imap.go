package profile

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/otp"
)

// OTPIMAP is the OTP source that reads a test mailbox over IMAP.
const OTPIMAP = "imap"

// IMAPSpec is otp.imap: the test mailbox that receives the tenant's emails
// to the plus-addressed test users. It holds no secret: the login is read
// from the environment variables it names.
type IMAPSpec struct {
	// Addr is host:port, e.g. imap.mail.example.com:993.
	Addr string `yaml:"addr" json:"addr"`
	// TLS: implicit (default), starttls or none. starttls and none are
	// refused off loopback unless Insecure is set.
	TLS      string `yaml:"tls,omitempty" json:"tls,omitempty"`
	Insecure bool   `yaml:"insecure,omitempty" json:"insecure,omitempty"`
	// UsernameEnv and PasswordEnv name the variables holding the login.
	UsernameEnv string `yaml:"username_env" json:"username_env"`
	PasswordEnv string `yaml:"password_env" json:"password_env"`
	// Mailbox is the folder the passcode emails land in (default INBOX).
	Mailbox string `yaml:"mailbox,omitempty" json:"mailbox,omitempty"`
	// CodeRegexp finds the code in a message (its first group, or the whole
	// match); default: a run of exactly expect.code_length digits.
	CodeRegexp   string   `yaml:"code_regexp,omitempty" json:"code_regexp,omitempty"`
	PollInterval Duration `yaml:"poll_interval,omitempty" json:"poll_interval,omitempty"`
	// ClockSkew is how much earlier than the request a message may carry
	// as its received time (the mail server's clock against ours).
	ClockSkew Duration `yaml:"clock_skew,omitempty" json:"clock_skew,omitempty"`
	// AfterUse is seen (default), move or delete; move needs MoveTo.
	AfterUse string `yaml:"after_use,omitempty" json:"after_use,omitempty"`
	MoveTo   string `yaml:"move_to,omitempty" json:"move_to,omitempty"`
}

func (s *IMAPSpec) applyDefaults() {
	if s.TLS == "" {
		s.TLS = otp.IMAPTLSImplicit
	}
	if s.Mailbox == "" {
		s.Mailbox = "INBOX"
	}
	if s.PollInterval == 0 {
		s.PollInterval = Duration(2 * time.Second)
	}
	if s.ClockSkew == 0 {
		s.ClockSkew = Duration(10 * time.Second)
	}
	if s.AfterUse == "" {
		s.AfterUse = otp.AfterUseSeen
	}
}

// validateOTPIMAP checks otp.imap against otp.source.
func (p *Profile) validateOTPIMAP(bad func(field, format string, args ...any)) {
	s := p.OTP.IMAP
	if p.OTP.Source != OTPIMAP {
		if s != nil {
			bad("otp.imap", "only used with source imap")
		}
		return
	}
	if s == nil {
		bad("otp.imap", "required for source imap: {addr: imap.example.com:993, username_env: …, password_env: …}")
		return
	}
	host, port, err := net.SplitHostPort(s.Addr)
	if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		bad("otp.imap.addr", "%q is not host:port such as imap.mail.example.com:993", s.Addr)
	}
	switch s.TLS {
	case otp.IMAPTLSImplicit:
	case otp.IMAPTLSStartTLS, otp.IMAPTLSNone:
		if err == nil && !isLoopback(host) && !s.Insecure {
			bad("otp.imap.tls", "%s sends the mailbox login to %s without TLS from the first byte: allowed on loopback only, or with insecure: true", s.TLS, host)
		}
	default:
		bad("otp.imap.tls", "%q is not implicit, starttls or none", s.TLS)
	}
	for _, env := range [][2]string{{"otp.imap.username_env", s.UsernameEnv}, {"otp.imap.password_env", s.PasswordEnv}} {
		if !envNameRE.MatchString(env[1]) {
			bad(env[0], "%q is not an environment variable name (the login itself never goes in the profile)", env[1])
		}
	}
	if s.CodeRegexp != "" {
		if re, err := otp.CompileCodePattern(s.CodeRegexp); err != nil {
			bad("otp.imap.code_regexp", "%v", err)
		} else if re.NumSubexp() > 1 {
			bad("otp.imap.code_regexp", "has %d groups: use one for the code, (?:…) for the others", re.NumSubexp())
		}
	}
	if s.PollInterval < 0 {
		bad("otp.imap.poll_interval", "must be positive")
	}
	if s.ClockSkew < 0 {
		bad("otp.imap.clock_skew", "must be positive")
	}
	switch s.AfterUse {
	case otp.AfterUseSeen, otp.AfterUseDelete:
		if s.MoveTo != "" {
			bad("otp.imap.move_to", "only used with after_use: move")
		}
	case otp.AfterUseMove:
		if s.MoveTo == "" {
			bad("otp.imap.move_to", "required for after_use: move (an existing folder)")
		} else if s.MoveTo == s.Mailbox {
			bad("otp.imap.move_to", "is the searched mailbox: used messages would be found again")
		}
	default:
		bad("otp.imap.after_use", "%q is not seen, move or delete", s.AfterUse)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// openIMAP builds the IMAP source, reading the login from the environment.
func (p *Profile) openIMAP(codeLength int) (*otp.IMAP, error) {
	s := p.OTP.IMAP
	user, ok := os.LookupEnv(s.UsernameEnv)
	if !ok || user == "" {
		return nil, fmt.Errorf("otp.imap.username_env: environment variable %s is not set", s.UsernameEnv)
	}
	pw, ok := os.LookupEnv(s.PasswordEnv)
	if !ok || pw == "" {
		return nil, fmt.Errorf("otp.imap.password_env: environment variable %s is not set", s.PasswordEnv)
	}
	m := &otp.IMAP{
		Addr: s.Addr, TLS: s.TLS,
		Username: user, Password: nativeauth.Secret(pw),
		Mailbox:      s.Mailbox,
		CodeLength:   codeLength,
		PollInterval: s.PollInterval.D(),
		Timeout:      p.OTP.Timeout.D(),
		ClockSkew:    s.ClockSkew.D(),
		AfterUse:     s.AfterUse,
		MoveTo:       s.MoveTo,
	}
	if s.CodeRegexp != "" {
		re, err := otp.CompileCodePattern(s.CodeRegexp)
		if err != nil {
			return nil, fmt.Errorf("otp.imap.code_regexp: %w", err)
		}
		m.Pattern = re
	}
	return m, nil
}
