package attest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseKeys(t *testing.T) {
	privPEM, pubPEM, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPubDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPriv := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})
	ecPub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecPubDER})
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}})

	tests := []struct {
		name    string
		in      []byte
		public  bool
		wantErr string
	}{
		{"private", privPEM, false, ""},
		{"public", pubPEM, true, ""},
		{"public given as private", pubPEM, false, `PEM block is "PUBLIC KEY", want "PRIVATE KEY"`},
		{"private given as public", privPEM, true, `PEM block is "PRIVATE KEY", want "PUBLIC KEY"`},
		{"ECDSA private", ecPriv, false, "want Ed25519, got *ecdsa.PrivateKey"},
		{"ECDSA public", ecPub, true, "want Ed25519, got *ecdsa.PublicKey"},
		{"not PEM", []byte("hello"), true, "not PEM"},
		{"broken PEM", []byte("-----BEGIN PUBLIC KEY-----\n@@@\n"), true, "malformed PEM"},
		{"two blocks", append(append([]byte{}, pubPEM...), pubPEM...), true, "data after the PEM block"},
		{"encrypted", encrypted, false, "encrypted or annotated"},
		{"garbage DER", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("xx")}), true, "public key: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.public {
				_, err = ParsePublicKey(tt.in)
			} else {
				_, err = ParsePrivateKey(tt.in)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error: want %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestLoadSigningKey(t *testing.T) {
	privPEM, pubPEM, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "k.key")
	if err := os.WriteFile(keyFile, privPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}

	t.Setenv(SigningKeyEnv, "")
	if k, err := LoadSigningKey(""); k != nil || err != nil {
		t.Fatalf("nothing given: want nil, nil; got %v, %v", k != nil, err)
	}
	k, err := LoadSigningKey(keyFile)
	if err != nil || !pub.Equal(k.Public()) {
		t.Fatalf("from file: %v", err)
	}
	t.Setenv(SigningKeyEnv, string(privPEM))
	if k, err := LoadSigningKey(""); err != nil || !pub.Equal(k.Public()) {
		t.Fatalf("from %s: %v", SigningKeyEnv, err)
	}
	t.Setenv(SigningKeyEnv, "not a key")
	_, err = LoadSigningKey("")
	if err == nil || !strings.Contains(err.Error(), SigningKeyEnv+": private key: not PEM") {
		t.Fatalf("bad %s: want its name in the error, got %v", SigningKeyEnv, err)
	}
	if strings.Contains(err.Error(), "not a key") {
		t.Fatal("the variable's content must not be echoed")
	}
	if _, err := LoadSigningKey(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing file accepted")
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, maxKeyFile+1), 0o600)
	if _, err := ReadPublicKeyFile(big); err == nil || !strings.Contains(err.Error(), "not a key file") {
		t.Fatalf("oversize key file: %v", err)
	}
}

func TestSignPAE(t *testing.T) {
	priv, pub := testKey(t)
	_, other := testKey(t)
	sig := SignPAE(priv, "application/x", []byte("payload"))
	if !VerifyPAE(pub, "application/x", []byte("payload"), sig) {
		t.Fatal("own signature refused")
	}
	for name, ok := range map[string]bool{
		"other payload type": VerifyPAE(pub, "application/y", []byte("payload"), sig),
		"other payload":      VerifyPAE(pub, "application/x", []byte("payloaD"), sig),
		"other key":          VerifyPAE(other, "application/x", []byte("payload"), sig),
		"no key":             VerifyPAE(nil, "application/x", []byte("payload"), sig),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParsePublicKey(f *testing.F) {
	_, pubPEM, err := GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pubPEM)
	f.Fuzz(func(t *testing.T, b []byte) {
		if pub, err := ParsePublicKey(b); err == nil && len(pub) != 32 {
			t.Fatalf("accepted a %d-byte key", len(pub))
		}
	})
}
