package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/ciamcheck/ciamcheck/reports/attest"
)

func init() { subcommands = append(subcommands, newKeygenCmd) }

func newKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Make an Ed25519 key pair to sign run records and audit bundles",
		Long: `keygen writes a new Ed25519 key pair: PREFIX.key, the private key (PEM
PKCS #8, mode 0600), and PREFIX.pub, the public key (PEM PKIX, the form
cosign and OpenSSL read). It never overwrites an existing file.

Keep the private key secret: sign with it through --key-file or the
CIAMCHECK_SIGNING_KEY environment variable (its PEM text, e.g. a CI secret).
Give the public key to whoever verifies: "ciamcheck report verify --key
PREFIX.pub" proves a record or bundle was signed by the private key and not
changed since.

Exit status: 0 written; 2 not written (a file exists, or cannot be created).`,
		Example: `  ciamcheck keygen
  ciamcheck keygen --out keys/ciamcheck-ci`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runKeygen(cmd.OutOrStdout(), out) // any error exits 2 (see main)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "ciamcheck", "path prefix of the key files: PREFIX.key and PREFIX.pub")
	return cmd
}

func runKeygen(stdout io.Writer, prefix string) error {
	privPEM, pubPEM, err := attest.GenerateKey()
	if err != nil {
		return err
	}
	keyPath, pubPath := prefix+".key", prefix+".pub"
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("keygen: %s exists; refusing to overwrite a key", p)
		}
	}
	if err := writeNew(keyPath, privPEM, 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, pubPEM, 0o644); err != nil {
		os.Remove(keyPath) // a private key without its public half is of no use
		return err
	}
	pub, err := attest.ParsePublicKey(pubPEM)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %s (private: keep it secret) and %s (public: give it to verifiers)\nkey id %s\n", keyPath, pubPath, attest.KeyID(pub))
	return err
}

// writeNew creates path with perm and writes b, failing if path exists
// (O_EXCL, so a race with another writer cannot overwrite either).
func writeNew(path string, b []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("keygen: %s exists; refusing to overwrite a key", path)
		}
		return fmt.Errorf("keygen: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("keygen: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("keygen: write %s: %w", path, err)
	}
	// The umask may have narrowed perm; never widened it, so 0600 holds.
	return nil
}
