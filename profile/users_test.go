package profile

import (
	"regexp"
	"strings"
	"sync"
	"testing"
)

func TestUsersUniqueUnderConcurrency(t *testing.T) {
	u, err := NewUsers("ciam", "example.com")
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 8, 500
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			local := make([]string, 0, each)
			for i := 0; i < each; i++ {
				local = append(local, u.New("signup"))
			}
			mu.Lock()
			defer mu.Unlock()
			for _, n := range local {
				if seen[n] {
					t.Errorf("duplicate username %s", n)
				}
				seen[n] = true
			}
		})
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Fatalf("%d unique usernames, want %d", len(seen), workers*each)
	}
	// Another run (another process of ginkgo -p) never collides.
	u2, err := NewUsers("ciam", "example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u2.RunID() == u.RunID() || seen[u2.New("signup")] {
		t.Fatal("a second run reuses the first run's usernames")
	}
}

func TestUsersShape(t *testing.T) {
	u := &Users{localPart: "qa", domain: "mail.example.com", run: "0a1b2c3d"}
	tests := []struct{ tag, want string }{
		{"", `^qa\+0a1b2c3d-1@mail\.example\.com$`},
		{"Sign Up: OTP/expired!", `^qa\+0a1b2c3d-sign-up-otp-expi-2@mail\.example\.com$`},
		{"a@b+c", `^qa\+0a1b2c3d-a-b-c-3@mail\.example\.com$`},
		{"---", `^qa\+0a1b2c3d-4@mail\.example\.com$`},
	}
	for _, tt := range tests {
		got := u.New(tt.tag)
		if !regexp.MustCompile(tt.want).MatchString(got) {
			t.Errorf("New(%q) = %q, want %s", tt.tag, got, tt.want)
		}
		if strings.Count(got, "@") != 1 {
			t.Errorf("New(%q) = %q is not one address", tt.tag, got)
		}
	}
}

func BenchmarkUsersNew(b *testing.B) {
	u, err := NewUsers("ciam", "example.com")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = u.New("signup-password")
		}
	})
}

func TestUsersOfSegmentsNeverCollide(t *testing.T) {
	// Even workers that drew the same random run ID make disjoint names.
	a := &Users{localPart: "qa", domain: "example.com", run: "0a1b2c3d"}
	b := &Users{localPart: "qa", domain: "example.com", run: "0a1b2c3d"}
	a.InSegment(1, 2)
	b.InSegment(2, 2)
	seen := map[string]bool{}
	for range 100 {
		seen[a.New("signup")] = true
	}
	for range 100 {
		if n := b.New("signup"); seen[n] {
			t.Fatalf("segment 2/2 made %s, as segment 1/2 did", n)
		}
	}
	if got := b.New(""); !regexp.MustCompile(`^qa\+0a1b2c3d-s2of2-\d+@example\.com$`).MatchString(got) {
		t.Errorf("segment username: want qa+0a1b2c3d-s2of2-N@example.com, got %s", got)
	}
}
