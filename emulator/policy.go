package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"unicode/utf8"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// newPassword reads the password a call sets (param, required) and holds
// it to the tenant's policy. It answers the error itself and reports
// whether the password may be used.
func (rc *reqCtx) newPassword(param nativeauth.Param) (string, bool) {
	pw := rc.f.get(param)
	if pw == "" {
		rc.fail(errMissing(param))
		return "", false
	}
	if sub := checkPassword(rc.t.cfg.PasswordPolicy, rc.t.banned, pw); sub != "" {
		rc.fail(errPassword(sub))
		return "", false
	}
	return pw, true
}

// checkPassword applies the tenant password policy and returns the suberror
// the pages document for the first rule broken, or "" when the password is
// acceptable. Rules are checked in a fixed order so one password always
// gets the same answer: characters, length, banned words, complexity.
func checkPassword(p backdoor.PasswordPolicy, banned []string, pw string) nativeauth.Suberror {
	// Entra passwords are printable ASCII (letters, digits, symbols, space);
	// control characters and anything non-ASCII are refused outright.
	for i := 0; i < len(pw); i++ {
		if c := pw[i]; c < 0x20 || c > 0x7e {
			return nativeauth.SuberrorPasswordIsInvalid
		}
	}
	n := utf8.RuneCountInString(pw)
	if n < p.MinLength {
		return nativeauth.SuberrorPasswordTooShort
	}
	if n > p.MaxLength {
		return nativeauth.SuberrorPasswordTooLong
	}
	lower := strings.ToLower(pw)
	for _, w := range banned {
		if strings.Contains(lower, w) {
			return nativeauth.SuberrorPasswordBanned
		}
	}
	if characterClasses(pw) < p.MinCharacterClasses {
		return nativeauth.SuberrorPasswordTooWeak
	}
	return ""
}

// characterClasses counts which of lower case, upper case, digits and
// symbols the (ASCII) password uses.
func characterClasses(pw string) int {
	var lower, upper, digit, symbol int
	for i := 0; i < len(pw); i++ {
		switch c := pw[i]; {
		case c >= 'a' && c <= 'z':
			lower = 1
		case c >= 'A' && c <= 'Z':
			upper = 1
		case c >= '0' && c <= '9':
			digit = 1
		default:
			symbol = 1
		}
	}
	return lower + upper + digit + symbol
}

// passwordHash is a salted SHA-256 of a password. The emulator is a test
// double, so a fast hash keeps load tests measuring the protocol rather
// than a KDF; it still never stores the plain password of a user.
type passwordHash [sha256.Size]byte

func hashPassword(salt []byte, pw string) passwordHash {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(pw))
	var out passwordHash
	h.Sum(out[:0])
	return out
}

func (h passwordHash) equal(o passwordHash) bool {
	return subtle.ConstantTimeCompare(h[:], o[:]) == 1
}
