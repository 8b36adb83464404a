package attest

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
)

// PredicateTypeBundle is the in-toto predicate type of an audit bundle's
// statement; its predicate is a BundlePredicate.
const PredicateTypeBundle = "https://github.com/ciamcheck/ciamcheck/attestation/audit-bundle/v1"

// EnvelopeName is the bundle entry holding the signed DSSE envelope. Every
// other entry is a subject of the statement it holds.
const EnvelopeName = "attestation.dsse.json"

// Limits of a bundle on verifying, so a hostile zip cannot exhaust memory.
// Variables so tests can lower them.
var (
	maxEntries   = 64
	maxEntrySize = int64(256 << 20) // a run record's own limit
	maxTotalSize = int64(1 << 30)
)

// entryName is what a bundle entry may be called: flat names only, so no
// path in a bundle can leave the folder it is unpacked into.
var entryName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)

// File is one file of a bundle.
type File struct {
	Name string
	Data []byte
}

// BundlePredicate says what produced a bundle and which run it is about.
type BundlePredicate struct {
	Tool      ToolInfo  `json:"tool"`
	Record    RunInfo   `json:"record"`
	CreatedAt time.Time `json:"created_at"`
}

// ToolInfo is the build of ciamcheck that made the bundle.
type ToolInfo struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	GoVersion   string `json:"go_version,omitempty"`
	VCSRevision string `json:"vcs_revision,omitempty"`
	VCSTime     string `json:"vcs_time,omitempty"`
	VCSModified bool   `json:"vcs_modified,omitempty"`
}

// RunInfo identifies the run record in the bundle.
type RunInfo struct {
	File      string    `json:"file"`
	Kind      string    `json:"kind"`
	Schema    string    `json:"schema"`
	StartedAt time.Time `json:"started_at"`
	EndedAt   time.Time `json:"ended_at"`
}

// WriteBundle writes a zip of files and, last, EnvelopeName: a DSSE envelope
// signed by priv over an in-toto statement whose subjects are the files with
// their SHA-256 digests and whose predicate is pred.
func WriteBundle(w io.Writer, files []File, pred BundlePredicate, priv ed25519.PrivateKey) error {
	if len(priv) != ed25519.PrivateKeySize {
		return errors.New("write bundle: no Ed25519 signing key")
	}
	if len(files)+1 > maxEntries {
		return fmt.Errorf("write bundle: %d files, at most %d", len(files), maxEntries-1)
	}
	subjects := make([]Subject, 0, len(files))
	seen := map[string]bool{EnvelopeName: true}
	for _, f := range files {
		if !entryName.MatchString(f.Name) {
			return fmt.Errorf("write bundle: file name %q: want letters, digits, '.', '_' or '-'", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("write bundle: file name %q used twice", f.Name)
		}
		seen[f.Name] = true
		subjects = append(subjects, Subject{Name: f.Name, SHA256: SHA256Hex(f.Data)})
	}
	env, err := SignStatement(priv, subjects, PredicateTypeBundle, pred)
	if err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	zw := zip.NewWriter(w)
	for _, f := range append(slices.Clone(files), File{EnvelopeName, env}) {
		hdr := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: pred.CreatedAt}
		hdr.SetMode(0o644)
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("write bundle %s: %w", f.Name, err)
		}
		if _, err := fw.Write(f.Data); err != nil {
			return fmt.Errorf("write bundle %s: %w", f.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return nil
}

// Bundle is a verified bundle.
type Bundle struct {
	KeyID     string
	Predicate BundlePredicate
	Files     []File // every subject, in the statement's order
}

// File returns the verified content of the named file, nil if absent.
func (b *Bundle) File(name string) []byte {
	for _, f := range b.Files {
		if f.Name == name {
			return f.Data
		}
	}
	return nil
}

// NotVerifiedError is the judged answer "this bundle is not evidence": each
// problem names the file and what is wrong with it.
type NotVerifiedError struct{ Problems []string }

func (e *NotVerifiedError) Error() string {
	return "not verified: " + strings.Join(e.Problems, "; ")
}

// VerifyBundle checks a bundle against the public key: the envelope is
// signed by pub, every subject is in the zip with its digest, and nothing
// else is. Any other answer is a *NotVerifiedError listing every problem
// found (all entries are checked, not only the first bad one).
func VerifyBundle(raw []byte, pub ed25519.PublicKey) (*Bundle, error) {
	var p bundleProblems
	refuse := func() error { return &NotVerifiedError{Problems: p} }
	contents, names, ok := p.readZip(raw)
	if !ok {
		return nil, refuse()
	}
	st, out, ok := p.readEnvelope(contents, pub)
	if !ok {
		return nil, refuse()
	}
	listed := make(map[string]bool, len(st.Subjects))
	for _, s := range st.Subjects {
		if !entryName.MatchString(s.Name) || s.Name == EnvelopeName || listed[s.Name] {
			p.bad("%s: subject %q: not a plain file name, or listed twice", EnvelopeName, s.Name)
			continue
		}
		listed[s.Name] = true
		b, ok := contents[s.Name]
		switch got := SHA256Hex(b); {
		case !ok:
			p.bad("%s: removed (the signed manifest lists it)", s.Name)
		case got != s.SHA256:
			p.bad("%s: changed: sha256 want %s, got %s", s.Name, s.SHA256, got)
		default:
			out.Files = append(out.Files, File{Name: s.Name, Data: b})
		}
	}
	for _, n := range names {
		if n != EnvelopeName && !listed[n] {
			p.bad("%s: added (not in the signed manifest)", n)
		}
	}
	if len(p) > 0 {
		return nil, refuse()
	}
	return out, nil
}

// bundleProblems collects what VerifyBundle finds wrong, so that one answer
// lists them all.
type bundleProblems []string

func (p *bundleProblems) bad(format string, a ...any) { *p = append(*p, fmt.Sprintf(format, a...)) }

// readZip reads the plain-file entries of the bundle's zip in their order;
// false when the archive cannot be judged any further (unreadable, too many
// entries, too large).
func (p *bundleProblems) readZip(raw []byte) (contents map[string][]byte, names []string, ok bool) {
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // insecure names are judged below
		p.bad("not a readable zip archive: %v", err)
		return nil, nil, false
	}
	if len(zr.File) > maxEntries {
		p.bad("%d entries, a bundle has at most %d", len(zr.File), maxEntries)
		return nil, nil, false
	}
	contents = make(map[string][]byte, len(zr.File))
	seen := make(map[string]bool, len(zr.File))
	var total int64
	for _, zf := range zr.File {
		name := zf.Name
		dup := seen[name]
		seen[name] = true
		switch {
		case !entryName.MatchString(name):
			p.bad("%q: not a plain file name (a path that could be unpacked outside the folder)", name)
			continue
		case dup:
			p.bad("%s: appears twice in the zip", name)
			continue
		case !zf.Mode().IsRegular():
			p.bad("%s: not a regular file (%s)", name, zf.Mode().Type())
			continue
		case zf.UncompressedSize64 > uint64(maxEntrySize):
			p.bad("%s: %d bytes, larger than the %d allowed", name, zf.UncompressedSize64, maxEntrySize)
			continue
		}
		b, err := readEntry(zf, maxEntrySize)
		if err != nil {
			p.bad("%s: %v", name, err)
			continue
		}
		if total += int64(len(b)); total > maxTotalSize {
			p.bad("the files add up to more than the %d bytes allowed", maxTotalSize)
			return nil, nil, false
		}
		contents[name] = b
		names = append(names, name)
	}
	return contents, names, true
}

// readEnvelope verifies the signed statement among contents and decodes its
// bundle predicate; false when it is missing, unsigned by pub or not a
// bundle's.
func (p *bundleProblems) readEnvelope(contents map[string][]byte, pub ed25519.PublicKey) (*Statement, *Bundle, bool) {
	env, ok := contents[EnvelopeName]
	if !ok {
		p.bad("%s: missing: the bundle is not signed, so it is not evidence", EnvelopeName)
		return nil, nil, false
	}
	st, err := VerifyStatement(env, pub)
	if err != nil {
		p.bad("%s: %v", EnvelopeName, err)
		return nil, nil, false
	}
	if st.PredicateType != PredicateTypeBundle {
		p.bad("%s: predicateType: want %q, got %q", EnvelopeName, PredicateTypeBundle, st.PredicateType)
		return nil, nil, false
	}
	out := &Bundle{KeyID: st.KeyID}
	dec := json.NewDecoder(bytes.NewReader(st.Predicate))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out.Predicate); err != nil {
		p.bad("%s: predicate: %v", EnvelopeName, err)
		return nil, nil, false
	}
	return st, out, true
}

// readEntry reads one zip entry, at most limit bytes whatever its header
// claims; archive/zip checks the CRC-32 at the end.
func readEntry(zf *zip.File, limit int64) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("unreadable: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("unreadable: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("more than the %d bytes allowed (its header claims %d)", limit, zf.UncompressedSize64)
	}
	return b, nil
}

// SHA256Hex is the lowercase hex SHA-256 of b, as bundle subjects list it.
func SHA256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
