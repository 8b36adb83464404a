package otp

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// How an IMAP connection is secured.
const (
	IMAPTLSImplicit = "implicit" // TLS from the first byte (port 993)
	IMAPTLSStartTLS = "starttls" // plaintext greeting, then STARTTLS (port 143)
	IMAPTLSNone     = "none"     // plaintext: a loopback test server only
)

// What happens to a message whose code was used.
const (
	AfterUseSeen   = "seen"   // flag it \Seen
	AfterUseMove   = "move"   // flag it \Seen and move it to MoveTo
	AfterUseDelete = "delete" // flag it \Deleted and expunge it
)

// maxMessageBytes bounds what is fetched of one message: a passcode mail
// is a few kilobytes, even with its HTML.
const maxMessageBytes = 1 << 20

// Errors an IMAP source names its failures by (wrapped, with the details).
var (
	ErrIMAPLogin     = errors.New("login failed")
	ErrIMAPMailbox   = errors.New("mailbox cannot be selected")
	ErrNoMessage     = errors.New("no message before the timeout")
	ErrMessageNoCode = errors.New("message without a code")
)

// IMAP reads passcodes from a test mailbox that receives the tenant's
// emails to the plus-addressed test users. Code searches the mailbox for
// the newest unseen message to the username received after since (less
// ClockSkew), extracts the code and marks the message used (AfterUse), so
// no code is ever used twice; it polls every PollInterval until a code
// arrives or Timeout or ctx ends. Calls share one connection, one round at
// a time (mail servers limit connections per account); Close ends it.
type IMAP struct {
	// Addr is host:port of the IMAP server.
	Addr string
	// TLS is IMAPTLSImplicit (the default), IMAPTLSStartTLS or IMAPTLSNone.
	// The profile allows the last two only on loopback unless told it is
	// insecure.
	TLS string
	// TLSConfig overrides the TLS settings (tests: a private CA).
	TLSConfig *tls.Config
	// Username and Password log in to the mailbox; Password is a Secret so
	// that printing the source never shows it.
	Username string
	Password nativeauth.Secret
	// Mailbox is the folder to search (default INBOX).
	Mailbox string
	// Pattern finds the code in a message; nil means DefaultCodePattern.
	Pattern *regexp.Regexp
	// CodeLength, when > 0, is the exact length a code must have.
	CodeLength int
	// PollInterval is the wait between searches that found nothing
	// (default 2s).
	PollInterval time.Duration
	// Timeout bounds one Code call (default 60s), on top of ctx.
	Timeout time.Duration
	// ClockSkew is how much earlier than since a message may have been
	// received (the mail server's clock against ours; default 10s).
	ClockSkew time.Duration
	// AfterUse is AfterUseSeen (the default), AfterUseMove or
	// AfterUseDelete.
	AfterUse string
	// MoveTo is the folder used messages go to with AfterUseMove.
	MoveTo string

	mu     sync.Mutex // one round on the connection at a time
	client *imapclient.Client
	// used holds the UIDs (per UIDVALIDITY) whose code was handed out, in
	// case a server does not keep the flag.
	used        map[imap.UID]bool
	uidValidity uint32
}

// Code waits for the passcode sent to username after since.
func (m *IMAP) Code(ctx context.Context, username string, since time.Time) (nativeauth.Secret, error) {
	if username == "" {
		return "", fmt.Errorf("otp imap: empty username")
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(m.Timeout, 60*time.Second))
	defer cancel()
	after := since.Add(-cmp.Or(m.ClockSkew, 10*time.Second))
	var lastNoCode int
	for {
		code, noCode, err := m.round(ctx, username, after)
		if err != nil {
			return "", fmt.Errorf("otp imap %s for %s: %w", m.Addr, username, err)
		}
		if code != "" {
			return nativeauth.Secret(code), nil
		}
		if ctx.Err() == nil {
			// A round the deadline cut short saw nothing: the last whole
			// round's count stands.
			lastNoCode = noCode
		}
		select {
		case <-ctx.Done():
			if lastNoCode > 0 {
				return "", fmt.Errorf("otp imap %s for %s: %w: %d message(s) received after %s hold no code matching %s: %w",
					m.Addr, username, ErrMessageNoCode, lastNoCode, after.UTC().Format(time.RFC3339), m.pattern(), ctx.Err())
			}
			return "", fmt.Errorf("otp imap %s for %s: %w: none received after %s in %s: %w",
				m.Addr, username, ErrNoMessage, after.UTC().Format(time.RFC3339), m.mailbox(), ctx.Err())
		case <-time.After(cmp.Or(m.PollInterval, 2*time.Second)):
		}
	}
}

// Close logs out and closes the connection, if one is open.
func (m *IMAP) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.client == nil {
		return nil
	}
	_ = m.client.Logout().Wait()
	err := m.client.Close()
	m.client = nil
	return err
}

func (m *IMAP) mailbox() string { return cmp.Or(m.Mailbox, "INBOX") }

func (m *IMAP) pattern() *regexp.Regexp {
	if m.Pattern != nil {
		return m.Pattern
	}
	return DefaultCodePattern(m.CodeLength)
}

// round is one search: the code of the newest matching message, or "" and
// how many matching messages held no code. A broken connection is redialled
// once; login and mailbox errors are returned at once (waiting cannot fix
// them).
func (m *IMAP) round(ctx context.Context, username string, after time.Time) (string, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for attempt := 0; ; attempt++ {
		fresh := m.client == nil
		if fresh {
			if err := m.connect(ctx); err != nil {
				if ctx.Err() != nil {
					// The deadline closed the connection: that, not the
					// closed connection, is the cause.
					return "", 0, fmt.Errorf("connect: no answer from the server before the deadline (%w): %w", ctx.Err(), err)
				}
				return "", 0, err
			}
		}
		code, noCode, err := m.search(ctx, username, after)
		if err == nil {
			return code, noCode, nil
		}
		var ie *imap.Error
		if errors.As(err, &ie) {
			return "", 0, err // the server's NO or BAD: the connection is fine
		}
		m.dropLocked()
		if ctx.Err() != nil {
			return "", 0, nil // Code reports the timeout
		}
		if fresh || attempt > 0 {
			return "", 0, err // a new connection failed: redialling won't help
		}
		// The server may have closed an idle connection: dial again.
	}
}

func (m *IMAP) dropLocked() {
	if m.client != nil {
		_ = m.client.Close()
		m.client = nil
	}
}

// connect dials, logs in and selects the mailbox.
func (m *IMAP) connect(ctx context.Context) error {
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", m.Addr, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	tlsConfig := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if m.TLSConfig != nil {
		tlsConfig = m.TLSConfig.Clone()
		if tlsConfig.ServerName == "" {
			tlsConfig.ServerName = host
		}
	}
	opts := &imapclient.Options{TLSConfig: tlsConfig}
	// The client's commands know no context: closing the connection is
	// what ends one when ctx does.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var c *imapclient.Client
	switch cmp.Or(m.TLS, IMAPTLSImplicit) {
	case IMAPTLSImplicit:
		tc := tls.Client(conn, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("TLS handshake: %w", err)
		}
		c = imapclient.New(tc, opts)
	case IMAPTLSStartTLS:
		if c, err = imapclient.NewStartTLS(conn, opts); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	case IMAPTLSNone:
		c = imapclient.New(conn, opts)
	default:
		conn.Close()
		return fmt.Errorf("tls %q is not %s, %s or %s", m.TLS, IMAPTLSImplicit, IMAPTLSStartTLS, IMAPTLSNone)
	}
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return fmt.Errorf("greeting: %w", err)
	}
	if err := c.Login(m.Username, m.Password.Reveal()).Wait(); err != nil {
		c.Close()
		var ie *imap.Error
		if errors.As(err, &ie) {
			// The server's text, never the password.
			return fmt.Errorf("%w for %s: %s", ErrIMAPLogin, m.Username, ie.Text)
		}
		return fmt.Errorf("%w for %s: %w", ErrIMAPLogin, m.Username, err)
	}
	sel, err := c.Select(m.mailbox(), nil).Wait()
	if err != nil {
		c.Close()
		return fmt.Errorf("%w: %q: %w", ErrIMAPMailbox, m.mailbox(), err)
	}
	if sel.UIDValidity != m.uidValidity || m.used == nil {
		m.used, m.uidValidity = map[imap.UID]bool{}, sel.UIDValidity
	}
	m.client = c
	return nil
}

// found is a message to the user received in the window.
type found struct {
	uid      imap.UID
	received time.Time
	code     string
}

// search looks for the newest unseen message to username received at or
// after after, and marks it (and older ones to the same user, which it
// supersedes) used.
func (m *IMAP) search(ctx context.Context, username string, after time.Time) (string, int, error) {
	c := m.client
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	// NOOP lets the server announce messages delivered since the last
	// command; SEARCH then sees them.
	if err := c.Noop().Wait(); err != nil {
		return "", 0, fmt.Errorf("noop: %w", err)
	}
	data, err := c.UIDSearch(searchCriteria(username, after), nil).Wait()
	if err != nil {
		return "", 0, fmt.Errorf("search: %w", err)
	}
	uids := data.AllUIDs()
	if len(uids) == 0 {
		return "", 0, nil
	}
	section := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: maxMessageBytes}}
	msgs, err := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
		UID:          true,
		InternalDate: true,
		BodySection:  []*imap.FetchItemBodySection{section},
	}).Collect()
	if err != nil {
		return "", 0, fmt.Errorf("fetch: %w", err)
	}
	candidates, noCode := m.candidates(msgs, username, after)
	for i, f := range candidates {
		if f.code == "" {
			continue
		}
		// This one and every older message to the user: the tenant
		// replaced their codes with this one.
		var set imap.UIDSet
		for _, g := range candidates[i:] {
			set.AddNum(g.uid)
		}
		if err := m.markUsed(set); err != nil {
			return "", 0, fmt.Errorf("mark message used (%s): %w", cmp.Or(m.AfterUse, AfterUseSeen), err)
		}
		for _, g := range candidates[i:] {
			m.used[g.uid] = true
		}
		return f.code, 0, nil
	}
	return "", noCode, nil
}

// searchCriteria asks for the unseen messages to username that may have
// been received at or after after.
func searchCriteria(username string, after time.Time) *imap.SearchCriteria {
	// SINCE is a date without time or zone: a day earlier covers any zone;
	// the exact cut is made on INTERNALDATE in candidates.
	return &imap.SearchCriteria{
		Since:   after.UTC().AddDate(0, 0, -1),
		NotFlag: []imap.Flag{imap.FlagSeen, imap.FlagDeleted},
		Or: [][2]imap.SearchCriteria{{
			{Header: []imap.SearchCriteriaHeaderField{{Key: "To", Value: username}}},
			{Or: [][2]imap.SearchCriteria{{
				{Header: []imap.SearchCriteriaHeaderField{{Key: "Delivered-To", Value: username}}},
				{Header: []imap.SearchCriteriaHeaderField{{Key: "Cc", Value: username}}},
			}}},
		}},
	}
}

// candidates are the fetched messages not used yet, received at or after
// after and addressed to username exactly, newest first; noCode counts
// those in which no code was found.
func (m *IMAP) candidates(msgs []*imapclient.FetchMessageBuffer, username string, after time.Time) (candidates []found, noCode int) {
	for _, msg := range msgs {
		if m.used[msg.UID] || msg.InternalDate.Before(after) || len(msg.BodySection) == 0 {
			continue
		}
		raw := msg.BodySection[0].Bytes
		// The server's header search is a substring match: check the
		// address exactly (qa+run-1@ must not take qa+run-11@'s mail).
		if !addressedTo(raw, username) {
			continue
		}
		code, ok := ExtractCode(raw, m.Pattern, m.CodeLength)
		if !ok {
			noCode++
		}
		candidates = append(candidates, found{uid: msg.UID, received: msg.InternalDate, code: code})
	}
	// Newest first; UIDs grow with delivery, so they break ties.
	slices.SortFunc(candidates, func(a, b found) int {
		if c := b.received.Compare(a.received); c != 0 {
			return c
		}
		return cmp.Compare(b.uid, a.uid)
	})
	return candidates, noCode
}

// markUsed applies AfterUse to the messages.
func (m *IMAP) markUsed(set imap.UIDSet) error {
	c := m.client
	flag := imap.FlagSeen
	if m.AfterUse == AfterUseDelete {
		flag = imap.FlagDeleted
	}
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen, flag}}, nil).Close(); err != nil {
		return fmt.Errorf("store flags: %w", err)
	}
	switch m.AfterUse {
	case AfterUseMove:
		if _, err := c.Move(set, m.MoveTo).Wait(); err != nil {
			return fmt.Errorf("move to %q: %w", m.MoveTo, err)
		}
	case AfterUseDelete:
		if c.Caps().Has(imap.CapUIDPlus) || c.Caps().Has(imap.CapIMAP4rev2) {
			if err := c.UIDExpunge(set).Close(); err != nil {
				return fmt.Errorf("expunge: %w", err)
			}
		} else if err := c.Expunge().Close(); err != nil {
			// Without UIDPLUS, EXPUNGE removes every \Deleted message of
			// the folder: a test mailbox's, which is what delete asks for.
			return fmt.Errorf("expunge: %w", err)
		}
	}
	return nil
}
