package reports

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"

	"github.com/gowebpki/jcs"

	"github.com/ciamcheck/ciamcheck/reports/attest"
)

// RecordKeyEnv names the environment variable holding the HMAC key for run
// records. When it is set, Seal signs with HMAC-SHA256 under that key, and
// reading a record asks for at least that: a record that is unsealed or
// only carries a digest is refused.
const RecordKeyEnv = "CIAMCHECK_RECORD_KEY"

// Integrity algorithms, weakest first. What each proves, and to whom:
//   - sha256: detects accidental changes only; anyone who edits a record
//     can recompute it, so it is never reported as verified.
//   - hmac-sha256: proves the record unchanged to holders of the key, who
//     can also forge it; not evidence for a third party.
//   - ed25519: a signature by a private key (attest.SigningKeyEnv); anyone
//     with the public key can verify it, only the key holder can sign.
const (
	AlgSHA256     = "sha256"
	AlgHMACSHA256 = "hmac-sha256"
	AlgEd25519    = "ed25519"
)

// CanonJCS names the canonical form of records sealed by this version: RFC
// 8785, the JSON Canonicalization Scheme (github.com/gowebpki/jcs). Records
// sealed before carry no canonicalization member and were digested over
// encoding/json's generic re-encoding, which Verify still reproduces for them.
const CanonJCS = "jcs"

// RecordPayloadType is the payload type an Ed25519 record signature is
// bound to (DSSE's pre-authentication encoding), so a record signature can
// never pass for a signature over anything else.
const RecordPayloadType = "application/vnd.ciamcheck.run+json"

// Integrity is the tamper evidence of a record, over the record's canonical
// JSON with the integrity member left out.
type Integrity struct {
	Algorithm        string `json:"algorithm"`
	Canonicalization string `json:"canonicalization,omitempty"`
	// Digest is the lowercase hex SHA-256 (HMAC-SHA256 for hmac-sha256) of
	// the canonical form. An Ed25519 record carries it too, so an accident
	// is detected even by a reader without the public key.
	Digest    string `json:"digest"`
	KeyID     string `json:"key_id,omitempty"`    // ed25519: attest.KeyID of the signing key
	Signature string `json:"signature,omitempty"` // ed25519: base64
}

var (
	// ErrTampered means the record's content does not match its digest or
	// signature.
	ErrTampered = errors.New("run record integrity check failed: the record was modified after it was sealed")
	// ErrUnsealed means the record carries no integrity member.
	ErrUnsealed = errors.New("run record is not sealed")
	// ErrDowngrade means the record is sealed with a weaker mode than the
	// verification asked for.
	ErrDowngrade = errors.New("run record is sealed with a weaker mode than asked for")
	// ErrWrongKey means the record is signed by another key than the one
	// given.
	ErrWrongKey = errors.New("run record is signed by another key")
	// ErrNoRecordKey means the record is signed with HMAC and no key is set.
	ErrNoRecordKey = errors.New("run record is HMAC-signed and " + RecordKeyEnv + " is not set")
	// ErrUnsupportedSeal means the record's seal uses an algorithm or a
	// canonical form this version does not know.
	ErrUnsupportedSeal = errors.New("run record seal is not one this version can check")
	// ErrNoPublicKey means the record is signed with Ed25519 and no public
	// key was given to check the signature.
	ErrNoPublicKey = errors.New("run record is Ed25519-signed and no public key was given (--key)")
)

// Trust is what a verification asks of a record: an HMAC under HMACKey,
// or an Ed25519 signature by PublicKey (the stronger, when both are set).
// The zero Trust asks for nothing: a digest is checked, but nothing is
// "verified".
type Trust struct {
	HMACKey   []byte
	PublicKey ed25519.PublicKey
}

// TrustFromEnv asks for an HMAC under RecordKeyEnv when it is set.
func TrustFromEnv() Trust { return Trust{HMACKey: recordKey()} }

// wants is the weakest algorithm t accepts, "" for none.
func (t Trust) wants() string {
	switch {
	case len(t.PublicKey) > 0:
		return AlgEd25519
	case len(t.HMACKey) > 0:
		return AlgHMACSHA256
	}
	return ""
}

// asked says where t's requirement comes from, for messages.
func (t Trust) asked() string {
	if len(t.PublicKey) > 0 {
		return "the public key " + attest.KeyID(t.PublicKey)
	}
	return RecordKeyEnv
}

func strength(alg string) int {
	switch alg {
	case AlgSHA256:
		return 1
	case AlgHMACSHA256:
		return 2
	case AlgEd25519:
		return 3
	}
	return 0
}

// recordKey is the HMAC key from the environment, nil when unset.
func recordKey() []byte {
	if k := os.Getenv(RecordKeyEnv); k != "" {
		return []byte(k)
	}
	return nil
}

// SealKeys are the keys Seal may use; the strongest one set wins.
type SealKeys struct {
	HMAC    []byte
	Signing ed25519.PrivateKey
}

// Seal sets r.Integrity: an Ed25519 signature when attest.SigningKeyEnv
// holds a private key, else an HMAC when RecordKeyEnv is set, else a plain
// SHA-256 digest.
func Seal(r *Record) error {
	priv, err := attest.LoadSigningKey("")
	if err != nil {
		return fmt.Errorf("seal run record: %w", err)
	}
	return SealWith(r, SealKeys{HMAC: recordKey(), Signing: priv})
}

// CheckSealKeys reports a signing key in the environment that Seal could
// not use, so a run can refuse to start rather than lose its record when
// writing it at the end.
func CheckSealKeys() error {
	if _, err := attest.LoadSigningKey(""); err != nil {
		return fmt.Errorf("seal run record: %w", err)
	}
	return nil
}

// SealWithKey sets r.Integrity: HMAC-SHA256 under key, or SHA-256 when key is
// empty.
func SealWithKey(r *Record, key []byte) error { return SealWith(r, SealKeys{HMAC: key}) }

// SealWith sets r.Integrity with the strongest of keys.
func SealWith(r *Record, keys SealKeys) error {
	if r == nil {
		return errors.New("seal run record: nil record")
	}
	canon, err := canonicalRecord(r)
	if err != nil {
		return fmt.Errorf("seal run record: %w", err)
	}
	integ := &Integrity{Algorithm: AlgSHA256, Canonicalization: CanonJCS, Digest: hexSum(canon)}
	switch {
	case len(keys.Signing) > 0:
		if len(keys.Signing) != ed25519.PrivateKeySize {
			return errors.New("seal run record: malformed Ed25519 key")
		}
		integ.Algorithm = AlgEd25519
		integ.KeyID = attest.KeyID(keys.Signing.Public().(ed25519.PublicKey))
		integ.Signature = base64.StdEncoding.EncodeToString(attest.SignPAE(keys.Signing, RecordPayloadType, canon))
	case len(keys.HMAC) > 0:
		integ.Algorithm = AlgHMACSHA256
		integ.Digest = hex.EncodeToString(hmacSum(keys.HMAC, canon))
	}
	r.Integrity = integ
	r.readChecked, r.readVerdict = false, nil // the verdict of any earlier Read no longer applies
	return nil
}

// Verify checks r.Integrity against r as this version of the package knows
// it, asking for what TrustFromEnv asks. See VerifyRecord.
func Verify(r *Record) error { return VerifyRecord(r, TrustFromEnv()) }

// VerifyWithKey is Verify with an explicit HMAC key.
func VerifyWithKey(r *Record, key []byte) error { return VerifyRecord(r, Trust{HMACKey: key}) }

// VerifyRecord checks r.Integrity against r and what t asks. It returns nil
// when the seal holds and is at least as strong as t asks (with the zero
// Trust, a matching plain digest is nil too: callers must not call that
// "verified"), or an error wrapping ErrTampered, ErrUnsealed, ErrDowngrade,
// ErrWrongKey, ErrNoRecordKey or ErrNoPublicKey. Fields of a newer minor
// schema that this version dropped on reading make it fail; Read checks the
// bytes as written instead, so prefer its verdict for a record read from a
// file.
func VerifyRecord(r *Record, t Trust) error {
	if r == nil {
		return errors.New("verify run record: nil record")
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("verify run record: %w", err)
	}
	return checkIntegrity(r.Integrity, b, t)
}

// checkIntegrity checks integ against the record encoded in raw (whose own
// integrity member is ignored) and what t asks.
func checkIntegrity(integ *Integrity, raw []byte, t Trust) error {
	want := t.wants()
	if integ == nil {
		if want != "" {
			return fmt.Errorf("%w: %s asks for %s", ErrUnsealed, t.asked(), want)
		}
		return ErrUnsealed
	}
	if strength(integ.Algorithm) == 0 {
		return fmt.Errorf("%w: algorithm %q", ErrUnsupportedSeal, integ.Algorithm)
	}
	if strength(integ.Algorithm) < strength(want) {
		return fmt.Errorf("%w: sealed with %s, %s asks for %s", ErrDowngrade, integ.Algorithm, t.asked(), want)
	}
	var canon []byte
	var err error
	switch integ.Canonicalization {
	case CanonJCS:
		canon, err = canonicalJSON(raw)
	case "":
		if integ.Algorithm == AlgEd25519 {
			return fmt.Errorf("%w: an Ed25519 seal without canonicalization %q", ErrTampered, CanonJCS)
		}
		canon, err = legacyCanonicalJSON(raw)
	default:
		return fmt.Errorf("%w: canonicalization %q", ErrUnsupportedSeal, integ.Canonicalization)
	}
	if err != nil {
		// We never write what the canonical form refuses (duplicate
		// members, invalid UTF-8, inexact integers): an editor did.
		return fmt.Errorf("%w: %v", ErrTampered, err)
	}
	got, err := hex.DecodeString(integ.Digest)
	if err != nil {
		return fmt.Errorf("%w: digest is not hex", ErrTampered)
	}
	switch integ.Algorithm {
	case AlgSHA256, AlgEd25519:
		if !hmac.Equal(got, sha256Sum(canon)) {
			return fmt.Errorf("%w: sha256 of the content is not the recorded digest", ErrTampered)
		}
	case AlgHMACSHA256:
		if len(t.HMACKey) == 0 {
			return ErrNoRecordKey
		}
		if !hmac.Equal(got, hmacSum(t.HMACKey, canon)) {
			return fmt.Errorf("%w: the HMAC does not match (or %s is not the key it was signed with)", ErrTampered, RecordKeyEnv)
		}
		return nil
	}
	if integ.Algorithm == AlgSHA256 {
		return nil
	}
	if len(t.PublicKey) == 0 {
		return ErrNoPublicKey
	}
	if want := attest.KeyID(t.PublicKey); integ.KeyID != want {
		return fmt.Errorf("%w: key_id: want %s, got %s", ErrWrongKey, want, integ.KeyID)
	}
	sig, err := base64.StdEncoding.DecodeString(integ.Signature)
	if err != nil || !attest.VerifyPAE(t.PublicKey, RecordPayloadType, canon, sig) {
		return fmt.Errorf("%w: the Ed25519 signature by %s does not match the content", ErrTampered, integ.KeyID)
	}
	return nil
}

// integrityStatus describes integ for a report header, given the verdict
// checkIntegrity returned for it. Only a checked HMAC or signature is
// "verified"; a plain digest never is.
func integrityStatus(integ *Integrity, verdict error) string {
	switch {
	case errors.Is(verdict, ErrTampered):
		return "TAMPERED: the record does not match its " + integ.Algorithm + " seal"
	case integ == nil:
		if verdict != nil && verdict != ErrUnsealed {
			return "REFUSED: " + verdict.Error()
		}
		return "NOT SEALED: no integrity digest, the record cannot be checked"
	case errors.Is(verdict, ErrDowngrade), errors.Is(verdict, ErrWrongKey):
		return "REFUSED: " + verdict.Error()
	case errors.Is(verdict, ErrNoRecordKey):
		return "HMAC-signed, NOT VERIFIED (" + RecordKeyEnv + " not set): " + integ.Digest
	case errors.Is(verdict, ErrNoPublicKey):
		return "Ed25519-signed by " + integ.KeyID + ", signature NOT CHECKED (ciamcheck report verify --key KEY.pub): sha256 " + integ.Digest
	case verdict != nil:
		return "NOT VERIFIED: " + verdict.Error()
	}
	switch integ.Algorithm {
	case AlgSHA256:
		return "digest only — not evidence (detects accidental changes; anyone can recompute it): sha256 " + integ.Digest
	case AlgHMACSHA256:
		return "verified hmac-sha256 under " + RecordKeyEnv + " (proves nothing to whoever lacks the key): " + integ.Digest
	default:
		return "verified Ed25519 signature by " + integ.KeyID
	}
}

func hexSum(b []byte) string { return hex.EncodeToString(sha256Sum(b)) }

func sha256Sum(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}

func hmacSum(key, b []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return m.Sum(nil)
}

// canonicalRecord is the canonical JSON of r without its integrity member.
func canonicalRecord(r *Record) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return canonicalJSON(b)
}

// canonicalJSON is the RFC 8785 form of the JSON object b without its
// top-level "integrity" member. b is refused when it has duplicate member
// names or invalid UTF-8 (which JCS rejects), or an integer JCS cannot carry
// exactly (see checkExactIntegers).
func canonicalJSON(b []byte) ([]byte, error) {
	if _, err := jcs.Transform(b); err != nil {
		return nil, fmt.Errorf("canonical JSON (RFC 8785): %w", err)
	}
	if err := checkExactIntegers(b); err != nil {
		return nil, fmt.Errorf("canonical JSON (RFC 8785): %w", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	delete(top, "integrity")
	m, err := json.Marshal(top)
	if err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	out, err := jcs.Transform(m)
	if err != nil {
		return nil, fmt.Errorf("canonical JSON (RFC 8785): %w", err)
	}
	return out, nil
}

// maxExactInteger is 2^53: RFC 8785 writes numbers as IEEE 754 doubles, so
// two records differing only in an integer beyond it would canonicalize
// alike while a reader decodes them (into int64) differently.
var maxExactInteger = new(big.Int).Lsh(big.NewInt(1), 53)

// checkExactIntegers refuses an integer literal in b beyond ±2^53.
func checkExactIntegers(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		n, ok := tok.(json.Number)
		if !ok || strings.ContainsAny(string(n), ".eE") || len(n) < 16 {
			continue
		}
		v, ok := new(big.Int).SetString(string(n), 10)
		if ok && v.CmpAbs(maxExactInteger) > 0 {
			return fmt.Errorf("integer %s is beyond ±2^53 and cannot be canonicalized exactly", n)
		}
	}
}

// legacyCanonicalJSON is the canonical form of records sealed before JCS:
// the object decoded generically, without its "integrity" member, and
// re-encoded by encoding/json (sorted keys, numbers as written).
func legacyCanonicalJSON(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	delete(v, "integrity")
	out, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("canonical JSON: %w", err)
	}
	return out, nil
}

// canonicalAny re-encodes any JSON value generically (sorted keys, numbers as
// written, no insignificant space).
func canonicalAny(b []byte) ([]byte, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}
