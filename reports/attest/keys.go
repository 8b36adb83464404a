// Package attest signs and verifies ciamcheck's evidence with Ed25519: the
// keys (PEM files that sigstore's cosign and OpenSSL read too), DSSE
// envelopes holding in-toto attestation statements, and audit bundles (a zip
// of a run's record, its reports and inputs, with a signed manifest of their
// SHA-256 digests).
//
// DSSE is github.com/secure-systems-lab/go-securesystemslib/dsse and the
// statement is github.com/in-toto/attestation/go/v1, the reference
// implementations of both specifications; this package only chooses the key
// type, the payload and the bundle layout, and refuses anything a verifier
// must not accept (unsigned, signed by another key, files changed, added or
// removed, hostile zip entries).
package attest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// SigningKeyEnv names the environment variable that may hold the Ed25519
// private key (the PEM text of a key file), for CI systems that hand secrets
// over as variables rather than files.
const SigningKeyEnv = "CIAMCHECK_SIGNING_KEY"

// PEM block types: PKCS #8 for the private key and PKIX for the public key,
// the encodings `openssl pkey` writes and `cosign verify-blob --key` reads.
const (
	pemPrivate = "PRIVATE KEY"
	pemPublic  = "PUBLIC KEY"
)

// maxKeyFile bounds a key file read: a PEM Ed25519 key is about 120 bytes.
const maxKeyFile = 64 << 10

// GenerateKey makes a new Ed25519 key pair and returns both halves as PEM.
func GenerateKey() (privatePEM, publicPEM []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate Ed25519 key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encode private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivate, Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: pubDER}), nil
}

// ParsePrivateKey reads a PEM PKCS #8 Ed25519 private key.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	return parseKey[ed25519.PrivateKey](b, pemPrivate, "private key", x509.ParsePKCS8PrivateKey)
}

// ParsePublicKey reads a PEM PKIX Ed25519 public key.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	return parseKey[ed25519.PublicKey](b, pemPublic, "public key", x509.ParsePKIXPublicKey)
}

// parseKey reads the one PEM block of type pemType in b with parse, and
// refuses a key that is not a K (an Ed25519 key).
func parseKey[K any](b []byte, pemType, what string, parse func([]byte) (any, error)) (K, error) {
	var none K
	der, err := onePEM(b, pemType)
	if err != nil {
		return none, fmt.Errorf("%s: %w", what, err)
	}
	k, err := parse(der)
	if err != nil {
		return none, fmt.Errorf("%s: %w", what, err)
	}
	key, ok := k.(K)
	if !ok {
		return none, fmt.Errorf("%s: want Ed25519, got %T", what, k)
	}
	return key, nil
}

// onePEM is the DER of the single PEM block of type typ in b.
func onePEM(b []byte, typ string) ([]byte, error) {
	blk, rest := pem.Decode(b)
	if blk == nil {
		if strings.Contains(string(b), "-----BEGIN") {
			return nil, errors.New("malformed PEM")
		}
		return nil, fmt.Errorf("not PEM: want a %q block", typ)
	}
	if blk.Type != typ {
		return nil, fmt.Errorf("PEM block is %q, want %q", blk.Type, typ)
	}
	if len(blk.Headers) != 0 {
		return nil, errors.New("encrypted or annotated PEM keys are not supported")
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, errors.New("data after the PEM block")
	}
	return blk.Bytes, nil
}

// ReadPublicKeyFile reads a public key file written by keygen.
func ReadPublicKeyFile(path string) (ed25519.PublicKey, error) {
	b, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	pub, err := ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pub, nil
}

// LoadSigningKey reads the private key from path, or from SigningKeyEnv when
// path is empty. It returns nil and no error when neither is given.
func LoadSigningKey(path string) (ed25519.PrivateKey, error) {
	var b []byte
	src := path
	if path != "" {
		var err error
		if b, err = readKeyFile(path); err != nil {
			return nil, err
		}
	} else {
		v := os.Getenv(SigningKeyEnv)
		if v == "" {
			return nil, nil
		}
		b, src = []byte(v), SigningKeyEnv
	}
	priv, err := ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return priv, nil
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", path, err)
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("read key %s: larger than %d bytes; not a key file", path, maxKeyFile)
	}
	return b, nil
}

// KeyID names a public key the way DSSE tooling does: the SSH SHA256
// fingerprint, "SHA256:" and base64, as `ssh-keygen -l` prints it.
func KeyID(pub ed25519.PublicKey) string {
	id, err := dsse.SHA256KeyID(pub)
	if err != nil {
		// An ed25519.PublicKey of the wrong length; say so in the ID.
		return "invalid-key"
	}
	return id
}
