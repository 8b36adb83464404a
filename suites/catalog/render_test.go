package catalog

import (
	"bytes"
	"strings"
	"testing"
)

func TestExpectSummary(t *testing.T) {
	tests := []struct{ id, want string }{
		{"signup.start.success", "200 success"},
		{"signup.start.redirect", "200 redirect"},
		{"signup.start.error.invalid_grant.password_too_weak", "400 invalid_grant/password_too_weak"},
		{"signup.challenge.error.invalid_grant", "400 invalid_grant |invalid_request"},
		{"sspr.poll_completion.status.in_progress", "200 status=in_progress"},
		{"protocol.no_cors", "any no Access-Control-*"},
		{"protocol.content_type_json", "any Content-Type: application/json"},
		{"codes.50181", "400 invalid_grant/invalid_oob_value"},
		{"codes.1002013", "any never error_codes 1002013"},
	}
	for _, tt := range tests {
		e, ok := ByID(tt.id)
		if !ok {
			t.Fatalf("no entry %s", tt.id)
		}
		if got := ExpectSummary(e); got != tt.want {
			t.Errorf("ExpectSummary(%s) = %q, want %q", tt.id, got, tt.want)
		}
	}
}

func TestWriteEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, nil); err != nil || strings.TrimSpace(b.String()) != "[]" {
		t.Errorf("WriteJSON(nil) = %q, %v; want []", b.String(), err)
	}
	b.Reset()
	if err := WriteTable(&b, nil); err != nil || !strings.Contains(b.String(), "\n0 entries\n") || !strings.Contains(b.String(), "0 normative, 0 inferred") {
		t.Errorf("WriteTable(nil) = %q, %v", b.String(), err)
	}
}
