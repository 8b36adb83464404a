package attest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// PayloadTypeInToto is the DSSE payload type of an in-toto statement.
const PayloadTypeInToto = "application/vnd.in-toto+json"

// maxEnvelope bounds an envelope on decoding: ours hold a dozen subjects.
const maxEnvelope = 4 << 20

// signer and verifier adapt an Ed25519 key to DSSE.
type signer struct{ priv ed25519.PrivateKey }

func (s signer) Sign(_ context.Context, data []byte) ([]byte, error) {
	return ed25519.Sign(s.priv, data), nil
}
func (s signer) KeyID() (string, error) { return KeyID(s.priv.Public().(ed25519.PublicKey)), nil }

type verifier struct{ pub ed25519.PublicKey }

func (v verifier) Verify(_ context.Context, data, sig []byte) error {
	if !ed25519.Verify(v.pub, data, sig) {
		return errors.New("Ed25519 signature does not match")
	}
	return nil
}
func (v verifier) KeyID() (string, error)   { return KeyID(v.pub), nil }
func (v verifier) Public() crypto.PublicKey { return v.pub }

// SignPAE signs DSSE's pre-authentication encoding of payload, so a
// signature over one payload type can never pass for another.
func SignPAE(priv ed25519.PrivateKey, payloadType string, payload []byte) []byte {
	return ed25519.Sign(priv, dsse.PAE(payloadType, payload))
}

// VerifyPAE checks a SignPAE signature.
func VerifyPAE(pub ed25519.PublicKey, payloadType string, payload, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, dsse.PAE(payloadType, payload), sig)
}

// Subject is one file an attestation covers.
type Subject struct {
	Name   string
	SHA256 string // lowercase hex
}

// SignStatement wraps an in-toto v1 statement about subjects, with predicate
// (any value that encodes as a JSON object) under predicateType, in a DSSE
// envelope signed by priv, and returns the envelope's JSON.
func SignStatement(priv ed25519.PrivateKey, subjects []Subject, predicateType string, predicate any) ([]byte, error) {
	pj, err := json.Marshal(predicate)
	if err != nil {
		return nil, fmt.Errorf("encode predicate: %w", err)
	}
	var ps structpb.Struct
	if err := protojson.Unmarshal(pj, &ps); err != nil {
		return nil, fmt.Errorf("predicate is not a JSON object: %w", err)
	}
	st := &intoto.Statement{Type: intoto.StatementTypeUri, PredicateType: predicateType, Predicate: &ps}
	for _, s := range subjects {
		st.Subject = append(st.Subject, &intoto.ResourceDescriptor{Name: s.Name, Digest: map[string]string{"sha256": s.SHA256}})
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	payload, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode in-toto statement: %w", err)
	}
	es, err := dsse.NewEnvelopeSigner(signer{priv})
	if err != nil {
		return nil, fmt.Errorf("DSSE signer: %w", err)
	}
	env, err := es.SignPayload(context.Background(), PayloadTypeInToto, payload)
	if err != nil {
		return nil, fmt.Errorf("sign DSSE envelope: %w", err)
	}
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode DSSE envelope: %w", err)
	}
	return append(b, '\n'), nil
}

// Statement is a verified in-toto statement.
type Statement struct {
	KeyID         string // the key that signed it
	PredicateType string
	Subjects      []Subject
	Predicate     json.RawMessage
}

// VerifyStatement decodes a DSSE envelope (strictly: one JSON object, known
// members only, bounded size), checks that pub signed it, and decodes the
// in-toto v1 statement it holds. Nothing of the payload is believed before
// the signature checks. The error says why it was refused.
func VerifyStatement(envelope []byte, pub ed25519.PublicKey) (*Statement, error) {
	if len(envelope) > maxEnvelope {
		return nil, fmt.Errorf("DSSE envelope: larger than %d bytes", maxEnvelope)
	}
	var env dsse.Envelope
	dec := json.NewDecoder(bytes.NewReader(envelope))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("DSSE envelope: not a DSSE envelope: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("DSSE envelope: trailing data after the envelope")
	}
	if env.PayloadType != PayloadTypeInToto {
		return nil, fmt.Errorf("DSSE envelope: payloadType: want %q, got %q", PayloadTypeInToto, env.PayloadType)
	}
	if len(env.Signatures) == 0 {
		return nil, errors.New("DSSE envelope: no signature (an unsigned manifest is not evidence)")
	}
	want := KeyID(pub)
	ev, err := dsse.NewEnvelopeVerifier(verifier{pub})
	if err != nil {
		return nil, fmt.Errorf("DSSE verifier: %w", err)
	}
	accepted, payload, err := ev.VerifyAndDecode(context.Background(), &env)
	if err != nil || len(accepted) == 0 {
		var ids []string
		for _, s := range env.Signatures {
			ids = append(ids, s.KeyID)
		}
		if !slices.Contains(ids, want) {
			return nil, fmt.Errorf("signature: want one by key %s, got key(s) %s", want, strings.Join(ids, ", "))
		}
		return nil, fmt.Errorf("signature: the signature by key %s does not verify: the envelope was modified", want)
	}
	var st intoto.Statement
	if err := (protojson.UnmarshalOptions{}).Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	if st.GetType() != intoto.StatementTypeUri {
		return nil, fmt.Errorf("in-toto statement: _type: want %q, got %q", intoto.StatementTypeUri, st.GetType())
	}
	out := &Statement{KeyID: want, PredicateType: st.GetPredicateType()}
	for _, s := range st.GetSubject() {
		d, ok := s.GetDigest()["sha256"]
		if !ok {
			return nil, fmt.Errorf("in-toto statement: subject %q has no sha256 digest", s.GetName())
		}
		out.Subjects = append(out.Subjects, Subject{Name: s.GetName(), SHA256: strings.ToLower(d)})
	}
	if out.Predicate, err = protojson.Marshal(st.GetPredicate()); err != nil {
		return nil, fmt.Errorf("in-toto statement: predicate: %w", err)
	}
	return out, nil
}
