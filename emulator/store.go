package emulator

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// shardCount spreads locks so parallel flows rarely contend.
const shardCount = 64

// shardedMap is a map split across independently locked shards.
type shardedMap[K comparable, V any] struct {
	seed   maphash.Seed
	shards [shardCount]shard[K, V]
}

type shard[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]V
}

func newShardedMap[K comparable, V any]() *shardedMap[K, V] {
	s := &shardedMap[K, V]{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = make(map[K]V)
	}
	return s
}

func (s *shardedMap[K, V]) shard(k K) *shard[K, V] {
	return &s.shards[maphash.Comparable(s.seed, k)%shardCount]
}

func (s *shardedMap[K, V]) get(k K) (V, bool) {
	sh := s.shard(k)
	sh.mu.RLock()
	v, ok := sh.m[k]
	sh.mu.RUnlock()
	return v, ok
}

// putIfAbsent stores v unless k is taken; it reports whether it stored.
func (s *shardedMap[K, V]) putIfAbsent(k K, v V) bool {
	sh := s.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[k]; ok {
		return false
	}
	sh.m[k] = v
	return true
}

func (s *shardedMap[K, V]) put(k K, v V) {
	sh := s.shard(k)
	sh.mu.Lock()
	sh.m[k] = v
	sh.mu.Unlock()
}

// remove deletes k; it reports whether k was there.
func (s *shardedMap[K, V]) remove(k K) bool {
	sh := s.shard(k)
	sh.mu.Lock()
	_, ok := sh.m[k]
	delete(sh.m, k)
	sh.mu.Unlock()
	return ok
}

// update runs fn on k's value under the shard's write lock.
func (s *shardedMap[K, V]) update(k K, fn func(v V, ok bool) (V, bool)) {
	sh := s.shard(k)
	sh.mu.Lock()
	v, ok := sh.m[k]
	if nv, keep := fn(v, ok); keep {
		sh.m[k] = nv
	} else if ok {
		delete(sh.m, k)
	}
	sh.mu.Unlock()
}

// sweep deletes every entry for which drop is true, one shard at a time.
func (s *shardedMap[K, V]) sweep(drop func(V) bool) int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for k, v := range sh.m {
			if drop(v) {
				delete(sh.m, k)
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}

func (s *shardedMap[K, V]) len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

// user is one account. Fields change only under the users shard lock;
// readers take a copy with snapshot.
type user struct {
	username    string // as signed up
	objectID    string
	attributes  map[string]string
	salt        [16]byte
	hash        passwordHash
	hasPassword bool
	history     []passwordHash // earlier passwords, newest first
	// resetRequired makes a correct password fail with 50142 until the
	// user resets it (an administrator-forced reset).
	resetRequired bool
	alias         string         // sign-in username besides the email, "" when none
	methods       []strongMethod // registered strong methods; replaced, never changed in place
}

// flow is the server-side record of one sign-up, sign-in or reset in
// progress. Kept small: a million of them must fit in well under 2 GiB.
type flow struct {
	mu         sync.Mutex
	kind       flowKind
	step       step
	done       bool // consumed or reset: every token of it is dead
	verified   bool // the email was proven with an OTP
	challenges challengeSet
	pollIdx    uint8
	// oobFails counts wrong oob values against the current code; at the
	// tenant's otp.max_attempts the code stops working (checkOTP).
	oobFails   uint8
	nonce      uint32
	otpExpires int64 // unix ms
	expires    int64 // unix ms, of the newest token
	clientID   string
	username   string // normalized
	otp        string
	password   string // sign-up: chosen password; reset: submitted new password
	attributes map[string]string
	caps       capSet // capabilities advertised at start
	mfaDone    bool   // a second factor was proven or a strong method registered
	// regChannel and regTarget are the strong method a register challenge
	// sent a code to (or preverified), registered by register continue.
	regChannel string
	regTarget  string
}

// stateData is everything reset throws away, swapped as one pointer.
type stateData struct {
	users   *shardedMap[string, *user]
	flows   *shardedMap[flowID, *flow]
	outbox  *outboxStore
	refresh *refreshStore
	aliases *shardedMap[string, string] // lower-case alias -> normalized username

	// liveFlows is how many records flows holds, kept beside it because
	// counting the shards takes every lock.
	liveFlows atomic.Int64
	// flowsRefused counts starts refused at the live-flow bound;
	// passcodeLockouts counts codes that stopped working at the attempt
	// limit. Both are shown by GET /emulator/v1/stats.
	flowsRefused     atomic.Int64
	passcodeLockouts atomic.Int64
}

func newStateData() *stateData {
	return &stateData{
		aliases: newShardedMap[string, string](),
		users:   newShardedMap[string, *user](),
		flows:   newShardedMap[flowID, *flow](),
		outbox:  newOutboxStore(),
		refresh: newRefreshStore(),
	}
}

// clock is the emulator's time: the wall clock plus a backdoor offset, so
// tests can expire codes and tokens without waiting.
type clock struct {
	offset atomic.Int64
	wall   func() time.Time
}

func (c *clock) Now() time.Time { return c.wall().Add(time.Duration(c.offset.Load())) }

func (c *clock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// maxClockOffset bounds how far the backdoor may move the clock. Without a
// bound, repeated advances overflow the int64 offset and the clock jumps
// back ~292 years, un-expiring every code and token; a century is far more
// than any lifetime a test needs to outrun.
const maxClockOffset = 100 * 365 * 24 * time.Hour

// Advance moves the clock forward by d (d >= 0). It reports false, moving
// nothing, when the offset would exceed maxClockOffset.
func (c *clock) Advance(d time.Duration) bool {
	for {
		cur := c.offset.Load()
		if d < 0 || d > maxClockOffset-time.Duration(cur) {
			return false
		}
		if c.offset.CompareAndSwap(cur, cur+int64(d)) {
			return true
		}
	}
}

func (c *clock) Reset() { c.offset.Store(0) }
