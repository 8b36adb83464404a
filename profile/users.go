package profile

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
)

// Users hands out usernames nobody has used: plus-addressed on the profile's
// domain, unique per run (a random run ID) and per call. It is safe for
// concurrent use (ginkgo -p processes each have their own run ID; load
// workers share one Users).
type Users struct {
	localPart, domain string
	run               string
	n                 atomic.Uint64
}

// InSegment marks every username made from now on with the execution
// segment (e.g. "s2of4"), so workers that split one plan never make the
// same username and a username in a tenant says which worker made it. Call
// it before the first New.
func (u *Users) InSegment(index, count int) {
	u.run = fmt.Sprintf("%s-s%dof%d", strings.SplitN(u.run, "-", 2)[0], index, count)
}

// NewUsers returns a generator for {localPart}+{run}-{n}@{domain} with a
// fresh random run ID.
func NewUsers(localPart, domain string) (*Users, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("run ID: %w", err)
	}
	return &Users{localPart: localPart, domain: domain, run: hex.EncodeToString(b[:])}, nil
}

// RunID is the random part that makes this run's usernames unique.
func (u *Users) RunID() string { return u.run }

var tagClean = regexp.MustCompile(`[^a-z0-9]+`)

// New returns a username never returned before in this run. tag, when not
// empty, is folded into the local part (lower-case letters and digits, at
// most 16) so a username in the evidence says which spec made it.
func (u *Users) New(tag string) string {
	n := u.n.Add(1)
	tag = strings.Trim(tagClean.ReplaceAllString(strings.ToLower(tag), "-"), "-")
	if len(tag) > 16 {
		tag = strings.TrimRight(tag[:16], "-")
	}
	if tag != "" {
		return fmt.Sprintf("%s+%s-%s-%d@%s", u.localPart, u.run, tag, n, u.domain)
	}
	return fmt.Sprintf("%s+%s-%d@%s", u.localPart, u.run, n, u.domain)
}
