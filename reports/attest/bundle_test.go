package attest

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

func testKey(t testing.TB) (ed25519.PrivateKey, ed25519.PublicKey) {
	t.Helper()
	privPEM, pubPEM, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func testFiles() []File {
	return []File{
		{"record.json", []byte(`{"schema":"ciamcheck.run/v1","kind":"conformance"}` + "\n")},
		{"report.html", []byte("<html>passed</html>")},
		{"report.md", []byte("# passed\n")},
		{"junit.xml", []byte("<testsuites/>")},
		{"empty.txt", nil},
	}
}

func testPredicate() BundlePredicate {
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	return BundlePredicate{
		Tool:      ToolInfo{Name: "ciamcheck", Version: "v1.2.3", VCSRevision: "abc123"},
		Record:    RunInfo{File: "record.json", Kind: "conformance", Schema: "ciamcheck.run/v1", StartedAt: at, EndedAt: at},
		CreatedAt: at,
	}
}

func writeBundle(t testing.TB, files []File, priv ed25519.PrivateKey) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteBundle(&buf, files, testPredicate(), priv); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// entries reads a bundle's entries in order, without any checking.
func entries(t *testing.T, raw []byte) []File {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var out []File
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, File{zf.Name, b})
	}
	return out
}

// rezip writes entries as they are, as an editor of a bundle would.
func rezip(t *testing.T, files []File) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBundleRoundTrip(t *testing.T) {
	priv, pub := testKey(t)
	raw := writeBundle(t, testFiles(), priv)
	b, err := VerifyBundle(raw, pub)
	if err != nil {
		t.Fatalf("VerifyBundle: %v", err)
	}
	if b.KeyID != KeyID(pub) || !strings.HasPrefix(b.KeyID, "SHA256:") {
		t.Fatalf("key id: want %s, got %s", KeyID(pub), b.KeyID)
	}
	if len(b.Files) != len(testFiles()) {
		t.Fatalf("files: want %d, got %d", len(testFiles()), len(b.Files))
	}
	for _, f := range testFiles() {
		if !bytes.Equal(b.File(f.Name), f.Data) {
			t.Fatalf("%s: want %q, got %q", f.Name, f.Data, b.File(f.Name))
		}
	}
	if b.Predicate.Tool.VCSRevision != "abc123" || !b.Predicate.CreatedAt.Equal(testPredicate().CreatedAt) {
		t.Fatalf("predicate: got %+v", b.Predicate)
	}
	// The envelope is a plain DSSE envelope holding an in-toto statement.
	var env dsse.Envelope
	if err := json.Unmarshal(entries(t, raw)[len(testFiles())].Data, &env); err != nil {
		t.Fatal(err)
	}
	payload, err := env.DecodeB64Payload()
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	if env.PayloadType != PayloadTypeInToto || st["_type"] != "https://in-toto.io/Statement/v1" || st["predicateType"] != PredicateTypeBundle {
		t.Fatalf("envelope %s holds %v", env.PayloadType, st)
	}
}

// TestBundleRefused: every way a bundle can stop being evidence is refused
// with its reason, naming the file.
// refusedCase is a bundle VerifyBundle must refuse, and what its reason
// must say.
type refusedCase struct {
	name string
	raw  []byte
	pub  ed25519.PublicKey
	want []string
}

func TestBundleRefused(t *testing.T) {
	priv, pub := testKey(t)
	otherPriv, otherPub := testKey(t)
	raw := writeBundle(t, testFiles(), priv)
	good := entries(t, raw)
	tests := contentEditCases(t, good, pub)
	tests = append(tests, signatureCases(t, raw, good, pub, otherPriv, otherPub)...)
	tests = append(tests, archiveCases(t, raw, good, pub)...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := VerifyBundle(tt.raw, tt.pub)
			var nv *NotVerifiedError
			if !errors.As(err, &nv) || b != nil {
				t.Fatalf("want *NotVerifiedError, got %v (bundle %v)", err, b != nil)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("reason: want %q in %q", w, err)
				}
			}
		})
	}
	// The unedited bundle still verifies, so the refusals above are the edits'.
	if _, err := VerifyBundle(raw, pub); err != nil {
		t.Fatal(err)
	}
}

// editBundle re-zips the entries good after f changed a copy of them.
func editBundle(t *testing.T, good []File, f func([]File) []File) []byte {
	t.Helper()
	return rezip(t, f(append([]File(nil), good...)))
}

// contentEditCases change, remove or add a file the statement lists.
func contentEditCases(t *testing.T, good []File, pub ed25519.PublicKey) []refusedCase {
	edit := func(f func([]File) []File) []byte { return editBundle(t, good, f) }
	return []refusedCase{
		{"flipped byte in the record", edit(func(fs []File) []File {
			fs[0].Data = bytes.Replace(fs[0].Data, []byte("conformance"), []byte("conformancf"), 1)
			return fs
		}), pub, []string{"record.json: changed: sha256 want"}},
		{"flipped byte in the HTML", edit(func(fs []File) []File {
			fs[1].Data = []byte("<html>passeD</html>")
			return fs
		}), pub, []string{"report.html: changed"}},
		{"empty file filled", edit(func(fs []File) []File {
			fs[4].Data = []byte("x")
			return fs
		}), pub, []string{"empty.txt: changed"}},
		{"removed file", edit(func(fs []File) []File { return append(fs[:3:3], fs[4:]...) }), pub,
			[]string{"junit.xml: removed"}},
		{"added file", edit(func(fs []File) []File { return append(fs, File{"extra.txt", []byte("x")}) }), pub,
			[]string{"extra.txt: added"}},
	}
}

// signatureCases check the key, strip or forge the signature, or edit
// the signed envelope.
func signatureCases(t *testing.T, raw []byte, good []File, pub ed25519.PublicKey, otherPriv ed25519.PrivateKey, otherPub ed25519.PublicKey) []refusedCase {
	edit := func(f func([]File) []File) []byte { return editBundle(t, good, f) }
	unsignedEnvelope := func() []byte {
		var env dsse.Envelope
		if err := json.Unmarshal(good[len(good)-1].Data, &env); err != nil {
			t.Fatal(err)
		}
		env.Signatures = nil
		b, _ := json.Marshal(env)
		return b
	}()
	// A statement listing a changed file, re-signed by another key.
	resigned := func() []byte {
		var buf bytes.Buffer
		files := testFiles()
		files[0].Data = []byte(`{"forged":true}`)
		if err := WriteBundle(&buf, files, testPredicate(), otherPriv); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}()
	return []refusedCase{
		{"wrong key", raw, otherPub, []string{"signature: want one by key " + KeyID(otherPub), "got key(s) " + KeyID(pub)}},
		{"re-signed by another key", resigned, pub, []string{"want one by key " + KeyID(pub)}},
		{"signature removed", edit(func(fs []File) []File { return fs[:len(fs)-1] }), pub,
			[]string{EnvelopeName + ": missing: the bundle is not signed"}},
		{"downgraded to an unsigned manifest", edit(func(fs []File) []File {
			fs[len(fs)-1].Data = unsignedEnvelope
			return fs
		}), pub, []string{"no signature"}},
		{"envelope payload edited", edit(func(fs []File) []File {
			fs[len(fs)-1].Data = bytes.Replace(fs[len(fs)-1].Data, []byte(`"payload": "`), []byte(`"payload": "e30`), 1)
			return fs
		}), pub, []string{EnvelopeName + ": "}},
	}
}

// archiveCases are not a readable zip or hold entries that are not plain,
// unique file names.
func archiveCases(t *testing.T, raw []byte, good []File, pub ed25519.PublicKey) []refusedCase {
	edit := func(f func([]File) []File) []byte { return editBundle(t, good, f) }
	return []refusedCase{
		{"garbage", []byte("this is not a zip"), pub, []string{"not a readable zip archive"}},
		{"truncated", raw[:len(raw)/2], pub, []string{"not a readable zip archive"}},
		{"empty", nil, pub, []string{"not a readable zip archive"}},
		{"zip-slip path", edit(func(fs []File) []File { return append(fs, File{"../../etc/cron.d/x", []byte("x")}) }), pub,
			[]string{`"../../etc/cron.d/x": not a plain file name`}},
		{"absolute path", edit(func(fs []File) []File { return append(fs, File{"/tmp/x", []byte("x")}) }), pub,
			[]string{`"/tmp/x": not a plain file name`}},
		{"subfolder", edit(func(fs []File) []File { return append(fs, File{"a/b", []byte("x")}) }), pub,
			[]string{`"a/b": not a plain file name`}},
		{"duplicate entry", edit(func(fs []File) []File { return append(fs, File{"report.md", []byte("# failed\n")}) }), pub,
			[]string{"report.md: appears twice"}},
	}
}

func TestBundleCorruptZipByte(t *testing.T) {
	priv, pub := testKey(t)
	raw := writeBundle(t, testFiles(), priv)
	// Every single-byte flip of the archive is refused or, where the byte
	// is one zip readers ignore, still yields exactly the signed files.
	refused := 0
	for i := range raw {
		c := bytes.Clone(raw)
		c[i] ^= 0x01
		b, err := VerifyBundle(c, pub)
		if err != nil {
			refused++
			continue
		}
		for _, f := range testFiles() {
			if !bytes.Equal(b.File(f.Name), f.Data) {
				t.Fatalf("flip at %d: %s verified with other content", i, f.Name)
			}
		}
	}
	if refused < len(raw)/2 {
		t.Fatalf("only %d of %d flipped bytes refused", refused, len(raw))
	}
}

func TestBundleOversize(t *testing.T) {
	priv, pub := testKey(t)
	raw := writeBundle(t, testFiles(), priv)
	defer func(n int64) { maxEntrySize = n }(maxEntrySize)
	maxEntrySize = 10 // report.html is 19 bytes, so are others
	_, err := VerifyBundle(raw, pub)
	if err == nil || !strings.Contains(err.Error(), "report.html: 19 bytes, larger than the 10 allowed") {
		t.Fatalf("want oversize refusal, got %v", err)
	}
	maxEntrySize = 256 << 20

	// A header that lies about the size is caught while reading.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "bomb.bin", Method: zip.Store, CompressedSize64: 100, UncompressedSize64: 1, CRC32: 0})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 100))
	zw.Close()
	maxEntrySize = 50
	_, err = VerifyBundle(buf.Bytes(), pub)
	if err == nil || !strings.Contains(err.Error(), "bomb.bin: ") {
		t.Fatalf("want lying header refused, got %v", err)
	}

	defer func(n int) { maxEntries = n }(maxEntries)
	maxEntries = 3
	if _, err := VerifyBundle(raw, pub); err == nil || !strings.Contains(err.Error(), "6 entries, a bundle has at most 3") {
		t.Fatalf("want too many entries refused, got %v", err)
	}
}

func TestWriteBundleRefusesBadNames(t *testing.T) {
	priv, _ := testKey(t)
	for _, n := range []string{"../x", "a/b", "", ".hidden", EnvelopeName} {
		err := WriteBundle(io.Discard, []File{{n, nil}}, testPredicate(), priv)
		if err == nil {
			t.Errorf("name %q accepted", n)
		}
	}
	if err := WriteBundle(io.Discard, testFiles(), testPredicate(), nil); err == nil {
		t.Error("no key accepted")
	}
}

// FuzzVerifyBundle: the bundle decoder never panics, and whatever it
// accepts holds exactly the files the signed statement lists.
func FuzzVerifyBundle(f *testing.F) {
	priv, pub := testKey(f)
	var buf bytes.Buffer
	if err := WriteBundle(&buf, testFiles(), testPredicate(), priv); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := VerifyBundle(raw, pub)
		if err != nil {
			var nv *NotVerifiedError
			if !errors.As(err, &nv) || len(nv.Problems) == 0 {
				t.Fatalf("refusal without a reason: %v", err)
			}
			return
		}
		for _, f := range testFiles() {
			if !bytes.Equal(b.File(f.Name), f.Data) {
				t.Fatalf("%s verified with other content", f.Name)
			}
		}
	})
}

// FuzzVerifyStatement: the envelope decoder never panics and accepts only
// what the key signed.
func FuzzVerifyStatement(f *testing.F) {
	priv, pub := testKey(f)
	env, err := SignStatement(priv, []Subject{{"a", SHA256Hex([]byte("a"))}}, PredicateTypeBundle, map[string]any{"k": 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(env)
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"","signatures":[{"keyid":"","sig":""}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := VerifyStatement(b, pub)
		if err != nil {
			return
		}
		if len(st.Subjects) != 1 || st.Subjects[0].Name != "a" || st.Subjects[0].SHA256 != SHA256Hex([]byte("a")) {
			t.Fatalf("accepted a statement the key did not sign: %+v", st)
		}
	})
}
