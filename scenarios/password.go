package scenarios

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
)

// PasswordPolicy is what generated passwords must satisfy: the tenant's
// expected policy.
type PasswordPolicy struct {
	MinLength, MaxLength int
	Banned               []string
}

const (
	lowers  = "abcdefghijkmnopqrstuvwxyz" // no l: unambiguous in reports
	uppers  = "ABCDEFGHJKLMNPQRSTUVWXYZ"  // no I, O
	digits  = "23456789"
	symbols = "!#%*+-=?@^_~"
)

// NewPassword returns a random password with all four character classes,
// at least 12 characters (more if the policy's minimum is higher, never
// above its maximum) and none of the banned words.
func NewPassword(p PasswordPolicy) (string, error) {
	n := max(16, p.MinLength)
	if p.MaxLength > 0 && n > p.MaxLength {
		n = p.MaxLength
	}
	if n < 12 && (p.MaxLength == 0 || p.MaxLength >= 12) {
		n = 12
	}
	if n < 4 {
		return "", fmt.Errorf("password policy allows at most %d characters; four classes need 4", n)
	}
	for range 100 {
		pw, err := randomPassword(n)
		if err != nil {
			return "", err
		}
		if !containsBanned(pw, p.Banned) {
			return pw, nil
		}
	}
	return "", fmt.Errorf("no password of %d characters avoids the banned words", n)
}

func containsBanned(pw string, banned []string) bool {
	low := strings.ToLower(pw)
	for _, w := range banned {
		if w != "" && strings.Contains(low, strings.ToLower(w)) {
			return true
		}
	}
	return false
}

func randomPassword(n int) (string, error) {
	classes := []string{lowers, uppers, digits, symbols}
	all := strings.Join(classes, "")
	b := make([]byte, n)
	for i := range b {
		set := all
		if i < len(classes) {
			set = classes[i] // one of each class first; shuffled below
		}
		c, err := pick(set)
		if err != nil {
			return "", err
		}
		b[i] = c
	}
	for i := n - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", fmt.Errorf("password: %w", err)
		}
		b[i], b[j.Int64()] = b[j.Int64()], b[i]
	}
	return string(b), nil
}

func pick(set string) (byte, error) {
	i, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
	if err != nil {
		return 0, fmt.Errorf("password: %w", err)
	}
	return set[i.Int64()], nil
}
