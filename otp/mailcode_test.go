package otp

import (
	"regexp"
	"strings"
	"testing"
)

const header = "From: Contoso <no-reply@accounts.example.com>\r\nTo: qa+run1-1@mail.example.com\r\nSubject: Your code\r\nMIME-Version: 1.0\r\n"

// htmlPasscodeMail is shaped like a tenant's passcode email: multipart,
// quoted-printable HTML with a style block, digits in the footer.
const htmlPasscodeMail = header + `Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<html><head><style>td { width: 20260101px; }</style></head><body>
<table><tr><td style=3D"font-size:24px">Account verification code:</td></tr>
<tr><td><span>8765</span>=
<span>4321</span></td></tr><tr><td>=C2=A9 2026 Contoso &#8226; 98052 Redmond</td></tr>
<tr><td><b>12345678</b></td></tr></table>
<script>var x =3D 99999999;</script>
</body></html>
--b1--
`

func TestExtractCode(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		pattern string
		length  int
		want    string // "" means none
	}{
		{"plain text", header + "Content-Type: text/plain\r\n\r\nYour code is 12345678.\r\n", "", 8, "12345678"},
		{"no content type is plain text", header + "\r\nCode: 12345678\r\n", "", 8, "12345678"},
		{"a longer digit run is not a code", header + "\r\nOrder 123456789012, code 87654321\r\n", "", 8, "87654321"},
		{"a shorter run is not a code", header + "\r\nIn 2026 at 98052: no code\r\n", "", 8, ""},
		{"quoted-printable plain", header + "Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCode=3A 1234=\r\n5678\r\n", "", 8, "12345678"},
		{"base64 plain", header + "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nWW91ciBjb2RlOiAxMjM0NTY3OA==\r\n", "", 8, "12345678"},
		// Cells 8765 and 4321 stay apart; the style and script digits are
		// not text.
		{"HTML, quoted-printable, multipart", htmlPasscodeMail, "", 8, "12345678"},
		{"plain part before HTML part", header + "Content-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\nContent-Type: text/html\r\n\r\n<p>11112222</p>\r\n--x\r\nContent-Type: text/plain\r\n\r\n33334444\r\n--x--\r\n", "", 8, "33334444"},
		{"attachment digits are not read", header + "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: application/pdf\r\n\r\n12345678\r\n--x--\r\n", "", 8, ""},
		{"code in the subject only", strings.Replace(header, "Subject: Your code", "Subject: 24681357 is your code", 1) + "\r\nSee subject.\r\n", "", 8, "24681357"},
		{"unknown charset still read", header + "Content-Type: text/plain; charset=x-klingon\r\n\r\ncode 12345678\r\n", "", 8, "12345678"},
		{"profile pattern with a group", header + "\r\nref 11111111 code: 22222222\r\n", `code: ([0-9]+)`, 8, "22222222"},
		{"profile pattern without a group", header + "\r\nabc-123456\r\n", `[0-9]{6}`, 6, "123456"},
		{"pattern match of the wrong length is refused", header + "\r\ncode: 1234567\r\n", `code: ([0-9]+)`, 8, ""},
		{"six-digit tenant", header + "\r\nYour code: 135790\r\n", "", 6, "135790"},
		{"unknown length takes 6 to 8 digits", header + "\r\nIn 2026: 1357902\r\n", "", 0, "1357902"},
		{"not a message", "12345678", "", 8, "12345678"},
		{"empty", "", "", 8, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var re *regexp.Regexp
			if tc.pattern != "" {
				var err error
				if re, err = CompileCodePattern(tc.pattern); err != nil {
					t.Fatal(err)
				}
			}
			got, ok := ExtractCode([]byte(tc.raw), re, tc.length)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("code: want %q, got %q (ok %v)", tc.want, got, ok)
			}
		})
	}
}

func TestAddressedTo(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"To: qa+run1-1@mail.example.com\r\n\r\n", true},
		{"To: \"QA\" <QA+Run1-1@Mail.Example.com>, other@example.com\r\n\r\n", true},
		{"To: list@example.com\r\nCc: qa+run1-1@mail.example.com\r\n\r\n", true},
		{"Delivered-To: qa+run1-1@mail.example.com\r\nTo: undisclosed-recipients:;\r\n\r\n", true},
		{"X-Original-To: <qa+run1-1@mail.example.com>\r\n\r\n", true},
		{"To: qa+run1-11@mail.example.com\r\n\r\n", false},
		{"To: xqa+run1-1@mail.example.com\r\n\r\n", false},
		{"Subject: qa+run1-1@mail.example.com\r\n\r\n", false},
		{"\r\n", false},
	}
	for _, tc := range tests {
		if got := addressedTo([]byte(tc.header), "qa+run1-1@mail.example.com"); got != tc.want {
			t.Errorf("addressedTo(%q): want %v, got %v", tc.header, tc.want, got)
		}
	}
}

// FuzzExtractCode: whatever a mailbox holds, extraction returns a valid code
// of the asked length (or nothing) and does not panic.
func FuzzExtractCode(f *testing.F) {
	f.Add([]byte(htmlPasscodeMail), 8)
	f.Add([]byte(header+"Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCode=3A 1234=\r\n5678=\r\n"), 8)
	f.Add([]byte(header+"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nWW91ciBjb2RlOiAxMjM0NTY3OA"), 8)
	f.Add([]byte(header+"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/alternative; boundary=y\r\n\r\n--y\r\n\r\n123456\r\n--y--\r\n--x--"), 6)
	f.Add([]byte("Subject: =?utf-8?q?code_12345678?=\r\n\r\n<html><body>&#49;2345678</body>"), 0)
	f.Fuzz(func(t *testing.T, raw []byte, length int) {
		if length > 12 || length < 0 {
			length %= 13
			if length < 0 {
				length = -length
			}
		}
		code, ok := ExtractCode(raw, nil, length)
		if !ok {
			if code != "" {
				t.Fatalf("no code, but returned %q", code)
			}
			return
		}
		if err := ValidateCode(code, length); err != nil {
			t.Fatalf("returned an invalid code %q: %v", code, err)
		}
		if length == 0 && (len(code) < 6 || len(code) > 8) {
			t.Fatalf("unknown length: want 6 to 8 digits, got %q", code)
		}
	})
}
