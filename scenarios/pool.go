package scenarios

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Credential is a user that can sign in. Password is empty for a user who
// signs in with a one-time passcode.
type Credential struct {
	Username string            `json:"username"`
	Password nativeauth.Secret `json:"password"`
}

// UserPool holds users for sign-in and reset flows. A flow Takes a user for
// the length of one iteration and Puts it back (with its new password after
// a reset), so no two iterations use one user at once. Safe for concurrent
// use.
type UserPool struct {
	mu    sync.Mutex
	free  []Credential
	inUse int
}

// NewUserPool returns a pool holding creds.
func NewUserPool(creds ...Credential) *UserPool {
	return &UserPool{free: append([]Credential(nil), creds...)}
}

// ErrPoolEmpty is returned by flows when every user is in use: the load is
// higher than the pool was set up for.
var ErrPoolEmpty = errors.New("user pool has no free user")

// Take removes a free user from the pool; ok is false when none is free.
// Users are handed out in first-in first-out order, so a user just put back
// rests while the others are used.
func (p *UserPool) Take() (c Credential, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) == 0 {
		return Credential{}, false
	}
	c = p.free[0]
	p.free[0] = Credential{}
	p.free = p.free[1:]
	p.inUse++
	return c, true
}

// Put returns a user taken with Take (or adds a new one).
func (p *UserPool) Put(c Credential) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, c)
	if p.inUse > 0 {
		p.inUse--
	}
}

// Drop forgets a user taken with Take whose password is no longer known
// (a reset that failed half-way).
func (p *UserPool) Drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inUse > 0 {
		p.inUse--
	}
}

// ready is nil when the pool knows at least one user, free or in use, and
// at least concurrency of them: each iteration holds a user, so the
// iterations beyond would fail at once.
func (p *UserPool) ready(concurrency int) error {
	total := p.Total()
	if total == 0 {
		return fmt.Errorf("%w: it is empty", ErrPoolEmpty)
	}
	if concurrency > total {
		return fmt.Errorf("%w: %d users for %d iterations at once; each holds a user, and the others would fail at once", ErrPoolEmpty, total, concurrency)
	}
	return nil
}

// Len is how many users are free.
func (p *UserPool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free)
}

// Total is how many users the pool knows, free or in use.
func (p *UserPool) Total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free) + p.inUse
}

// LoadFile adds users from a file: JSON lines ({"username":..,"password":..})
// or CSV (username,password; an optional header line "username,password").
// The format is chosen by the first non-blank character.
func (p *UserPool) LoadFile(path string) (int, error) {
	return p.LoadFileShare(path, nil)
}

// LoadFileShare adds the users of a file (see LoadFile) whose 0-based
// position in it keep accepts, so workers splitting one plan each take
// their own users (keep nil takes all). It returns how many it added.
func (p *UserPool) LoadFileShare(path string, keep func(k int64) bool) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("user pool: %w", err)
	}
	defer f.Close()
	creds, err := ParseUsers(f)
	if err != nil {
		return 0, fmt.Errorf("user pool %s: %w", path, err)
	}
	n := 0
	for k, c := range creds {
		if keep == nil || keep(int64(k)) {
			p.Put(c)
			n++
		}
	}
	return n, nil
}

// maxUserFile bounds a user file (a million users fit). A variable so a
// test can lower it.
var maxUserFile int64 = 256 << 20

// ErrUserFileTooLarge is returned for a user file over the size bound.
var ErrUserFileTooLarge = errors.New("user file too large")

// ParseUsers decodes a user file (see LoadFile). A file over the bound is
// refused: cut at the bound, its last record could lose part of its
// password and still parse.
func ParseUsers(r io.Reader) ([]Credential, error) {
	lr := &io.LimitedReader{R: r, N: maxUserFile + 1}
	creds, err := parseUsers(lr)
	if lr.N == 0 {
		return nil, fmt.Errorf("%w: over %d bytes", ErrUserFileTooLarge, maxUserFile)
	}
	return creds, err
}

func parseUsers(r io.Reader) ([]Credential, error) {
	br := bufio.NewReader(r)
	for {
		b, err := br.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, nil
			}
			return nil, err
		}
		if b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n' {
			_, _ = br.ReadByte()
			continue
		}
		if b[0] == '{' {
			return parseJSONLines(br)
		}
		return parseCSV(br)
	}
}

// rawCredential reads the password as a plain string: Secret's JSON
// decoding is for API answers, and here the file is the source.
type rawCredential struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func parseJSONLines(r io.Reader) ([]Credential, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var out []Credential
	for n := 1; ; n++ {
		var rc rawCredential
		err := dec.Decode(&rc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", n, err)
		}
		c, err := credential(rc.Username, rc.Password)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", n, err)
		}
		out = append(out, c)
	}
}

func parseCSV(r io.Reader) ([]Credential, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 2
	cr.TrimLeadingSpace = true
	var out []Credential
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			// csv errors quote positions, not field values.
			return nil, fmt.Errorf("csv: %w", err)
		}
		if n == 1 && strings.EqualFold(rec[0], "username") && strings.EqualFold(rec[1], "password") {
			continue
		}
		c, err := credential(rec[0], rec[1])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, c)
	}
}

func credential(username, password string) (Credential, error) {
	username = strings.TrimSpace(username)
	if strings.Count(username, "@") != 1 || strings.HasPrefix(username, "@") || strings.HasSuffix(username, "@") {
		return Credential{}, fmt.Errorf("username %q is not an email address", username)
	}
	return Credential{Username: username, Password: nativeauth.Secret(password)}, nil
}
