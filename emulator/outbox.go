package emulator

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
)

// outboxEntry is one message, linked into the list of all messages.
type outboxEntry struct {
	msg        backdoor.OutboxMessage
	user       string // normalized
	prev, next *outboxEntry
}

// outboxStore holds the passcode messages sent, per account the newest
// outbox.per_user and of all accounts at most outbox.max_messages, the
// oldest going first. A message is appended once per challenge, a rate far
// below what one uncontended lock takes.
type outboxStore struct {
	mu    sync.Mutex
	boxes map[string][]*outboxEntry // per account, oldest first
	// oldest and newest end the list of all messages in send order; an
	// account's messages keep that order, so the oldest of all is always
	// the first of its account.
	oldest, newest *outboxEntry
	n              int
	// trimmed counts messages an account's newer ones pushed out past
	// per_user, evicted those pushed out past max_messages (GET stats).
	trimmed, evicted atomic.Int64
}

func newOutboxStore() *outboxStore {
	return &outboxStore{boxes: map[string][]*outboxEntry{}}
}

// add appends m to user's messages, dropping the account's oldest past
// perUser and the oldest of all past maxMessages.
func (s *outboxStore) add(user string, m backdoor.OutboxMessage, perUser, maxMessages int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for box := s.boxes[user]; len(box) >= perUser; box = s.boxes[user] {
		s.remove(box[0])
		s.trimmed.Add(1)
	}
	for s.n >= maxMessages && s.oldest != nil {
		s.remove(s.oldest)
		s.evicted.Add(1)
	}
	e := &outboxEntry{msg: m, user: user, prev: s.newest}
	if s.newest != nil {
		s.newest.next = e
	} else {
		s.oldest = e
	}
	s.newest = e
	s.boxes[user] = append(s.boxes[user], e)
	s.n++
}

// remove unlinks e from the list and its account. Caller holds mu.
func (s *outboxStore) remove(e *outboxEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		s.oldest = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		s.newest = e.prev
	}
	e.prev, e.next = nil, nil
	s.n--
	box := s.boxes[e.user]
	i := 0 // the first: both lists keep send order
	if len(box) == 0 || box[0] != e {
		i = slices.Index(box, e)
		if i < 0 {
			return
		}
	}
	box = slices.Delete(box, i, i+1) // clears the freed slot: no stale pointer
	if len(box) == 0 {
		delete(s.boxes, e.user)
		return
	}
	s.boxes[e.user] = box
}

// messages copies user's messages, oldest first; nil when none.
func (s *outboxStore) messages(user string) []backdoor.OutboxMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	box := s.boxes[user]
	if len(box) == 0 {
		return nil
	}
	out := make([]backdoor.OutboxMessage, len(box))
	for i, e := range box {
		out[i] = e.msg
	}
	return out
}

// sweep removes the messages that expired before cut, oldest first, and
// stops at the first one that did not; it returns how many went.
func (s *outboxStore) sweep(cut time.Time) int {
	return sweepOldest(&s.mu, func() bool {
		if s.oldest == nil || !s.oldest.msg.ExpiresAt.Before(cut) {
			return false
		}
		s.remove(s.oldest)
		return true
	})
}

func (s *outboxStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}
