package scenarios

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestParseUsers(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // username:password
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"blank lines only", "\n \n", nil, ""},
		{"csv with header", "username,password\na@x.io,Pw-1\nb@x.io, \"Pw,2\"\n", []string{"a@x.io:Pw-1", "b@x.io:Pw,2"}, ""},
		{"csv without header", "a@x.io,Pw-1\n", []string{"a@x.io:Pw-1"}, ""},
		{"csv otp user", "a@x.io,\n", []string{"a@x.io:"}, ""},
		{"csv wrong field count", "a@x.io,Pw,extra\n", nil, "csv"},
		{"csv not email", "alice,Pw\n", nil, "line 1"},
		{"json lines", "{\"username\":\"a@x.io\",\"password\":\"Pw-1\"}\n{\"username\":\"b@x.io\",\"password\":\"Pw-2\"}\n", []string{"a@x.io:Pw-1", "b@x.io:Pw-2"}, ""},
		{"json unknown member", `{"username":"a@x.io","pass":"x"}`, nil, "record 1"},
		{"json bad second record", "{\"username\":\"a@x.io\"}\n{\"username\":\"nope\"}", nil, "record 2"},
		{"json garbage", `{"username":`, nil, "record 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUsers(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var flat []string
			for _, c := range got {
				flat = append(flat, c.Username+":"+c.Password.Reveal())
			}
			if strings.Join(flat, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("got %v, want %v", flat, tt.want)
			}
		})
	}
}

func TestParseUsersErrorsDoNotLeakPasswords(t *testing.T) {
	_, err := ParseUsers(strings.NewReader("a@x.io,Sup3r-Secret\nbad,Other-Secret\n"))
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), "Secret") {
		t.Fatalf("error leaks a password: %v", err)
	}
}

func FuzzParseUsers(f *testing.F) {
	f.Add("username,password\na@x.io,pw\n")
	f.Add(`{"username":"a@x.io","password":"pw"}`)
	f.Add("\"unterminated,\n")
	f.Fuzz(func(t *testing.T, in string) {
		creds, err := ParseUsers(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, c := range creds {
			if strings.Count(c.Username, "@") != 1 {
				t.Fatalf("accepted username %q", c.Username)
			}
		}
	})
}

func TestUserPool(t *testing.T) {
	p := NewUserPool(Credential{Username: "a@x.io"}, Credential{Username: "b@x.io"})
	a, ok := p.Take()
	if !ok || a.Username != "a@x.io" {
		t.Fatalf("Take = %v %v", a, ok)
	}
	b, _ := p.Take()
	if _, ok := p.Take(); ok {
		t.Fatal("Take from an empty pool succeeded")
	}
	if p.Len() != 0 || p.Total() != 2 {
		t.Fatalf("Len %d Total %d, want 0 2", p.Len(), p.Total())
	}
	p.Put(Credential{Username: a.Username, Password: "new"})
	p.Drop() // b's password became unknown
	if p.Len() != 1 || p.Total() != 1 {
		t.Fatalf("after Put and Drop: Len %d Total %d, want 1 1", p.Len(), p.Total())
	}
	if got, _ := p.Take(); got.Password.Reveal() != "new" || b.Username != "b@x.io" {
		t.Fatal("Put did not keep the new password")
	}
}

func TestUserPoolConcurrent(t *testing.T) {
	const users = 16
	p := NewUserPool()
	for i := range users {
		p.Put(Credential{Username: string(rune('a'+i)) + "@x.io"})
	}
	var mu sync.Mutex
	holding := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				c, ok := p.Take()
				if !ok {
					continue
				}
				mu.Lock()
				if holding[c.Username] {
					t.Errorf("%s handed out twice at once", c.Username)
				}
				holding[c.Username] = true
				mu.Unlock()
				mu.Lock()
				delete(holding, c.Username)
				mu.Unlock()
				p.Put(c)
			}
		})
	}
	wg.Wait()
	if p.Len() != users || p.Total() != users {
		t.Fatalf("Len %d Total %d, want %d", p.Len(), p.Total(), users)
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte("username,password\na@x.io,Pw-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := NewUserPool()
	n, err := p.LoadFile(path)
	if err != nil || n != 1 || p.Len() != 1 {
		t.Fatalf("LoadFile = %d, %v; Len %d", n, err, p.Len())
	}
	if _, err := p.LoadFile(filepath.Join(t.TempDir(), "none.csv")); err == nil || !strings.Contains(err.Error(), "none.csv") {
		t.Fatalf("missing file err = %v", err)
	}
}

func TestLoadFileShareSplitsByPosition(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.csv")
	var b strings.Builder
	b.WriteString("username,password\n")
	for i := range 10 {
		fmt.Fprintf(&b, "u%d@x.io,Pw-%d\n", i, i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for seg := range 3 {
		p := NewUserPool()
		n, err := p.LoadFileShare(path, func(k int64) bool { return k%3 == int64(seg) })
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{4, 3, 3}[seg]; n != want || p.Len() != want {
			t.Errorf("share %d of 10 users in 3: want %d, got %d (Len %d)", seg, want, n, p.Len())
		}
		for {
			c, ok := p.Take()
			if !ok {
				break
			}
			seen[c.Username]++
		}
	}
	for i := range 10 {
		if u := fmt.Sprintf("u%d@x.io", i); seen[u] != 1 {
			t.Errorf("%s: want in exactly one share, got %d", u, seen[u])
		}
	}
}

// TestParseUsersRefusesOversizeFile: a file cut at the size bound could end
// in a record whose password lost its tail and still parses; it is refused.
func TestParseUsersRefusesOversizeFile(t *testing.T) {
	in := "a@x.io,Password-1\nb@x.io,Password-2\n"
	defer func(old int64) { maxUserFile = old }(maxUserFile)
	maxUserFile = int64(len(in) - 3) // cuts b's password to "Passwo"
	if got, err := ParseUsers(strings.NewReader(in)); !errors.Is(err, ErrUserFileTooLarge) {
		t.Fatalf("ParseUsers = %v, %v; want ErrUserFileTooLarge", got, err)
	}
	maxUserFile = int64(len(in))
	if got, err := ParseUsers(strings.NewReader(in)); err != nil || len(got) != 2 || got[1].Password != "Password-2" {
		t.Fatalf("a file of exactly the bound: %v, %v", got, err)
	}
}
