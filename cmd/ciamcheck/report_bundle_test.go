package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/reports/attest"
)

// keys runs keygen into dir and returns the key file paths.
func keys(t *testing.T, dir, name string) (keyFile, pubFile string) {
	t.Helper()
	prefix := filepath.Join(dir, name)
	if _, _, err := runCLI("keygen", "--out", prefix); err != nil {
		t.Fatal(err)
	}
	return prefix + ".key", prefix + ".pub"
}

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	key, pub := keys(t, dir, "k")
	st, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		t.Fatalf("private key mode: want 0600, got %v", st.Mode().Perm())
	}
	kb, _ := os.ReadFile(key)
	pb, _ := os.ReadFile(pub)
	priv, err := attest.ParsePrivateKey(kb)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := attest.ParsePublicKey(pb)
	if err != nil || !pk.Equal(priv.Public()) {
		t.Fatalf("public key is not the private key's: %v", err)
	}
	// Never overwrites, and leaves both files as they were.
	_, _, err = runCLI("keygen", "--out", filepath.Join(dir, "k"))
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("second keygen: want exit 2 refusing to overwrite, got %d %v", exitCode(err), err)
	}
	if kb2, _ := os.ReadFile(key); !bytes.Equal(kb, kb2) {
		t.Fatal("the private key was overwritten")
	}
	// Only the public half exists: still refused, and no private key left.
	os.Remove(key)
	if _, _, err := runCLI("keygen", "--out", filepath.Join(dir, "k")); exitCode(err) != 2 {
		t.Fatalf("existing .pub: want exit 2, got %v", err)
	}
	if _, err := os.Stat(key); !os.IsNotExist(err) {
		t.Fatal("a private key was written beside someone else's public key")
	}
}

func TestReportBundleAndVerify(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	t.Setenv(attest.SigningKeyEnv, "")
	dir := t.TempDir()
	key, pub := keys(t, dir, "signer")
	_, otherPub := keys(t, dir, "other")

	prof := filepath.Join(dir, "tenant.yaml")
	os.WriteFile(prof, exampleProfile(t, "https://user:pw@contoso.ciamlogin.com/contoso.onmicrosoft.com"), 0o644)
	p, err := profile.Load(prof)
	if err != nil {
		t.Fatal(err)
	}
	run := conformanceRun(reports.OutcomeFailed)
	run.Target.ProfileHash = p.Hash()
	rec := writeRun(t, "run.json", run)
	hlog := filepath.Join(dir, "run.hlog")
	os.WriteFile(hlog, []byte("#[Histogram log format version 1.3]\n"), 0o644)
	out := filepath.Join(dir, "audit.zip")

	stdout, _, err := runCLI("report", "bundle", rec, "--out", out, "--key-file", key, "--hlog", hlog, "--profile", prof)
	if err != nil {
		t.Fatalf("bundle: %v", err)
	}
	if !strings.Contains(stdout, "8 files signed by key SHA256:") {
		t.Fatalf("bundle output: %q", stdout)
	}
	raw, _ := os.ReadFile(out)
	for _, secret := range []string{"pw@", "PRIVATE KEY"} {
		if bytes.Contains(raw, []byte(secret)) || bytes.Contains(unzipAll(t, raw), []byte(secret)) {
			t.Fatalf("%q is in the bundle", secret)
		}
	}

	stdout, _, err = runCLI("report", "verify", "--key", pub, out)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, stdout)
	}
	for _, w := range []string{"verified " + out, "record.json", "report.html", "report.md", "junit.xml", "run.hlog", "profile.json", "catalog.json", "tool.json", "conformance run of 2025-03-14T09:00:00Z"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("verify output: want %q in\n%s", w, stdout)
		}
	}

	checkVerifyRefused(t, dir, raw, out, pub, otherPub)
	checkBundleCouldNotRun(t, dir, rec, out, key, pub)

	// A tampered record is not bundled.
	rb, _ := os.ReadFile(rec)
	tampered := filepath.Join(dir, "tampered.json")
	os.WriteFile(tampered, bytes.Replace(rb, []byte(`"outcome": "failed"`), []byte(`"outcome": "passed"`), 1), 0o644)
	if _, _, err := runCLI("report", "bundle", tampered, "--out", filepath.Join(dir, "t.zip"), "--key-file", key); exitCode(err) != 2 || !strings.Contains(err.Error(), "tampered") {
		t.Fatalf("tampered record: want exit 2, got %d %v", exitCode(err), err)
	}
}

// checkVerifyRefused verifies the bundle at out with another key, and
// edited copies of it (raw) with the right one: judged, exit 1, naming the
// reason.
func checkVerifyRefused(t *testing.T, dir string, raw []byte, out, pub, otherPub string) {
	t.Helper()
	stdout, _, err := runCLI("report", "verify", "--key", otherPub, out)
	if exitCode(err) != 1 || !strings.Contains(stdout, "signature: want one by key") {
		t.Fatalf("other key: want exit 1 and the reason, got %d\n%s", exitCode(err), stdout)
	}
	forged := filepath.Join(dir, "forged.zip")
	os.WriteFile(forged, rezipWith(t, raw, "report.html", []byte("<p>all passed</p>")), 0o644)
	stdout, _, err = runCLI("report", "verify", "--key", pub, forged)
	if exitCode(err) != 1 || !strings.Contains(stdout, "report.html: changed: sha256 want") {
		t.Fatalf("changed file: want exit 1 naming report.html, got %d\n%s", exitCode(err), stdout)
	}
	garbage := filepath.Join(dir, "garbage.zip")
	os.WriteFile(garbage, raw[:len(raw)/3], 0o644)
	if stdout, _, err = runCLI("report", "verify", "--key", pub, garbage); exitCode(err) != 1 || !strings.Contains(stdout, "not a readable zip") {
		t.Fatalf("truncated bundle: want exit 1, got %d\n%s", exitCode(err), stdout)
	}
}

// checkBundleCouldNotRun runs verify and bundle without what they need:
// could not verify, exit 2, and no bundle written.
func checkBundleCouldNotRun(t *testing.T, dir, rec, out, key, pub string) {
	t.Helper()
	for name, args := range map[string][]string{
		"no key":          {"report", "verify", out},
		"missing key":     {"report", "verify", "--key", filepath.Join(dir, "none.pub"), out},
		"private as key":  {"report", "verify", "--key", key, out},
		"missing file":    {"report", "verify", "--key", pub, filepath.Join(dir, "none.zip")},
		"HMAC for a zip":  {"report", "verify", out},
		"bundle, no key":  {"report", "bundle", rec, "--out", filepath.Join(dir, "b.zip")},
		"bundle, bad key": {"report", "bundle", rec, "--out", filepath.Join(dir, "b.zip"), "--key-file", pub},
		"other profile":   {"report", "bundle", rec, "--out", filepath.Join(dir, "b.zip"), "--key-file", key, "--profile", writeOtherProfile(t, dir)},
	} {
		if name == "HMAC for a zip" {
			t.Setenv(reports.RecordKeyEnv, "k")
		}
		_, _, err := runCLI(args...)
		if exitCode(err) != 2 {
			t.Errorf("%s: want exit 2, got %d %v", name, exitCode(err), err)
		}
		t.Setenv(reports.RecordKeyEnv, "")
	}
	if _, err := os.Stat(filepath.Join(dir, "b.zip")); !os.IsNotExist(err) {
		t.Fatal("a refused bundle was written")
	}
}

func TestReportVerifyRecord(t *testing.T) {
	t.Setenv(reports.RecordKeyEnv, "")
	dir := t.TempDir()
	key, pub := keys(t, dir, "signer")
	_, otherPub := keys(t, dir, "other")
	kb, _ := os.ReadFile(key)

	t.Setenv(attest.SigningKeyEnv, string(kb))
	signed := writeRun(t, "signed.json", conformanceRun(reports.OutcomeFailed))
	t.Setenv(attest.SigningKeyEnv, "")
	digest := writeRun(t, "digest.json", conformanceRun(reports.OutcomeFailed))
	t.Setenv(reports.RecordKeyEnv, "k1")
	hmacd := writeRun(t, "hmac.json", conformanceRun(reports.OutcomeFailed))
	t.Setenv(reports.RecordKeyEnv, "")

	sb, _ := os.ReadFile(signed)
	flipped := filepath.Join(dir, "flipped.json")
	os.WriteFile(flipped, bytes.Replace(sb, []byte("needs the emulator clock"), []byte("needs the emulator clocK"), 1), 0o644)

	tests := []struct {
		name    string
		args    []string
		hmacKey string
		code    int
		want    string
	}{
		{"signed", []string{"--key", pub, signed}, "", 0, "verified Ed25519 signature by SHA256:"},
		{"signed, other key", []string{"--key", otherPub, signed}, "", 1, "signed by another key"},
		{"signed, flipped byte", []string{"--key", pub, flipped}, "", 1, "TAMPERED"},
		{"digest only, key asked", []string{"--key", pub, digest}, "", 1, "sealed with sha256"},
		{"HMAC, key asked", []string{"--key", pub, hmacd}, "k1", 1, "sealed with hmac-sha256"},
		{"HMAC, HMAC asked", []string{hmacd}, "k1", 0, "verified hmac-sha256"},
		{"HMAC, wrong HMAC key", []string{hmacd}, "k2", 1, "TAMPERED"},
		{"digest, HMAC asked", []string{digest}, "k1", 1, "sealed with sha256, CIAMCHECK_RECORD_KEY asks for hmac-sha256"},
		{"signed, HMAC asked", []string{signed}, "k1", 1, "signature NOT CHECKED"},
		{"not a record", []string{"--key", pub, pub}, "", 1, "not an audit bundle or a run record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(reports.RecordKeyEnv, tt.hmacKey)
			stdout, _, err := runCLI(append([]string{"report", "verify"}, tt.args...)...)
			if exitCode(err) != tt.code || !strings.Contains(stdout, tt.want) {
				t.Fatalf("want exit %d and %q, got %d %v\n%s", tt.code, tt.want, exitCode(err), err, stdout)
			}
		})
	}
}

func writeOtherProfile(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "other.yaml")
	os.WriteFile(p, exampleProfile(t, "https://fabrikam.ciamlogin.com/fabrikam.onmicrosoft.com"), 0o644)
	return p
}

// exampleProfile is the documented tenant profile with another base URL.
func exampleProfile(t *testing.T, baseURL string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../ci/profiles/tenant.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := bytes.Replace(b, []byte("base_url: https://contoso.ciamlogin.com/contoso.onmicrosoft.com"), []byte("base_url: "+baseURL), 1)
	if bytes.Equal(out, b) {
		t.Fatal("the example profile has no base_url line to replace")
	}
	return out
}

func unzipAll(t *testing.T, raw []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(&all, rc)
		rc.Close()
	}
	return all.Bytes()
}

// rezipWith copies a bundle with one file's content replaced.
func rezipWith(t *testing.T, raw []byte, name string, data []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == name {
			b = data
		}
		w, _ := zw.Create(f.Name)
		w.Write(b)
	}
	zw.Close()
	return buf.Bytes()
}

// TestBadSigningKeyRefusedBeforeTheRun: a run whose record could not be
// sealed is refused at the start (exit 2), not after the run, losing it.
func TestBadSigningKeyRefusedBeforeTheRun(t *testing.T) {
	t.Setenv(attest.SigningKeyEnv, "not a key")
	dir := t.TempDir()
	for name, args := range map[string][]string{
		"conformance": {"conformance", "--out", filepath.Join(dir, "c.json")},
		"load":        {"load", "--plan", "smoke", "--out", filepath.Join(dir, "l.json")},
	} {
		_, _, err := runCLI(args...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), attest.SigningKeyEnv) {
			t.Errorf("%s: want exit 2 naming %s, got %d %v", name, attest.SigningKeyEnv, exitCode(err), err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("a refused run wrote %v", ents)
	}
}
