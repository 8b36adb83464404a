package otp

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestValidateCode(t *testing.T) {
	tests := []struct {
		name   string
		code   string
		length int
		ok     bool
	}{
		{"exact length", "12345678", 8, true},
		{"any length 6", "123456", 0, true},
		{"too short for expected", "1234567", 8, false},
		{"too long for expected", "123456789", 8, false},
		{"letters", "1234abcd", 8, false},
		{"space inside", "1234 678", 8, false},
		{"empty", "", 0, false},
		{"below floor without length", "123", 0, false},
		{"above ceiling without length", "1234567890123", 0, false},
		{"non-ascii digits", "١٢٣٤٥٦٧٨", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateCode(tt.code, tt.length)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateCode(%q, %d) = %v, want ok=%v", tt.code, tt.length, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidCode) {
				t.Errorf("error %v does not wrap ErrInvalidCode", err)
			}
		})
	}
}

func FuzzValidateCode(f *testing.F) {
	f.Add("12345678", 8)
	f.Add("abc", 0)
	f.Add("", 3)
	f.Fuzz(func(t *testing.T, code string, length int) {
		err := ValidateCode(code, length)
		if err != nil {
			if !errors.Is(err, ErrInvalidCode) {
				t.Fatalf("error does not wrap ErrInvalidCode: %v", err)
			}
			// A code is digits; the message may only quote lengths, which
			// could coincide with a short digit string.
			if len(code) >= 4 && allDigits(code) && !strings.Contains(strconv.Itoa(length), code) &&
				!strings.Contains(strconv.Itoa(len(code)), code) && strings.Contains(err.Error(), code) {
				t.Fatalf("error message leaks the code: %v", err)
			}
			return
		}
		for _, c := range code {
			if c < '0' || c > '9' {
				t.Fatalf("accepted %q with a non-digit", code)
			}
		}
		if length > 0 && len(code) != length {
			t.Fatalf("accepted %q for length %d", code, length)
		}
	})
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
