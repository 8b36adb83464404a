package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MaxRecordSize bounds a run record on reading. Evidence bodies are capped
// by the recorder and histograms are a few KiB, so a record this large is
// not one we wrote.
const MaxRecordSize = 256 << 20

// schemaPrefix is SchemaVersion without its version number.
const schemaPrefix = "ciamcheck.run/v"

// Write seals r (see Seal) after checking it, and writes it as indented
// JSON. It refuses a record that fails Validate or CheckNoSecrets, so a
// secret never reaches a file.
func Write(w io.Writer, r *Record) error {
	b, err := Marshal(r)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write run record: %w", err)
	}
	return nil
}

// Marshal is Write into a byte slice. It sets r.Integrity.
func Marshal(r *Record) ([]byte, error) {
	if r == nil {
		return nil, errors.New("write run record: nil record")
	}
	if err := Validate(r); err != nil {
		return nil, fmt.Errorf("write run record: %w", err)
	}
	if err := CheckNoSecrets(r); err != nil {
		return nil, fmt.Errorf("write run record: %w", err)
	}
	if err := Seal(r); err != nil {
		return nil, fmt.Errorf("write run record: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("write run record: encode: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteFile writes r to path atomically: a temporary file in the same folder
// renamed over path, so a reader never sees half a record and a failed write
// leaves any previous record in place. Parent folders are created.
func WriteFile(path string, r *Record) error {
	b, err := Marshal(r)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write run record %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write run record %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // no-op after a successful rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write run record %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write run record %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write run record %s: %w", path, err)
	}
	if err := os.Chmod(tmpName, 0o644); err != nil {
		return fmt.Errorf("write run record %s: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("write run record %s: %w", path, err)
	}
	return nil
}

// Read decodes and validates one run record.
//
// Compatibility: any minor version of this package's schema major is
// accepted and members this version does not know are ignored (a newer
// writer only adds optional fields within a major); a different major, or a
// schema string that is not a ciamcheck run record, is refused. Decoding is
// otherwise strict: exactly one JSON object, no trailing data, at most
// MaxRecordSize bytes, and the record must pass Validate.
//
// Integrity is checked over the bytes as written (so unknown members are
// covered), asking for what TrustFromEnv asks (see UnmarshalTrust).
func Read(rd io.Reader) (*Record, error) {
	raw, err := io.ReadAll(io.LimitReader(rd, MaxRecordSize+1))
	if err != nil {
		return nil, fmt.Errorf("read run record: %w", err)
	}
	if len(raw) > MaxRecordSize {
		return nil, fmt.Errorf("read run record: larger than %d bytes", MaxRecordSize)
	}
	return Unmarshal(raw)
}

// Unmarshal is Read from a byte slice.
func Unmarshal(raw []byte) (*Record, error) { return UnmarshalTrust(raw, TrustFromEnv()) }

// UnmarshalTrust is Unmarshal asking t of the record's seal. A record that
// fails it is returned together with an error (wrapping ErrTampered,
// ErrUnsealed, ErrDowngrade, ErrWrongKey, ErrNoRecordKey or ErrNoPublicKey),
// so a caller may still show it under a loud warning; any other error
// returns a nil record. What fails: a record that does not match its seal,
// always; and when t asks for an HMAC or a signature, anything short of a
// seal of at least that strength that verifies (unsealed, digest only, HMAC
// when a signature is asked for, a signature whose public key was not
// given). With the zero Trust an unsealed record, or an HMAC or signature
// that cannot be checked, is returned with no error: callers see that from
// IntegrityStatus, which never calls such a record verified.
func UnmarshalTrust(raw []byte, t Trust) (*Record, error) {
	if len(raw) > MaxRecordSize {
		return nil, fmt.Errorf("read run record: larger than %d bytes", MaxRecordSize)
	}
	// The schema is checked first, on its own, so a record of another
	// major is refused with that reason rather than a confusing type error.
	var head struct {
		Schema *string `json:"schema"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("read run record: not a JSON object: %w", err)
	}
	if head.Schema == nil {
		return nil, errors.New("read run record: no schema member; not a ciamcheck run record")
	}
	if err := checkSchema(*head.Schema); err != nil {
		return nil, fmt.Errorf("read run record: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var r Record
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("read run record: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("read run record: trailing data after the record")
	}
	if err := Validate(&r); err != nil {
		return nil, fmt.Errorf("read run record: %w", err)
	}
	verdict := checkIntegrity(r.Integrity, raw, t)
	r.readChecked, r.readVerdict = true, verdict
	if refused(verdict, t) {
		return &r, fmt.Errorf("read run record: %w", verdict)
	}
	return &r, nil
}

// refused says whether a reader asking t must refuse a record with verdict.
func refused(verdict error, t Trust) bool {
	switch {
	case verdict == nil:
		return false
	case t.wants() != "":
		return true
	}
	return !errors.Is(verdict, ErrUnsealed) && !errors.Is(verdict, ErrNoRecordKey) && !errors.Is(verdict, ErrNoPublicKey)
}

// ReadFile reads the run record at path (see Read).
func ReadFile(path string) (*Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read run record: %w", err)
	}
	defer f.Close()
	r, err := Read(f)
	if err != nil {
		return r, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// checkSchema accepts "ciamcheck.run/v<major>[.<minor>]" with this
// package's major.
func checkSchema(s string) error {
	want, _ := schemaMajor(SchemaVersion)
	got, err := schemaMajor(s)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("schema %q is major version %d; this ciamcheck reads major %d", s, got, want)
	}
	return nil
}

func schemaMajor(s string) (int, error) {
	v, ok := strings.CutPrefix(s, schemaPrefix)
	if !ok {
		return 0, fmt.Errorf("schema %q is not a ciamcheck run record (want %s…)", s, schemaPrefix)
	}
	major, minor, hasMinor := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	if err != nil || n < 1 || major != strconv.Itoa(n) {
		return 0, fmt.Errorf("schema %q has no valid major version", s)
	}
	if hasMinor {
		if m, err := strconv.Atoi(minor); err != nil || m < 0 || minor != strconv.Itoa(m) {
			return 0, fmt.Errorf("schema %q has no valid minor version", s)
		}
	}
	return n, nil
}

// IntegrityStatus describes r's tamper evidence for a report header, given
// the error Read returned for it (nil if none). Only a checked HMAC or
// signature reads "verified"; a plain digest reads "digest only — not
// evidence".
func IntegrityStatus(r *Record, readErr error) string {
	if r == nil {
		return integrityStatus(nil, readErr)
	}
	verdict := readErr
	switch {
	case r.readChecked:
		verdict = r.readVerdict
	case readErr == nil:
		verdict = Verify(r)
	}
	return integrityStatus(r.Integrity, verdict)
}
