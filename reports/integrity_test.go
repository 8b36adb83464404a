package reports

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ciamcheck/ciamcheck/reports/attest"
)

func isSealError(err error) bool {
	for _, e := range []error{ErrTampered, ErrUnsealed, ErrDowngrade, ErrWrongKey, ErrNoRecordKey, ErrNoPublicKey, ErrUnsupportedSeal} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// TestCanonicalJSONRFC8785 runs the examples of RFC 8785 (sections 3.2.2
// and 3.2.3) through the record canonicalization, with an integrity member
// that must be left out.
func TestCanonicalJSONRFC8785(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"3.2.2 values", `{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false],
  "integrity": {"algorithm": "sha256", "digest": "00"}
}`, `{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`},
		// Sorted by UTF-16 code units: U+FB33 after the emoji's surrogates,
		// where UTF-8 byte order (encoding/json's) puts it before.
		{"3.2.3 sorting", `{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}`, "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\",\"\U0001F600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}"},
		{"HTML characters are not escaped", `{"b":"<a&b>","a":1}`, `{"a":1,"b":"<a&b>"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := canonicalJSON([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("canonical form:\nwant %s\ngot  %s", tt.want, got)
			}
		})
	}
	for name, in := range map[string]string{
		"duplicate member":      `{"a":1,"a":2}`,
		"nested duplicate":      `{"a":{"b":1,"b":1}}`,
		"integer beyond 2^53":   `{"count":9007199254740993}`,
		"negative beyond 2^53":  `{"count":-9007199254740993}`,
		"invalid UTF-8":         "{\"a\":\"\xff\"}",
		"not an object":         `[1]`,
		"trailing garbage":      `{"a":1} x`,
		"lone surrogate escape": `{"a":"\ud800"}`,
	} {
		if _, err := canonicalJSON([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := canonicalJSON([]byte(`{"count":9007199254740992,"mean":12345678901234567890.5}`)); err != nil {
		t.Fatalf("2^53 and a float are exact enough: %v", err)
	}
}

// sealedBytes writes r sealed with keys, as a record file.
func sealedBytes(t *testing.T, r *Record, keys SealKeys) []byte {
	t.Helper()
	if err := SealWith(r, keys); err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// forge flips the failed entry to passed and re-seals with keys, as an
// editor holding those keys would.
func forge(t *testing.T, b []byte, keys SealKeys) []byte {
	t.Helper()
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	flipped := false
	for i, e := range r.Conformance.Entries {
		if e.Outcome == OutcomeFailed {
			r.Conformance.Entries[i].Outcome, r.Conformance.Entries[i].Reason = OutcomePassed, ""
			flipped = true
		}
	}
	if !flipped {
		t.Fatal("fixture has no failed entry")
	}
	if keys.HMAC == nil && keys.Signing == nil {
		return sealedBytes(t, &r, SealKeys{})
	}
	return sealedBytes(t, &r, keys)
}

func withIntegrity(t *testing.T, b []byte, f func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	integ, _ := m["integrity"].(map[string]any)
	f(integ)
	if integ == nil {
		delete(m, "integrity")
	}
	out, _ := json.Marshal(m)
	return out
}

func newKey(t testing.TB) (ed25519.PrivateKey, ed25519.PublicKey) {
	t.Helper()
	privPEM, pubPEM, err := attest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := attest.ParsePrivateKey(privPEM)
	pub, _ := attest.ParsePublicKey(pubPEM)
	return priv, pub
}

// TestVerifyRefusesDowngrades: what the reader asks for (an HMAC key, a
// public key) is what a record must prove; an unsealed record, a weaker
// seal, another key, or a forged re-seal is refused, never "verified".
func TestVerifyRefusesDowngrades(t *testing.T) {
	priv, pub := newKey(t)
	otherPriv, otherPub := newKey(t)
	hmacKey := []byte("k1")
	digest := sealedBytes(t, conformanceRecord(), SealKeys{})
	hmacd := sealedBytes(t, conformanceRecord(), SealKeys{HMAC: hmacKey})
	signed := sealedBytes(t, conformanceRecord(), SealKeys{Signing: priv})
	unsealed := withIntegrity(t, signed, func(m map[string]any) { clear(m) })
	unsealed = bytes.Replace(unsealed, []byte(`,"integrity":{}`), nil, 1)

	none, byHMAC, byKey := Trust{}, Trust{HMACKey: hmacKey}, Trust{PublicKey: pub}
	tests := []struct {
		name    string
		raw     []byte
		trust   Trust
		wantErr error  // nil: accepted
		status  string // in IntegrityStatus
	}{
		{"digest, nothing asked", digest, none, nil, "digest only — not evidence"},
		{"forged digest, nothing asked", forge(t, digest, SealKeys{}), none, nil, "digest only — not evidence"},
		{"digest, HMAC asked", digest, byHMAC, ErrDowngrade, "REFUSED: run record is sealed with a weaker mode than asked for: sealed with sha256, CIAMCHECK_RECORD_KEY asks for hmac-sha256"},
		{"unsealed, HMAC asked", unsealed, byHMAC, ErrUnsealed, "REFUSED: run record is not sealed: CIAMCHECK_RECORD_KEY asks for hmac-sha256"},
		{"unsealed, nothing asked", unsealed, none, nil, "NOT SEALED"},
		{"HMAC, HMAC asked", hmacd, byHMAC, nil, "verified hmac-sha256"},
		{"HMAC edited and re-sealed as sha256", forge(t, hmacd, SealKeys{}), byHMAC, ErrDowngrade, "REFUSED"},
		{"HMAC with another key", hmacd, Trust{HMACKey: []byte("k2")}, ErrTampered, "TAMPERED"},
		{"HMAC, nothing asked", hmacd, none, nil, "HMAC-signed, NOT VERIFIED"},
		{"HMAC, public key asked", hmacd, byKey, ErrDowngrade, "sealed with hmac-sha256, the public key " + attest.KeyID(pub) + " asks for ed25519"},
		{"digest, public key asked", digest, byKey, ErrDowngrade, "REFUSED"},
		{"unsealed, public key asked", unsealed, byKey, ErrUnsealed, "REFUSED"},
		{"signed, public key asked", signed, byKey, nil, "verified Ed25519 signature by " + attest.KeyID(pub)},
		{"signed, HMAC asked", signed, byHMAC, ErrNoPublicKey, "signature NOT CHECKED"},
		{"signed, nothing asked", signed, none, nil, "signature NOT CHECKED"},
		{"signed, another public key", signed, Trust{PublicKey: otherPub}, ErrWrongKey, "key_id: want " + attest.KeyID(otherPub) + ", got " + attest.KeyID(pub)},
		{"signed, edited and re-signed by another key", forge(t, signed, SealKeys{Signing: otherPriv}), byKey, ErrWrongKey, "REFUSED"},
		{"signed, edited, digest recomputed", withIntegrity(t, forge(t, signed, SealKeys{}), func(m map[string]any) {
			var s Record
			_ = json.Unmarshal(signed, &s)
			m["algorithm"], m["key_id"], m["signature"] = AlgEd25519, s.Integrity.KeyID, s.Integrity.Signature
		}), byKey, ErrTampered, "TAMPERED"},
		{"signature removed, algorithm kept", withIntegrity(t, signed, func(m map[string]any) { delete(m, "signature") }), byKey, ErrTampered, "TAMPERED"},
		{"signed downgraded to its digest", withIntegrity(t, signed, func(m map[string]any) {
			m["algorithm"] = AlgSHA256
			delete(m, "signature")
			delete(m, "key_id")
		}), byKey, ErrDowngrade, "REFUSED"},
		{"signed without canonicalization", withIntegrity(t, signed, func(m map[string]any) { delete(m, "canonicalization") }), byKey, ErrTampered, "TAMPERED"},
		{"unknown algorithm", withIntegrity(t, signed, func(m map[string]any) { m["algorithm"] = "md5" }), none, ErrUnsupportedSeal, "NOT VERIFIED"},
		{"flipped byte, nothing asked", bytes.Replace(signed, []byte("contoso"), []byte("contosp"), 1), none, ErrTampered, "TAMPERED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := UnmarshalTrust(tt.raw, tt.trust)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("error: want %v, got %v", tt.wantErr, err)
			}
			if r == nil {
				t.Fatal("the record must come back with its verdict")
			}
			status := IntegrityStatus(r, err)
			if !strings.Contains(status, tt.status) {
				t.Fatalf("status: want %q in %q", tt.status, status)
			}
			if tt.wantErr != nil && strings.HasPrefix(status, "verified") || strings.HasPrefix(status, "verified") && tt.trust.wants() == "" && r.Integrity.Algorithm != AlgHMACSHA256 {
				t.Fatalf("status says verified: %q", status)
			}
		})
	}
}

func TestSealFromEnv(t *testing.T) {
	privPEM, pubPEM, err := attest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := attest.ParsePublicKey(pubPEM)
	t.Setenv(RecordKeyEnv, "k1")
	t.Setenv(attest.SigningKeyEnv, string(privPEM))
	b := mustMarshal(t, conformanceRecord())
	r, err := UnmarshalTrust(b, Trust{PublicKey: pub})
	if err != nil || r.Integrity.Algorithm != AlgEd25519 {
		t.Fatalf("the signing key wins over the HMAC key: %v %+v", err, r.Integrity)
	}
	if bytes.Contains(b, []byte("PRIVATE KEY")) || bytes.Contains(b, []byte(strings.Split(string(privPEM), "\n")[1])) {
		t.Fatal("the private key reached the record")
	}
	t.Setenv(attest.SigningKeyEnv, "garbage")
	if _, err := Marshal(conformanceRecord()); err == nil || !strings.Contains(err.Error(), attest.SigningKeyEnv) {
		t.Fatalf("a bad signing key must fail the write, naming the variable: %v", err)
	}
}

// FuzzVerifySignedRecord: whatever a verification with the public key
// accepts has exactly the content that was signed; it never panics.
func FuzzVerifySignedRecord(f *testing.F) {
	priv, pub := newKey(f)
	r := conformanceRecord()
	if err := SealWith(r, SealKeys{Signing: priv}); err != nil {
		f.Fatal(err)
	}
	signed, _ := json.Marshal(r)
	want, err := canonicalJSON(signed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add(bytes.Replace(signed, []byte(`"ed25519"`), []byte(`"sha256"`), 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := UnmarshalTrust(b, Trust{PublicKey: pub}); err != nil {
			return
		}
		got, err := canonicalJSON(b)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("accepted other content:\n%s", got)
		}
	})
}
