// Package otptest runs an in-process IMAP server (go-imap's) holding a test
// mailbox, for tests of the imap one-time passcode source and of what is
// built on it.
package otptest

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// How the server secures connections: the values of otp.IMAP's TLS.
const (
	ImplicitTLS = "implicit"
	StartTLS    = "starttls"
	Plain       = "none"
)

// UsedFolder is a second folder of the mailbox, for after_use: move.
const UsedFolder = "ciamcheck-used"

// MailServer is an IMAP server on loopback with one account whose INBOX and
// UsedFolder exist.
type MailServer struct {
	// Addr is host:port.
	Addr string
	// ClientTLS trusts the server's certificate (valid for 127.0.0.1).
	ClientTLS *tls.Config
	user      *imapmemserver.User
}

// StartMailServer serves the account username/password until the test
// ends. mode is ImplicitTLS, StartTLS or Plain.
func StartMailServer(t testing.TB, mode, username, password string) *MailServer {
	t.Helper()
	// httptest's certificate is valid for 127.0.0.1: borrow it and the
	// pool that trusts it.
	h := httptest.NewTLSServer(http.NotFoundHandler())
	serverTLS := &tls.Config{Certificates: h.TLS.Certificates}
	clientTLS := h.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	h.Close()

	mem := imapmemserver.New()
	user := imapmemserver.NewUser(username, password)
	for _, mbox := range []string{"INBOX", UsedFolder} {
		if err := user.Create(mbox, nil); err != nil {
			t.Fatal(err)
		}
	}
	mem.AddUser(user)
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: mode == Plain,
	}
	if mode == StartTLS {
		opts.TLSConfig = serverTLS
	}
	srv := imapserver.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if mode == ImplicitTLS {
		ln = tls.NewListener(ln, serverTLS)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &MailServer{Addr: ln.Addr().String(), ClientTLS: clientTLS, user: user}
}

// Deliver puts a raw message (LF or CRLF line ends) into mailbox as if
// received at received.
func (s *MailServer) Deliver(t testing.TB, mailbox, raw string, received time.Time) {
	t.Helper()
	raw = strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\n", "\r\n")
	if _, err := s.user.Append(mailbox, bytes.NewReader([]byte(raw)), &imap.AppendOptions{Time: received}); err != nil {
		t.Fatal(err)
	}
}

// Counts is how many messages mailbox holds, and how many are unseen.
func (s *MailServer) Counts(t testing.TB, mailbox string) (total, unseen uint32) {
	t.Helper()
	st, err := s.user.Status(mailbox, &imap.StatusOptions{NumMessages: true, NumUnseen: true})
	if err != nil {
		t.Fatal(err)
	}
	return *st.NumMessages, *st.NumUnseen
}

// PasscodeMail is a tenant's passcode email to to, as plain text.
func PasscodeMail(to, code string) string {
	return fmt.Sprintf(`From: Contoso <no-reply@accounts.example.com>
To: %s
Subject: Your Contoso account verification code
Date: Sun, 29 Nov 2026 18:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Account verification code: %s

This code expires in 10 minutes. Copyright 2026 Contoso, 1 Microsoft Way.
`, to, code)
}
