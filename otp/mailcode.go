package otp

import (
	"bytes"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strings"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"golang.org/x/net/html"
)

// maxPartBytes bounds what is read of one decoded text part of an email.
const maxPartBytes = 1 << 20

// maxCandidates bounds the matches tried per text: a body full of digit runs
// must not cost more than a normal one.
const maxCandidates = 64

// DefaultCodePattern matches a passcode of length digits: a run of exactly
// length digits, not part of a longer run (so a 12-digit order number does
// not yield an 8-digit code). With length 0 (unknown) it takes a run of 6 to
// 8 digits, the lengths tenants send.
func DefaultCodePattern(length int) *regexp.Regexp {
	run := "{6,8}"
	if length > 0 {
		run = fmt.Sprintf("{%d}", length)
	}
	return regexp.MustCompile(`(?:^|[^0-9])([0-9]` + run + `)(?:[^0-9]|$)`)
}

// CompileCodePattern compiles a profile's code pattern: the code is the
// first capture group, or the whole match when the pattern has none.
func CompileCodePattern(expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("code pattern: %w", err)
	}
	return re, nil
}

// ExtractCode finds the passcode in a raw RFC 5322 message: in its text
// parts first (plain before HTML, transfer encodings decoded, HTML reduced
// to its text), then in its subject. A candidate must pass ValidateCode for
// length. The message is untrusted: whatever it holds, ExtractCode returns
// a valid code or false.
func ExtractCode(raw []byte, pattern *regexp.Regexp, length int) (string, bool) {
	if pattern == nil {
		pattern = DefaultCodePattern(length)
	}
	texts, subject := messageTexts(raw)
	for _, t := range append(texts, subject) {
		if code, ok := findCode(t, pattern, length); ok {
			return code, true
		}
	}
	return "", false
}

// findCode returns the first match of pattern in text that is a valid code.
func findCode(text string, pattern *regexp.Regexp, length int) (string, bool) {
	for _, m := range pattern.FindAllStringSubmatch(text, maxCandidates) {
		code := m[0]
		if len(m) > 1 {
			code = m[1]
		}
		code = strings.TrimSpace(code)
		if ValidateCode(code, length) == nil {
			return code, true
		}
	}
	return "", false
}

// messageTexts returns the decoded text of a message's text/plain parts,
// then of its text/html parts, and its decoded subject. A part that cannot
// be decoded (unknown charset, broken encoding) is read as it is: digits
// are ASCII in every charset a tenant's mail uses.
func messageTexts(raw []byte) (texts []string, subject string) {
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		// Not even a header: take the bytes as plain text.
		_ = err
		return []string{string(raw)}, ""
	}
	h := gomail.Header{Header: e.Header}
	if s, err := h.Subject(); err == nil {
		subject = s
	} else {
		subject = h.Get("Subject")
	}
	var plain, htmls []string
	_ = e.Walk(func(_ []int, part *message.Entity, _ error) error {
		if part == nil {
			return nil
		}
		t, _, err := part.Header.ContentType()
		if err != nil || t == "" {
			t = "text/plain" // RFC 2045 5.2: the default
		}
		if !strings.HasPrefix(t, "text/") { // multipart parts are walked into
			return nil
		}
		b, err := io.ReadAll(io.LimitReader(part.Body, maxPartBytes))
		if err != nil && len(b) == 0 {
			return nil
		}
		if t == "text/html" {
			htmls = append(htmls, htmlText(b))
		} else {
			plain = append(plain, string(b))
		}
		return nil
	})
	return append(plain, htmls...), subject
}

// htmlText is the visible text of an HTML document, one space between text
// nodes so that digits in adjacent cells never merge into one run.
func htmlText(b []byte) string {
	z := html.NewTokenizer(bytes.NewReader(b))
	var sb strings.Builder
	skip := 0 // inside <script> or <style>
	for {
		switch z.Next() {
		case html.ErrorToken:
			return sb.String()
		case html.StartTagToken:
			if name, _ := z.TagName(); isHiddenElement(name) {
				skip++
			}
		case html.EndTagToken:
			if name, _ := z.TagName(); isHiddenElement(name) && skip > 0 {
				skip--
			}
		case html.TextToken:
			if skip == 0 {
				sb.Write(z.Text())
				sb.WriteByte(' ')
			}
		}
	}
}

func isHiddenElement(name []byte) bool {
	return string(name) == "script" || string(name) == "style"
}

// addressedTo reports whether the message was sent to username: one of its
// To, Cc, Delivered-To or X-Original-To addresses is username (addresses
// compare case-insensitively; a plus-addressed test user is unique).
func addressedTo(header []byte, username string) bool {
	e, err := message.Read(bytes.NewReader(header))
	if e == nil {
		_ = err
		return false
	}
	h := gomail.Header{Header: e.Header}
	for _, key := range []string{"To", "Cc", "Delivered-To", "X-Original-To"} {
		if list, err := h.AddressList(key); err == nil {
			for _, a := range list {
				if strings.EqualFold(a.Address, username) {
					return true
				}
			}
		}
		// Delivered-To is often a bare address the list parser refuses.
		for _, v := range h.Values(key) {
			if a, err := mail.ParseAddress(strings.TrimSpace(v)); err == nil && strings.EqualFold(a.Address, username) {
				return true
			}
			if strings.EqualFold(strings.Trim(strings.TrimSpace(v), "<>"), username) {
				return true
			}
		}
	}
	return false
}
