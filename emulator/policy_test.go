package emulator

import (
	"maps"
	"strings"
	"testing"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

func TestCheckPassword(t *testing.T) {
	p := DefaultConfig().PasswordPolicy
	banned := []string{"password", "contoso"}
	cases := []struct {
		name, pw string
		want     nativeauth.Suberror
	}{
		{"ok three classes", "Abcdefg1", ""},
		{"ok four classes", "Abc!efg1", ""},
		{"ok with space", "Ab c1 def", ""},
		{"too short", "Ab1!xyz", nativeauth.SuberrorPasswordTooShort},
		{"empty is too short", "", nativeauth.SuberrorPasswordTooShort},
		{"max length ok", "Aa1" + strings.Repeat("x", 253), ""},
		{"too long", "Aa1" + strings.Repeat("x", 254), nativeauth.SuberrorPasswordTooLong},
		{"two classes is weak", "abcdefgh1", nativeauth.SuberrorPasswordTooWeak},
		{"one class is weak", "abcdefghij", nativeauth.SuberrorPasswordTooWeak},
		{"banned word", "MyPassword1!", nativeauth.SuberrorPasswordBanned},
		{"banned case-insensitive", "xxCONTOSO1!", nativeauth.SuberrorPasswordBanned},
		{"control char", "Abcdefg1\x00", nativeauth.SuberrorPasswordIsInvalid},
		{"tab", "Abc\tdefg1", nativeauth.SuberrorPasswordIsInvalid},
		{"non-ascii", "Abcdéfg1!", nativeauth.SuberrorPasswordIsInvalid},
		{"emoji", "Abcdefg1😀", nativeauth.SuberrorPasswordIsInvalid},
		{"del", "Abcdefg1\x7f", nativeauth.SuberrorPasswordIsInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := checkPassword(p, banned, c.pw); got != c.want {
				t.Errorf("checkPassword(%q) = %q, want %q", c.pw, got, c.want)
			}
		})
	}
}

func TestRecentlyUsed(t *testing.T) {
	u := user{hasPassword: true}
	u.hash = hashPassword(u.salt[:], "Current1!")
	u.history = []passwordHash{hashPassword(u.salt[:], "Prev1one!"), hashPassword(u.salt[:], "Prev2two!"), hashPassword(u.salt[:], "Prev3three!")}
	cases := []struct {
		pw      string
		history int
		want    bool
	}{
		{"Current1!", 3, true},
		{"Prev1one!", 3, true},
		{"Prev2two!", 3, true},
		{"Prev3three!", 3, false}, // fourth-newest: outside a history of 3
		{"Brand1new!", 3, false},
		{"Current1!", 0, false}, // no history rule
		{"Prev1one!", 1, false}, // history 1 covers only the current password
	}
	for _, c := range cases {
		if got := recentlyUsed(u, c.pw, c.history); got != c.want {
			t.Errorf("recentlyUsed(%q, %d) = %v, want %v", c.pw, c.history, got, c.want)
		}
	}
}

func TestParseChallengeTypes(t *testing.T) {
	cases := []struct {
		in      string
		want    challengeSet
		wantErr nativeauth.ErrorCode
	}{
		{"oob password redirect", chOOB | chPassword | chRedirect, ""},
		{"  redirect   oob ", chOOB | chRedirect, ""},
		{"redirect", chRedirect, ""},
		{"oob password", 0, nativeauth.ErrUnsupportedChallengeType},
		{"oob sms redirect", 0, nativeauth.ErrInvalidRequest},
		{"", 0, nativeauth.ErrInvalidRequest},
		{"OOB redirect", 0, nativeauth.ErrInvalidRequest}, // values are case-sensitive
	}
	for _, c := range cases {
		got, ae := parseChallengeTypes(c.in)
		var gotErr nativeauth.ErrorCode
		if ae != nil {
			gotErr = ae.Error
		}
		if got != c.want || gotErr != c.wantErr {
			t.Errorf("parseChallengeTypes(%q) = %b, %q; want %b, %q", c.in, got, gotErr, c.want, c.wantErr)
		}
	}
}

func TestParseAttributes(t *testing.T) {
	cases := []struct {
		in   string
		want map[string]string
		bad  bool
	}{
		{``, nil, false},
		{`{"displayName":"Ada"}`, map[string]string{"displayName": "Ada"}, false},
		{`{"age":30,"ok":true}`, map[string]string{"age": "30", "ok": "true"}, false},
		{`{"a":{"b":1}}`, nil, true},
		{`{"a":[1]}`, nil, true},
		{`{"a":null}`, nil, true},
		{`["a"]`, nil, true},
		{`null`, nil, true},
		{`{"a":`, nil, true},
		{`not json`, nil, true},
	}
	for _, c := range cases {
		got, ae := parseAttributes(c.in)
		if (ae != nil) != c.bad {
			t.Errorf("parseAttributes(%q) error = %v, want bad=%v", c.in, ae, c.bad)
			continue
		}
		if !maps.Equal(got, c.want) {
			t.Errorf("parseAttributes(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestValidUsername(t *testing.T) {
	cases := map[string]bool{
		"a@b.co":                             true,
		"first.last@ex.org":                  true,
		"x+tag@sub.ex.com":                   true,
		"":                                   false,
		"noat.example.com":                   false,
		"@example.com":                       false,
		"a@":                                 false,
		"a@b":                                false,
		"a@b.":                               false,
		"a b@example.com":                    false,
		"a@@example.com":                     false,
		"a@ex..com":                          false,
		"ä@example.com":                      false,
		"a\x00@example.com":                  false,
		strings.Repeat("a", 250) + "@ex.com": false,
	}
	for in, want := range cases {
		if got := validUsername(in); got != want {
			t.Errorf("validUsername(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	cases := map[string]string{
		"contoso-consumer@contoso.com": "c***r@co***.com",
		"a@b.co":                       "a***@b***.co",
	}
	for in, want := range cases {
		if got := maskEmail(in); got != want {
			t.Errorf("maskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewOTP(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		c := newOTP(8)
		if len(c) != 8 || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("newOTP(8) = %q", c)
		}
		seen[c] = true
	}
	if len(seen) < 195 {
		t.Errorf("only %d distinct codes in 200", len(seen))
	}
}
