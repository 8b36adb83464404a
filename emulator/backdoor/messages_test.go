package backdoor

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// Secrets marshal redacted; only the wire forms carry them in clear.
func TestSecretsOnlyOnTheWire(t *testing.T) {
	o := Outbox{Username: "u", Messages: []OutboxMessage{{Code: "73914628", Flow: "signup"}}}
	logged, _ := json.Marshal(o)
	wire, _ := json.Marshal(o.Revealed())
	if strings.Contains(string(logged), "73914628") || !strings.Contains(string(wire), `"code":"73914628"`) {
		t.Errorf("outbox: marshalled %s, on the wire %s", logged, wire)
	}
	empty, _ := json.Marshal(Outbox{Username: "u"}.Revealed())
	if !strings.Contains(string(empty), `"messages":[]`) {
		t.Errorf("an empty outbox answers %s, want an empty list", empty)
	}
	u := NewUser{Username: "u@example.com", Password: nativeauth.Secret("Str0ng-Passw0rd!x")}
	logged, _ = json.Marshal(u)
	wire, _ = json.Marshal(u.wire())
	if strings.Contains(string(logged), "Str0ng") || !strings.Contains(string(wire), `"password":"Str0ng-Passw0rd!x"`) {
		t.Errorf("new user: marshalled %s, on the wire %s", logged, wire)
	}
	var back NewUser
	if err := json.Unmarshal(wire, &back); err != nil || back.Password != u.Password {
		t.Errorf("the emulator reads %+v, %v from %s", back, err, wire)
	}
}

func TestDecodeOutbox(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		ok    bool
		count int
	}{
		{"empty list", `{"username":"u","messages":[]}`, true, 0},
		{"two", `{"username":"u","messages":[{"code":"1","flow":"signup","issued_at":"2026-01-01T00:00:00Z","expires_at":"2026-01-01T00:10:00Z"},{"code":"2","issued_at":"2026-01-01T00:00:01.5Z"}]}`, true, 2},
		{"extra member tolerated", `{"username":"u","messages":[],"next":null}`, true, 0},
		{"trailing garbage", `{"username":"u"} {}`, false, 0},
		{"bad time", `{"messages":[{"code":"1","issued_at":"yesterday"}]}`, false, 0},
		{"array", `[]`, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := DecodeOutbox([]byte(tt.body))
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if len(a.Messages) != tt.count {
				t.Errorf("messages = %d, want %d", len(a.Messages), tt.count)
			}
		})
	}
}

func TestNewestIgnoresListOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := Outbox{Messages: []OutboxMessage{
		{Code: "2", IssuedAt: t0.Add(2 * time.Second)},
		{Code: "3", IssuedAt: t0.Add(3 * time.Second)},
		{Code: "1", IssuedAt: t0.Add(1 * time.Second)},
	}}
	if m, ok := a.Newest(t0); !ok || m.Code.Reveal() != "3" {
		t.Fatalf("Newest = %v %v, want code 3", m.Code.Reveal(), ok)
	}
	if _, ok := a.Newest(t0.Add(4 * time.Second)); ok {
		t.Fatal("Newest found a message issued before since")
	}
	// A message issued exactly at since counts: the emulator's clock and
	// the caller's can read the same instant.
	if m, ok := a.Newest(t0.Add(3 * time.Second)); !ok || m.Code.Reveal() != "3" {
		t.Fatal("Newest skipped a message issued exactly at since")
	}
}

func FuzzDecodeOutbox(f *testing.F) {
	f.Add([]byte(`{"username":"u","messages":[{"code":"12345678","flow":"sspr","issued_at":"2026-01-01T00:00:00Z","expires_at":"2026-01-01T00:10:00Z"}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeOutbox(b)
		if err != nil {
			return
		}
		// Whatever decoded, Newest must not panic and must honour since.
		since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if m, ok := a.Newest(since); ok && m.IssuedAt.Before(since) {
			t.Fatalf("Newest returned a message issued before since")
		}
		// What the emulator would answer for it decodes to the same codes.
		b2, err := json.Marshal(a.Revealed())
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeOutbox(b2)
		if err != nil || len(again.Messages) != len(a.Messages) {
			t.Fatalf("re-decode %s: %v", b2, err)
		}
		for i := range a.Messages {
			if again.Messages[i].Code != a.Messages[i].Code || !again.Messages[i].IssuedAt.Equal(a.Messages[i].IssuedAt) {
				t.Fatalf("message %d changed in a round trip: %q", i, b2)
			}
		}
	})
}
