package reports

import (
	"strings"
	"testing"
)

func TestSourceLink(t *testing.T) {
	long := "If the request is successful, the app receives a continuation token and the challenge type that it has to use in the next step of the flow."
	for name, tc := range map[string]struct {
		base, page, section, quote, want string
	}{
		"quote":         {"", "native-auth-email-password-api", "Sign-up API reference / Step 1", "Sign-up start, success", "../shared/spec/native-auth-email-password-api.txt#:~:text=Sign%2Dup%20start%2C%20success"},
		"section only":  {"https://example.test/spec", "signup-error-codes", "Error codes / 50181", "", "https://example.test/spec/signup-error-codes.txt#:~:text=50181"},
		"base with /":   {"spec/", "p.md", "", "", "spec/p.md"},
		"ampersand":     {"", "p", "A & B", "", "../shared/spec/p.txt#:~:text=A%20%26%20B"},
		"no page":       {"", "", "S", "Q", ""},
		"long quote":    {"x", "p", "", long, "x/p.txt#:~:text=If%20the%20request%20is%20successful%2C%20the%20app%20receives%20a%20continuation%20token%20and%20the"},
		"spaces folded": {"x", "p", "", "a\n  b", "x/p.txt#:~:text=a%20b"},
	} {
		if got := SourceLink(tc.base, tc.page, tc.section, tc.quote); got != tc.want {
			t.Errorf("%s:\n want %s\n got  %s", name, tc.want, got)
		}
	}
	if got := firstWords(strings.Repeat("é", 60), 81); !strings.HasPrefix(strings.Repeat("é", 60), got) || len(got) > 81 {
		t.Errorf("firstWords cut a rune: %q", got)
	}
}
