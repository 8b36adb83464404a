package profile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/otp"
	"github.com/ciamcheck/ciamcheck/otp/otptest"
)

const imapTenant = "kind: tenant\nbase_url: https://h/contoso.onmicrosoft.com\ntenant: contoso\nclient_id: c\nexpect: {code_length: 6}\n"

func TestIMAPSpecDefaults(t *testing.T) {
	p, err := Parse([]byte(imapTenant + "otp: {source: imap, timeout: 90s, imap: {addr: imap.mail.example.com:993, username_env: MAIL_USER, password_env: MAIL_PASSWORD}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := IMAPSpec{Addr: "imap.mail.example.com:993", TLS: otp.IMAPTLSImplicit, UsernameEnv: "MAIL_USER", PasswordEnv: "MAIL_PASSWORD",
		Mailbox: "INBOX", PollInterval: Duration(2 * time.Second), ClockSkew: Duration(10 * time.Second), AfterUse: otp.AfterUseSeen}
	if p.OTP.Source != OTPIMAP || p.OTP.IMAP == nil || *p.OTP.IMAP != want {
		t.Fatalf("otp.imap: want %+v, got %+v", want, p.OTP.IMAP)
	}
}

func TestIMAPSpecErrors(t *testing.T) {
	const ok = "addr: imap.mail.example.com:993, username_env: MAIL_USER, password_env: MAIL_PASSWORD"
	tests := []struct {
		name, otp, field string
	}{
		{"imap without its block", "{source: imap}", "otp.imap: required"},
		{"imap block with another source", "{source: prompt, imap: {" + ok + "}}", "otp.imap: only used with source imap"},
		{"command with imap", "{source: imap, command: [x], imap: {" + ok + "}}", "otp.command"},
		{"no port", "{source: imap, imap: {addr: imap.mail.example.com, username_env: U, password_env: P}}", "otp.imap.addr"},
		{"bad port", "{source: imap, imap: {addr: \"imap.mail.example.com:99999\", username_env: U, password_env: P}}", "otp.imap.addr"},
		{"plaintext off loopback", "{source: imap, imap: {" + ok + ", tls: none}}", "otp.imap.tls: none sends the mailbox login"},
		{"starttls off loopback", "{source: imap, imap: {" + ok + ", tls: starttls}}", "otp.imap.tls: starttls"},
		{"bad tls", "{source: imap, imap: {" + ok + ", tls: ssl}}", "otp.imap.tls"},
		{"password in place of env", "{source: imap, imap: {addr: \"h:993\", username_env: U, password_env: \"hunter2!\"}}", "otp.imap.password_env"},
		{"no username env", "{source: imap, imap: {addr: \"h:993\", password_env: P}}", "otp.imap.username_env"},
		{"bad regexp", "{source: imap, imap: {" + ok + ", code_regexp: \"([0-9]\"}}", "otp.imap.code_regexp"},
		{"two groups", "{source: imap, imap: {" + ok + ", code_regexp: \"(a)([0-9]+)\"}}", "otp.imap.code_regexp: has 2 groups"},
		{"negative poll", "{source: imap, imap: {" + ok + ", poll_interval: -1s}}", "otp.imap.poll_interval"},
		{"bad after_use", "{source: imap, imap: {" + ok + ", after_use: archive}}", "otp.imap.after_use"},
		{"move without folder", "{source: imap, imap: {" + ok + ", after_use: move}}", "otp.imap.move_to: required"},
		{"move into the searched mailbox", "{source: imap, imap: {" + ok + ", after_use: move, move_to: INBOX}}", "otp.imap.move_to: is the searched mailbox"},
		{"folder without move", "{source: imap, imap: {" + ok + ", move_to: Used}}", "otp.imap.move_to: only used"},
		{"unknown key", "{source: imap, imap: {" + ok + ", pasword: x}}", "pasword"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(imapTenant + "otp: " + tc.otp + "\n"))
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("error: want one naming %q, got %v", tc.field, err)
			}
		})
	}
	for _, okOTP := range []string{
		"{source: imap, imap: {addr: \"127.0.0.1:1143\", tls: none, username_env: U, password_env: P}}",
		"{source: imap, imap: {addr: \"localhost:143\", tls: starttls, username_env: U, password_env: P}}",
		"{source: imap, imap: {addr: \"mail.internal:143\", tls: starttls, insecure: true, username_env: U, password_env: P, after_use: move, move_to: Used, code_regexp: \"code: ([0-9]+)\"}}",
	} {
		if _, err := Parse([]byte(imapTenant + "otp: " + okOTP + "\n")); err != nil {
			t.Errorf("otp %s: want valid, got %v", okOTP, err)
		}
	}
}

func TestOpenIMAPSource(t *testing.T) {
	p, err := Parse([]byte(imapTenant + "otp: {source: imap, timeout: 45s, imap: {addr: \"imap.mail.example.com:993\", username_env: CIAM_TEST_MAIL_USER, password_env: CIAM_TEST_MAIL_PASSWORD, after_use: delete, code_regexp: \"code: ([0-9]+)\"}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("CIAM_TEST_MAIL_USER", "qa@mail.example.com")
	t.Setenv("CIAM_TEST_MAIL_PASSWORD", "")
	if _, err := Open(context.Background(), p); err == nil || !strings.Contains(err.Error(), "CIAM_TEST_MAIL_PASSWORD is not set") {
		t.Fatalf("unset password: want an error naming the variable, got %v", err)
	}
	t.Setenv("CIAM_TEST_MAIL_PASSWORD", "Mailbox-Secret-1")
	tg := openTarget(t, p)
	m, ok := tg.OTP.(*otp.IMAP)
	if !ok {
		t.Fatalf("OTP source: want *otp.IMAP, got %T", tg.OTP)
	}
	if m.Addr != "imap.mail.example.com:993" || m.Username != "qa@mail.example.com" || m.Password.Reveal() != "Mailbox-Secret-1" ||
		m.CodeLength != 6 || m.Timeout != 45*time.Second || m.AfterUse != otp.AfterUseDelete || m.Pattern == nil || m.Mailbox != "INBOX" {
		t.Errorf("IMAP source: got %+v", m)
	}
	if strings.Contains(fmt.Sprintf("%+v %#v", m, m), "Mailbox-Secret-1") {
		t.Error("printing the source shows the mailbox password")
	}
	// The profile (what is hashed into records) names the variables,
	// never the login.
	b, err := json.Marshal(tg.Profile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Mailbox-Secret-1") || !strings.Contains(string(b), "CIAM_TEST_MAIL_PASSWORD") {
		t.Errorf("profile JSON: want the variable's name and not the password, got %s", b)
	}
}

// End to end through Open: the embedded emulator as a passcode tenant
// (6-digit codes) whose mails reach a test mailbox; the imap source that
// Open builds from the profile finds each code, the API accepts it, and a
// second code for the same user after a resend is the new one.
func TestIMAPSourceSignUpAgainstEmulator(t *testing.T) {
	mail := otptest.StartMailServer(t, otptest.Plain, "qa@mail.example.com", "Mailbox-Secret-1")
	t.Setenv("CIAM_TEST_MAIL_USER", "qa@mail.example.com")
	t.Setenv("CIAM_TEST_MAIL_PASSWORD", "Mailbox-Secret-1")
	dir := t.TempDir()
	tenant, err := os.ReadFile("testdata/emulator-otp-tenant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tenant.yaml"), tenant, 0o600); err != nil {
		t.Fatal(err)
	}
	prof := "kind: emulator\nemulator_config: tenant.yaml\nusers: {domain: mail.example.com, local_part: qa}\n" +
		"otp: {source: imap, timeout: 5s, imap: {addr: \"" + mail.Addr + "\", tls: none, username_env: CIAM_TEST_MAIL_USER, password_env: CIAM_TEST_MAIL_PASSWORD, poll_interval: 20ms}}\n"
	if err := os.WriteFile(filepath.Join(dir, "profile.yaml"), []byte(prof), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Load(filepath.Join(dir, "profile.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tg := openTarget(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if tg.Expect.CodeLength != 6 {
		t.Fatalf("the emulator tenant's code length: want 6, got %d", tg.Expect.CodeLength)
	}
	// The tenant "sends" mail: each passcode in the emulator's outbox is
	// delivered to the test mailbox.
	outbox := &otp.Outbox{Backdoor: tg.Backdoor}
	send := func(username string, since time.Time) nativeauth.Secret {
		t.Helper()
		code, err := outbox.Code(ctx, username, since)
		if err != nil {
			t.Fatal(err)
		}
		mail.Deliver(t, "INBOX", otptest.PasscodeMail(username, string(code)), time.Now())
		return code
	}

	// Every request advertises redirect too, as the reference pages require.
	oobRedirect := []nativeauth.ChallengeType{nativeauth.ChallengeTypeOOB, nativeauth.ChallengeTypeRedirect}
	username := tg.Users.New("imap")
	since := time.Now()
	start, err := tg.Client.SignUpStart(ctx, nativeauth.SignUpStartRequest{Username: username, ChallengeTypes: oobRedirect})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := tg.Client.SignUpChallenge(ctx, nativeauth.ChallengeRequest{ContinuationToken: start.ContinuationToken, ChallengeTypes: oobRedirect})
	if err != nil {
		t.Fatal(err)
	}
	first := send(username, since)
	got, err := tg.OTP.Code(ctx, username, since)
	if err != nil || got != first {
		t.Fatalf("first code: want the outbox's, got a match %v (err %v)", got == first, err)
	}

	// A resend: a new code after a new request; the first is used and is
	// not taken again.
	since = time.Now()
	ch2, err := tg.Client.SignUpChallenge(ctx, nativeauth.ChallengeRequest{ContinuationToken: ch.ContinuationToken, ChallengeTypes: oobRedirect})
	if err != nil {
		t.Fatal(err)
	}
	second := send(username, since)
	got, err = tg.OTP.Code(ctx, username, since)
	if err != nil || got != second {
		t.Fatalf("second code: want the new one, got a match %v (err %v)", got == second, err)
	}
	// The code is accepted when the flow moves on: to the attributes this
	// tenant requires next (a wrong code is invalid_grant).
	_, err = tg.Client.SignUpContinue(ctx, nativeauth.SignUpContinueRequest{ContinuationToken: ch2.ContinuationToken, GrantType: nativeauth.GrantTypeOOB, OOB: got})
	var apiErr *nativeauth.Error
	if err != nil && (!errors.As(err, &apiErr) || apiErr.Code != nativeauth.ErrAttributesRequired) {
		t.Fatalf("the API refused the code from the mailbox: %v", err)
	}
	if total, unseen := mail.Counts(t, "INBOX"); total != 2 || unseen != 0 {
		t.Errorf("mailbox: want 2 messages, none unseen; got %d, %d unseen", total, unseen)
	}
}
