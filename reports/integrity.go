package reports

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// RecordKeyEnv names the environment variable holding the HMAC key for run
// records. When it is set, Seal signs with HMAC-SHA256 under that key (so
// only holders of the key can produce a record that verifies) and Verify
// needs it to check such a record. When it is unset, Seal writes a plain
// SHA-256 digest: that detects accidental or naive edits, not an editor who
// recomputes the digest.
const RecordKeyEnv = "CIAMCHECK_RECORD_KEY"

// Integrity algorithms.
const (
	AlgSHA256     = "sha256"
	AlgHMACSHA256 = "hmac-sha256"
)

// Integrity is the tamper evidence of a record: a digest of the record's
// canonical JSON with the integrity member left out. The canonical JSON is
// the record decoded generically and re-encoded with encoding/json (object
// keys sorted, numbers kept as written, no insignificant space), so fields
// added by a newer minor schema are covered too.
type Integrity struct {
	Algorithm string `json:"algorithm"`
	Digest    string `json:"digest"` // lowercase hex
}

var (
	// ErrTampered means the record's content does not match its digest.
	ErrTampered = errors.New("run record integrity check failed: the record was modified after it was sealed")
	// ErrUnsealed means the record carries no integrity member.
	ErrUnsealed = errors.New("run record is not sealed")
	// ErrNoRecordKey means the record is signed with HMAC and no key is set.
	ErrNoRecordKey = errors.New("run record is HMAC-signed and " + RecordKeyEnv + " is not set")
)

// recordKey is the HMAC key from the environment, nil when unset.
func recordKey() []byte {
	if k := os.Getenv(RecordKeyEnv); k != "" {
		return []byte(k)
	}
	return nil
}

// Seal sets r.Integrity, using the key from RecordKeyEnv if set.
func Seal(r *Record) error { return SealWithKey(r, recordKey()) }

// SealWithKey sets r.Integrity: HMAC-SHA256 under key, or SHA-256 when key is
// empty.
func SealWithKey(r *Record, key []byte) error {
	if r == nil {
		return errors.New("seal run record: nil record")
	}
	canon, err := canonicalRecord(r)
	if err != nil {
		return fmt.Errorf("seal run record: %w", err)
	}
	alg := AlgSHA256
	if len(key) > 0 {
		alg = AlgHMACSHA256
	}
	r.Integrity = &Integrity{Algorithm: alg, Digest: hex.EncodeToString(digest(alg, key, canon))}
	r.readChecked, r.readVerdict = false, nil // the verdict of any earlier Read no longer applies
	return nil
}

// Verify checks r.Integrity against r as this version of the package knows
// it, using the key from RecordKeyEnv for HMAC. It returns ErrUnsealed,
// ErrNoRecordKey or ErrTampered (wrapped). Fields of a newer minor schema that
// this version dropped on reading make Verify fail; Read checks the bytes as
// written instead, so prefer its verdict for a record read from a file.
func Verify(r *Record) error { return VerifyWithKey(r, recordKey()) }

// VerifyWithKey is Verify with an explicit HMAC key.
func VerifyWithKey(r *Record, key []byte) error {
	if r == nil {
		return errors.New("verify run record: nil record")
	}
	canon, err := canonicalRecord(r)
	if err != nil {
		return fmt.Errorf("verify run record: %w", err)
	}
	return checkDigest(r.Integrity, canon, key)
}

// checkDigest compares integ with the digest of canon.
func checkDigest(integ *Integrity, canon, key []byte) error {
	if integ == nil {
		return ErrUnsealed
	}
	switch integ.Algorithm {
	case AlgSHA256:
	case AlgHMACSHA256:
		if len(key) == 0 {
			return ErrNoRecordKey
		}
	default:
		return fmt.Errorf("run record integrity algorithm %q is not supported", integ.Algorithm)
	}
	want, err := hex.DecodeString(integ.Digest)
	if err != nil {
		return fmt.Errorf("%w: digest is not hex", ErrTampered)
	}
	if !hmac.Equal(want, digest(integ.Algorithm, key, canon)) {
		return ErrTampered
	}
	return nil
}

func digest(alg string, key, canon []byte) []byte {
	if alg == AlgHMACSHA256 {
		m := hmac.New(sha256.New, key)
		m.Write(canon)
		return m.Sum(nil)
	}
	sum := sha256.Sum256(canon)
	return sum[:]
}

// canonicalRecord is the canonical JSON of r without its integrity member.
func canonicalRecord(r *Record) ([]byte, error) {
	c := *r
	c.Integrity = nil
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, err
	}
	return canonicalJSON(b)
}

// canonicalJSON re-encodes a JSON object generically without its top-level
// "integrity" member. Generic maps encode with sorted keys and json.Number
// keeps every number's text, so the result depends only on the content.
func canonicalJSON(b []byte) ([]byte, error) {
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
