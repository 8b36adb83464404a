package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// refreshGrant is what a refresh token stands for.
type refreshGrant struct {
	username string // normalized
	clientID string
	scopes   []string
	expires  int64 // unix ms
}

// refreshKey is a refresh token's 32 random bytes; the token is their
// unpadded base64url text.
type refreshKey [32]byte

// refreshEncoding is strict so that one key has exactly one token text:
// the lax decoder ignores the spare bits of the last character, and four
// texts would redeem the same grant.
var refreshEncoding = base64.RawURLEncoding.Strict()

// sweepBatch is how many entries a sweep removes per lock hold, so a sweep
// after a long clock advance does not stall the requests behind it.
const sweepBatch = 4096

// refreshStore holds the refresh tokens issued and neither redeemed nor
// expired, in issue order, at most the tenant's tokens.max_refresh_tokens
// of them: past the bound the oldest is revoked. One lock serves it: the
// token endpoint is bound by RS256 signing (thousands a second), far below
// what an uncontended mutex takes.
type refreshStore struct {
	mu     sync.Mutex
	grants *simplelru.LRU[refreshKey, *refreshGrant] // Peek only: issue order, never recency
	size   int
	// evicted counts tokens revoked at the bound (GET stats).
	evicted atomic.Int64
}

func newRefreshStore() *refreshStore {
	// The size is set on the first issue, from the tenant then in force.
	grants, _ := simplelru.NewLRU[refreshKey, *refreshGrant](1, nil)
	return &refreshStore{grants: grants, size: 1}
}

// issue stores g under a fresh token, which it returns, revoking the
// oldest tokens past bound.
func (s *refreshStore) issue(g *refreshGrant, bound int) string {
	var k refreshKey
	_, _ = rand.Read(k[:]) // never fails (crypto/rand)
	s.mu.Lock()
	defer s.mu.Unlock()
	if bound != s.size {
		// PUT config changed the bound: shrinking revokes the oldest now.
		s.evicted.Add(int64(s.grants.Resize(bound)))
		s.size = bound
	}
	if s.grants.Add(k, g) {
		s.evicted.Add(1)
	}
	return refreshEncoding.EncodeToString(k[:])
}

// lookup returns the grant of token, if held. Expiry is the caller's to
// check: the sweep removes expired grants only every so often.
func (s *refreshStore) lookup(token string) (*refreshGrant, bool) {
	k, ok := parseRefreshToken(token)
	if !ok {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants.Peek(k)
}

// redeem removes token if it still stands for g; only one of two
// concurrent redemptions of a token wins.
func (s *refreshStore) redeem(token string, g *refreshGrant) bool {
	k, ok := parseRefreshToken(token)
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.grants.Peek(k); !ok || v != g {
		return false
	}
	return s.grants.Remove(k)
}

// sweep removes the grants expired at now (unix ms), oldest first, and
// stops at the first one still valid. Issue order is expiry order while
// the lifetime stays; after PUT config shortens it, tokens expired behind
// an older valid one wait for it (lookup refuses them all the same, and
// they count against the bound).
func (s *refreshStore) sweep(now int64) int {
	return sweepOldest(&s.mu, func() bool {
		if _, g, ok := s.grants.GetOldest(); !ok || g.expires >= now {
			return false
		}
		s.grants.RemoveOldest()
		return true
	})
}

// sweepOldest calls drop under mu until it reports that it dropped
// nothing, releasing mu every sweepBatch drops; it returns the drops.
func sweepOldest(mu *sync.Mutex, drop func() bool) int {
	n := 0
	for {
		mu.Lock()
		i := 0
		for i < sweepBatch && drop() {
			i++
		}
		mu.Unlock()
		n += i
		if i < sweepBatch {
			return n
		}
	}
}

func (s *refreshStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants.Len()
}

func parseRefreshToken(token string) (refreshKey, bool) {
	var k refreshKey
	if refreshEncoding.EncodedLen(len(k)) != len(token) {
		return k, false
	}
	n, err := refreshEncoding.Decode(k[:], []byte(token))
	return k, err == nil && n == len(k)
}
