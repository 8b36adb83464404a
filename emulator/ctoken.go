package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// flowKind is which of the three flows a continuation token belongs to.
type flowKind uint8

const (
	kindSignUp flowKind = iota + 1
	kindSignIn
	kindReset
)

// step is where in its flow a continuation token was issued. The token
// only opens the endpoints that may follow that step.
type step uint8

const (
	stepSignUpStarted step = iota + 1
	stepSignUpOOBSent
	stepSignUpNeedCredential
	stepSignUpPasswordChallenged
	stepSignUpNeedAttributes
	stepSignUpDone
	stepSignInStarted
	stepSignInPasswordChallenged
	stepSignInOOBSent
	stepResetStarted
	stepResetOOBSent
	stepResetVerified
	stepResetPolling
	stepResetDone
	// The second-factor branch, after a first factor (sign-in) or at the
	// token call after sign-up or reset; the flow keeps its kind.
	stepMFARequired     // token answered mfa_required: introspect next
	stepMFAIntrospected // introspect listed the methods: challenge with an id next
	stepMFAOOBSent      // a code went to the chosen method: token mfa_oob next
	stepRegRequired     // token answered registration_required
	stepRegIntrospected // register introspect listed what may be registered
	stepRegOOBSent      // register challenge sent a code to the new contact
	stepRegPreverified  // register challenge found the contact already verified
	stepRegDone         // register continue registered the method: token next
)

// Continuation token layout (before base64url): version, kind, step,
// flow ID, nonce, expiry, then a truncated HMAC-SHA256 over all of it with
// a per-emulator random key. The flow record on the server holds the
// current nonce, so only the newest token of a flow is accepted.
const (
	ctVersion   = 1
	ctFlowIDLen = 16
	ctPayload   = 1 + 1 + 1 + ctFlowIDLen + 4 + 8
	ctMACLen    = 16
	ctRawLen    = ctPayload + ctMACLen
)

// flowID names a flow record.
type flowID [ctFlowIDLen]byte

// ctClaims is what a continuation token says.
type ctClaims struct {
	kind    flowKind
	step    step
	flow    flowID
	nonce   uint32
	expires time.Time
}

// ctCodec signs and opens continuation tokens.
type ctCodec struct{ key []byte }

func (c ctCodec) seal(cl ctClaims) string {
	var raw [ctRawLen]byte
	raw[0] = ctVersion
	raw[1] = byte(cl.kind)
	raw[2] = byte(cl.step)
	copy(raw[3:], cl.flow[:])
	binary.BigEndian.PutUint32(raw[3+ctFlowIDLen:], cl.nonce)
	binary.BigEndian.PutUint64(raw[7+ctFlowIDLen:], uint64(cl.expires.UnixMilli()))
	m := hmac.New(sha256.New, c.key)
	m.Write(raw[:ctPayload])
	copy(raw[ctPayload:], m.Sum(nil)[:ctMACLen])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// open verifies a token's MAC and decodes it. It does not check expiry or
// the flow record; ok is false for anything not minted by this emulator.
func (c ctCodec) open(tok string) (ctClaims, bool) {
	if base64.RawURLEncoding.DecodedLen(len(tok)) != ctRawLen {
		return ctClaims{}, false
	}
	var raw [ctRawLen]byte
	if n, err := base64.RawURLEncoding.Decode(raw[:], []byte(tok)); err != nil || n != ctRawLen {
		return ctClaims{}, false
	}
	m := hmac.New(sha256.New, c.key)
	m.Write(raw[:ctPayload])
	if !hmac.Equal(m.Sum(nil)[:ctMACLen], raw[ctPayload:]) || raw[0] != ctVersion {
		return ctClaims{}, false
	}
	var cl ctClaims
	cl.kind = flowKind(raw[1])
	cl.step = step(raw[2])
	copy(cl.flow[:], raw[3:])
	cl.nonce = binary.BigEndian.Uint32(raw[3+ctFlowIDLen:])
	cl.expires = time.UnixMilli(int64(binary.BigEndian.Uint64(raw[7+ctFlowIDLen:])))
	return cl, true
}
