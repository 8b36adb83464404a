package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ciamcheck/ciamcheck/profile"
	"github.com/ciamcheck/ciamcheck/reports"
	"github.com/ciamcheck/ciamcheck/reports/attest"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
)

// Exit codes of `ciamcheck report verify`, in the terms of the one
// contract: not verified is the judged failure (changed, unsigned,
// downgraded, another key, not a bundle); could not verify is that the file
// or the key could not be read.
const (
	exitNotVerified  = exitFailed
	exitCannotVerify = exitCouldNotRun
)

// maxVerifyInput bounds what report verify reads: a bundle's entries may
// add up to 1 GiB uncompressed; compressed, less.
const maxVerifyInput = 1 << 30

type bundleFlags struct {
	out, hlog, profile, keyFile string
}

func newReportBundleCmd() *cobra.Command {
	var f bundleFlags
	cmd := &cobra.Command{
		Use:   "bundle RUN.json --out AUDIT.zip",
		Short: "Pack a run record, its reports and inputs into a signed audit bundle",
		Long: `bundle writes a zip for auditors: the run record as written, its HTML and
Markdown reports and JUnit XML (rendered from the record), the load run's
.hlog (--hlog), the target profile without secrets (--profile; it must be
the profile the run used: its hash is checked against the record), the
catalog of documented behaviours (conformance runs), and tool.json (the
ciamcheck version and VCS revision that made the bundle).

attestation.dsse.json signs it all: a DSSE envelope holding an in-toto
statement whose subjects are every file with its SHA-256 digest, signed
with Ed25519. The private key comes from --key-file or the
CIAMCHECK_SIGNING_KEY environment variable ("ciamcheck keygen" makes one)
and is never written into the bundle. Verify with "ciamcheck report verify
--key KEY.pub AUDIT.zip".

A record that fails its own integrity check is not bundled. Exit status: 0
written, 2 not written (unreadable record, key or input).`,
		Example: `  ciamcheck report bundle run.json --out audit.zip --key-file ciamcheck.key
  ciamcheck report bundle load.json --hlog load.hlog --profile tenant.yaml --out audit.zip --key-file ciamcheck.key`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Every error is "not written": exit 2 (see main).
			return runReportBundle(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.out, "out", "o", "", "bundle path (required)")
	fl.StringVar(&f.hlog, "hlog", "", "the load run's HdrHistogram log to include")
	fl.StringVar(&f.profile, "profile", "", "the target profile the run used, included without secrets")
	fl.StringVar(&f.keyFile, "key-file", "", "Ed25519 private key (PEM); default: the "+attest.SigningKeyEnv+" environment variable")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func runReportBundle(stdout, stderr io.Writer, path string, f bundleFlags) error {
	priv, err := attest.LoadSigningKey(f.keyFile)
	if err != nil {
		return err
	}
	if priv == nil {
		return fmt.Errorf("no signing key: give --key-file or set %s (ciamcheck keygen makes a key pair)", attest.SigningKeyEnv)
	}
	raw, err := readLimited(path, reports.MaxRecordSize)
	if err != nil {
		return err
	}
	rec, err := readRecordForReport(path)
	if err != nil {
		return err
	}
	files := []attest.File{{Name: "record.json", Data: raw}}
	for _, r := range []struct {
		name   string
		render func(io.Writer, *reports.Record) error
	}{{"report.html", reports.RenderHTML}, {"report.md", reports.RenderMarkdown}, {"junit.xml", reports.RenderJUnit}} {
		var buf bytes.Buffer
		if err := r.render(&buf, rec); err != nil {
			return fmt.Errorf("render %s: %w", r.name, err)
		}
		files = append(files, attest.File{Name: r.name, Data: buf.Bytes()})
	}
	if f.hlog != "" {
		b, err := readLimited(f.hlog, reports.MaxRecordSize)
		if err != nil {
			return err
		}
		files = append(files, attest.File{Name: "run.hlog", Data: b})
	}
	if f.profile != "" {
		b, err := profileForBundle(f.profile, rec.Target.ProfileHash)
		if err != nil {
			return err
		}
		files = append(files, attest.File{Name: "profile.json", Data: b})
	}
	tool := bundleTool()
	if rec.Kind == reports.KindConformance {
		var buf bytes.Buffer
		if err := catalog.WriteJSON(&buf, catalog.All()); err != nil {
			return fmt.Errorf("catalog: %w", err)
		}
		files = append(files, attest.File{Name: "catalog.json", Data: buf.Bytes()})
		if rec.Tool.Version != tool.Version {
			fmt.Fprintf(stderr, "ciamcheck: warning: catalog.json is the catalog of ciamcheck %s; the run was made by %s %s\n", tool.Version, rec.Tool.Name, rec.Tool.Version)
		}
	}
	tj, err := json.MarshalIndent(tool, "", "  ")
	if err != nil {
		return fmt.Errorf("tool.json: %w", err)
	}
	files = append(files, attest.File{Name: "tool.json", Data: append(tj, '\n')})

	pred := attest.BundlePredicate{
		Tool:      tool,
		Record:    attest.RunInfo{File: "record.json", Kind: string(rec.Kind), Schema: rec.Schema, StartedAt: rec.StartedAt, EndedAt: rec.EndedAt},
		CreatedAt: time.Now().UTC().Truncate(time.Second),
	}
	var zbuf bytes.Buffer
	if err := attest.WriteBundle(&zbuf, files, pred, priv); err != nil {
		return err
	}
	if err := writeFileAtomic(f.out, zbuf.Bytes()); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %s: %d files signed by key %s\n", f.out, len(files), attest.KeyID(priv.Public().(ed25519.PublicKey)))
	return err
}

// profileForBundle is the profile at path as JSON, with its base URL's
// credentials removed (the profile holds no other secret: only the names of
// variables holding them), refused unless it is the profile the run used.
func profileForBundle(path, runHash string) ([]byte, error) {
	p, err := profile.Load(path)
	if err != nil {
		return nil, err
	}
	if got := p.Hash(); runHash != "" && got != runHash {
		return nil, fmt.Errorf("--profile %s: profile_hash: want %s (the run's), got %s: not the profile this run used", path, runHash, got)
	}
	p.BaseURL = p.Redacted().BaseURL
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("--profile %s: %w", path, err)
	}
	return append(b, '\n'), nil
}

// bundleTool is this binary as records name it (tool()): version, Go
// version and, when built from a VCS checkout, the revision.
func bundleTool() attest.ToolInfo {
	t := tool()
	info := attest.ToolInfo{Name: t.Name, Version: t.Version, GoVersion: t.GoVersion, VCSRevision: t.Revision, VCSModified: t.Dirty}
	if !t.RevisionTime.IsZero() {
		info.VCSTime = t.RevisionTime.Format(time.RFC3339)
	}
	return info
}

func readLimited(path string, limit int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, limit)
	}
	return b, nil
}

func newReportVerifyCmd() *cobra.Command {
	var keyPath string
	cmd := &cobra.Command{
		Use:   "verify --key KEY.pub AUDIT.zip|RUN.json",
		Short: "Verify an audit bundle or a signed run record with a public key",
		Long: `verify checks an audit bundle ("ciamcheck report bundle") or a single run
record against the public key of whoever signed it ("ciamcheck keygen").

A bundle verifies when its DSSE envelope is signed by that key and every
file in the zip has the SHA-256 digest the signed statement lists: a file
changed, removed or added, another key, a missing or unsigned envelope,
paths that leave the folder, duplicate or oversize entries are each
refused, naming the file.

A record verifies when its Ed25519 signature is by that key over its RFC
8785 canonical form. Without --key, CIAMCHECK_RECORD_KEY verifies an
HMAC-signed record (which proves it only to holders of that key, who could
also have forged it). A record that is unsealed, carries only a digest, or
is sealed with a weaker mode than the key asks for is refused: a digest
anyone can recompute is not evidence.

Exit status: 0 verified; 1 not verified (the reason is printed); 2 could not
verify: the file or the key could not be read, or no key was given.`,
		Example: `  ciamcheck report verify --key ciamcheck.pub audit.zip
  ciamcheck report verify --key ciamcheck.pub run.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReportVerify(cmd.OutOrStdout(), args[0], keyPath)
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "the signer's Ed25519 public key (PEM, from ciamcheck keygen)")
	return cmd
}

func runReportVerify(stdout io.Writer, path, keyPath string) error {
	cannot := func(err error) error { return &exitError{code: exitCannotVerify, err: err} }
	trust := reports.TrustFromEnv()
	if keyPath != "" {
		pub, err := attest.ReadPublicKeyFile(keyPath)
		if err != nil {
			return cannot(fmt.Errorf("--key: %w", err))
		}
		trust.PublicKey = pub
	}
	if trust.PublicKey == nil && trust.HMACKey == nil {
		return cannot(fmt.Errorf("nothing to verify against: give --key PUBLIC.pub (or set %s for an HMAC-signed record)", reports.RecordKeyEnv))
	}
	raw, err := readLimited(path, maxVerifyInput)
	if err != nil {
		return cannot(err)
	}
	notVerified := func(problems ...string) error {
		fmt.Fprintf(stdout, "NOT VERIFIED %s\n", path)
		for _, p := range problems {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
		return &exitError{code: exitNotVerified, err: fmt.Errorf("%s is not verified", path)}
	}
	if bytes.HasPrefix(raw, []byte("PK")) {
		if trust.PublicKey == nil {
			return cannot(errors.New("an audit bundle is verified with a public key: give --key PUBLIC.pub"))
		}
		b, err := attest.VerifyBundle(raw, trust.PublicKey)
		if err != nil {
			var nv *attest.NotVerifiedError
			if errors.As(err, &nv) {
				return notVerified(nv.Problems...)
			}
			return notVerified(err.Error())
		}
		rec := b.File(b.Predicate.Record.File)
		if rec == nil {
			return notVerified(fmt.Sprintf("%s: the statement names it as the record, and it is not in the bundle", b.Predicate.Record.File))
		}
		// The bundler checked the record's own seal; a signer may not have.
		r, err := reports.UnmarshalTrust(rec, reports.Trust{})
		if err != nil {
			return notVerified(fmt.Sprintf("%s: %v", b.Predicate.Record.File, err))
		}
		fmt.Fprintf(stdout, "verified %s: signed by key %s\n", path, b.KeyID)
		for _, f := range b.Files {
			fmt.Fprintf(stdout, "  %-14s %8d bytes  sha256 %s\n", f.Name, len(f.Data), attest.SHA256Hex(f.Data))
		}
		seal := reports.IntegrityStatus(r, nil)
		if r.Integrity != nil && r.Integrity.Algorithm == reports.AlgEd25519 {
			// Shown, not judged: a run signed by a CI key may be bundled by
			// an auditor's; the bundle's signature is the verdict.
			r2, err := reports.UnmarshalTrust(rec, trust)
			seal = reports.IntegrityStatus(r2, err)
		}
		fmt.Fprintf(stdout, "  %s's own seal: %s\n", b.Predicate.Record.File, seal)
		t := b.Predicate.Tool
		fmt.Fprintf(stdout, "  %s run of %s, bundled by %s %s (revision %s) at %s\n", r.Kind, r.StartedAt.Format(time.RFC3339),
			t.Name, t.Version, orUnknown(t.VCSRevision), b.Predicate.CreatedAt.Format(time.RFC3339))
		return nil
	}
	r, err := reports.UnmarshalTrust(raw, trust)
	if err != nil {
		if r == nil {
			return notVerified("not an audit bundle or a run record: " + err.Error())
		}
		return notVerified(reports.IntegrityStatus(r, err))
	}
	fmt.Fprintf(stdout, "%s: %s\n", path, reports.IntegrityStatus(r, nil))
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
