package otp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/otp/otptest"
)

const (
	mailUser     = "qa@mail.example.com"
	mailPassword = "mailbox-password-123"
	alice        = "qa+run1-1@mail.example.com"
)

// source is an IMAP source for s, plaintext on loopback, fast polling.
func source(s *otptest.MailServer) *IMAP {
	return &IMAP{
		Addr: s.Addr, TLS: IMAPTLSNone, TLSConfig: s.ClientTLS,
		Username: mailUser, Password: secret(mailPassword),
		CodeLength: 8, PollInterval: 20 * time.Millisecond, Timeout: 2 * time.Second,
	}
}

func startMailServer(t *testing.T, mode string) *otptest.MailServer {
	return otptest.StartMailServer(t, mode, mailUser, mailPassword)
}

var passcodeMail = otptest.PasscodeMail

func TestIMAPCode(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name     string
		messages []delivery
		want     string // "" means none
	}{
		{"a code that is there", []delivery{{alice, "12345678", 0}}, "12345678"},
		{"a message to another user is ignored", []delivery{{"qa+run1-2@mail.example.com", "11111111", 0}, {"not" + alice, "22222222", 0}}, ""},
		{"two codes for one user: the newest wins", []delivery{{alice, "11111111", 2 * time.Second}, {alice, "22222222", time.Second}}, "22222222"},
		{"a message older than since is ignored", []delivery{{alice, "33333333", 5 * time.Minute}}, ""},
		{"a message just before since is within the clock skew", []delivery{{alice, "44444444", 13 * time.Second}}, "44444444"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startMailServer(t, IMAPTLSNone)
			for _, m := range tc.messages {
				s.Deliver(t, "INBOX", passcodeMail(m.to, m.code), now.Add(-m.age))
			}
			src := source(s)
			// A code that is there is found by the first round, however
			// long it takes on a busy machine; an empty search waits out a
			// short deadline.
			src.Timeout = time.Minute
			if tc.want == "" {
				src.Timeout = 300 * time.Millisecond
			}
			defer src.Close()
			since := now.Add(-10 * time.Second)
			code, err := src.Code(context.Background(), alice, since)
			if tc.want == "" {
				if !errors.Is(err, ErrNoMessage) || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("error: want %v wrapping the deadline, got code %q, err %v", ErrNoMessage, code, err)
				}
				return
			}
			if err != nil || code != secret(tc.want) {
				t.Fatalf("code: want %s, got %q (err %v)", tc.want, code, err)
			}
			// The code is used once: asked again, the mailbox has nothing
			// for the user (the older code is superseded too).
			src.Timeout = 300 * time.Millisecond
			if code, err := src.Code(context.Background(), alice, since); !errors.Is(err, ErrNoMessage) {
				t.Fatalf("second call: want %v, got code %q, err %v", ErrNoMessage, code, err)
			}
		})
	}
}

// delivery is a passcode email received age before the test's now.
type delivery struct {
	to, code string
	age      time.Duration
}

// A message that arrives while Code polls is found by a later round.
func TestIMAPLateMessage(t *testing.T) {
	s := startMailServer(t, IMAPTLSNone)
	src := source(s)
	defer src.Close()
	since := time.Now()
	go func() {
		time.Sleep(150 * time.Millisecond)
		s.Deliver(t, "INBOX", passcodeMail(alice, "87654321"), time.Now())
	}()
	code, err := src.Code(context.Background(), alice, since)
	if err != nil || code != secret("87654321") {
		t.Fatalf("code: want 87654321, got %q (err %v)", code, err)
	}
	if total, unseen := s.Counts(t, "INBOX"); total != 1 || unseen != 0 {
		t.Errorf("INBOX after use: want 1 message, 0 unseen; got %d, %d unseen", total, unseen)
	}
}

// Used messages are flagged, moved or deleted as the profile says; other
// users' messages are left alone.
func TestIMAPAfterUse(t *testing.T) {
	bob := "qa+run1-2@mail.example.com"
	tests := []struct {
		afterUse                string
		inboxTotal, inboxUnseen uint32
		usedTotal               uint32
	}{
		{AfterUseSeen, 2, 1, 0},
		{AfterUseMove, 1, 1, 1},
		{AfterUseDelete, 1, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.afterUse, func(t *testing.T) {
			s := startMailServer(t, IMAPTLSNone)
			s.Deliver(t, "INBOX", passcodeMail(alice, "12345678"), time.Now())
			s.Deliver(t, "INBOX", passcodeMail(bob, "87654321"), time.Now())
			src := source(s)
			src.AfterUse, src.MoveTo = tc.afterUse, otptest.UsedFolder
			defer src.Close()
			if code, err := src.Code(context.Background(), alice, time.Now().Add(-time.Second)); err != nil || code != secret("12345678") {
				t.Fatalf("code: want 12345678, got %q (err %v)", code, err)
			}
			total, unseen := s.Counts(t, "INBOX")
			used, _ := s.Counts(t, otptest.UsedFolder)
			if total != tc.inboxTotal || unseen != tc.inboxUnseen || used != tc.usedTotal {
				t.Errorf("after use: want INBOX %d (%d unseen), used folder %d; got %d (%d unseen), %d",
					tc.inboxTotal, tc.inboxUnseen, tc.usedTotal, total, unseen, used)
			}
			// Bob's code is still there for him.
			if code, err := src.Code(context.Background(), bob, time.Now().Add(-time.Second)); err != nil || code != secret("87654321") {
				t.Fatalf("bob's code: want 87654321, got %q (err %v)", code, err)
			}
		})
	}
}

func TestIMAPErrorsNameTheCause(t *testing.T) {
	s := startMailServer(t, IMAPTLSNone)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	// A server that accepts connections and never greets.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	tests := []struct {
		name    string
		change  func(*IMAP)
		deliver string // a message to alice, if any
		want    error
		text    string
	}{
		{"bad login", func(m *IMAP) { m.Password = "wrong-password-456" }, "", ErrIMAPLogin, "login failed for " + mailUser},
		{"mailbox missing", func(m *IMAP) { m.Mailbox = "Passcodes" }, "", ErrIMAPMailbox, `"Passcodes"`},
		{"nothing listens", func(m *IMAP) { m.Addr = closedAddr }, "", nil, "connect: dial tcp"},
		{"no greeting", func(m *IMAP) { m.Addr = silent.Addr().String() }, "", context.DeadlineExceeded, "no answer from the server before the deadline"},
		{"timeout", func(*IMAP) {}, "", ErrNoMessage, "none received after"},
		{"a message without a code", func(*IMAP) {}, "Your code is on its way.", ErrMessageNoCode, "1 message(s) received after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.deliver != "" {
				s.Deliver(t, "INBOX", strings.Replace(passcodeMail(alice, ""), "Account verification code: ", tc.deliver, 1), time.Now())
			}
			src := source(s)
			// Only the cases that wait for the deadline have a short one.
			// The message without a code must be read before it, and an
			// error that waiting cannot fix must come well before it (a
			// busy machine takes longer than 300ms for the first round).
			waits := tc.want == ErrNoMessage || tc.want == ErrMessageNoCode || tc.want == context.DeadlineExceeded
			switch {
			case tc.deliver != "":
				src.Timeout = 3 * time.Second
			case waits:
				src.Timeout = 300 * time.Millisecond
			default:
				src.Timeout = time.Minute
			}
			tc.change(src)
			defer src.Close()
			start := time.Now()
			code, err := src.Code(context.Background(), alice, time.Now().Add(-time.Second))
			if err == nil {
				t.Fatalf("want an error, got code %q", code)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error: want %v, got %v", tc.want, err)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error: want %q in it, got %v", tc.text, err)
			}
			if strings.Contains(err.Error(), "password-") {
				t.Errorf("error quotes the password: %v", err)
			}
			// Waiting cannot fix a login, a mailbox or a refused connection.
			if took := time.Since(start); !waits && took > src.Timeout/2 {
				t.Errorf("%s took %s of a %s deadline: want an immediate error", tc.name, took, src.Timeout)
			}
		})
	}
}

// Implicit TLS and STARTTLS work with a trusted certificate; an untrusted
// one is refused.
func TestIMAPTLS(t *testing.T) {
	for _, mode := range []string{IMAPTLSImplicit, IMAPTLSStartTLS} {
		t.Run(mode, func(t *testing.T) {
			s := startMailServer(t, mode)
			s.Deliver(t, "INBOX", passcodeMail(alice, "12345678"), time.Now())
			src := source(s)
			src.TLS = mode
			defer src.Close()
			if code, err := src.Code(context.Background(), alice, time.Now().Add(-time.Second)); err != nil || code != secret("12345678") {
				t.Fatalf("code: want 12345678, got %q (err %v)", code, err)
			}
			untrusted := source(s)
			untrusted.TLS, untrusted.TLSConfig = mode, nil
			defer untrusted.Close()
			if _, err := untrusted.Code(context.Background(), alice, time.Now()); err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Errorf("untrusted certificate: want a certificate error, got %v", err)
			}
		})
	}
}

// Concurrent calls for different users share the connection and each get
// their own code; a dropped connection is redialled.
func TestIMAPConcurrentAndReconnect(t *testing.T) {
	s := startMailServer(t, IMAPTLSNone)
	src := source(s)
	defer src.Close()
	since := time.Now().Add(-time.Second)
	var wg sync.WaitGroup
	for i := range 5 {
		user := fmt.Sprintf("qa+run1-%d@mail.example.com", i)
		want := fmt.Sprintf("1000000%d", i)
		s.Deliver(t, "INBOX", passcodeMail(user, want), time.Now())
		wg.Go(func() {
			if code, err := src.Code(context.Background(), user, since); err != nil || code != secret(want) {
				t.Errorf("%s: want %s, got %q (err %v)", user, want, code, err)
			}
		})
	}
	wg.Wait()

	src.mu.Lock()
	_ = src.client.Close() // as a server closing an idle connection does
	src.mu.Unlock()
	s.Deliver(t, "INBOX", passcodeMail(alice, "55555555"), time.Now())
	if code, err := src.Code(context.Background(), alice, since); err != nil || code != secret("55555555") {
		t.Fatalf("after the connection dropped: want 55555555, got %q (err %v)", code, err)
	}
}
