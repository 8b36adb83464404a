package scenarios

import (
	"strings"
	"testing"
)

func TestNewPassword(t *testing.T) {
	tests := []struct {
		name    string
		p       PasswordPolicy
		wantLen int
		wantErr bool
	}{
		{"zero policy", PasswordPolicy{}, 16, false},
		{"entra default", PasswordPolicy{MinLength: 8, MaxLength: 256, Banned: []string{"password", "contoso"}}, 16, false},
		{"long minimum", PasswordPolicy{MinLength: 40, MaxLength: 256}, 40, false},
		{"tight maximum", PasswordPolicy{MinLength: 8, MaxLength: 12}, 12, false},
		{"maximum below 12", PasswordPolicy{MinLength: 6, MaxLength: 10}, 10, false},
		{"impossible", PasswordPolicy{MaxLength: 3}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 {
				pw, err := NewPassword(tt.p)
				if tt.wantErr {
					if err == nil {
						t.Fatal("want an error")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(pw) != tt.wantLen {
					t.Fatalf("length %d, want %d", len(pw), tt.wantLen)
				}
				for _, class := range []string{lowers, uppers, digits, symbols} {
					if !strings.ContainsAny(pw, class) {
						t.Fatalf("password lacks a class from %q", class)
					}
				}
				if containsBanned(pw, tt.p.Banned) {
					t.Fatal("password contains a banned word")
				}
			}
		})
	}
}

func TestNewPasswordAvoidsBanned(t *testing.T) {
	// Every lower-case letter banned except in an upper/other mix: no
	// password can avoid "a"... so the generator must give up, not loop.
	var banned []string
	for _, c := range lowers {
		banned = append(banned, string(c))
	}
	if _, err := NewPassword(PasswordPolicy{Banned: banned}); err == nil {
		t.Fatal("want an error when every password is banned")
	}
}

func TestPasswordsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		pw, err := NewPassword(PasswordPolicy{})
		if err != nil {
			t.Fatal(err)
		}
		if seen[pw] {
			t.Fatal("the same password twice")
		}
		seen[pw] = true
	}
}
