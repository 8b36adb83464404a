package backdoor

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// roundTrip checks that a decoded answer re-encodes to something that
// decodes again to the same encoding: what a client read, it can send
// back unchanged (EditConfig relies on this for config).
func roundTrip[T any](t *testing.T, v T, dec func([]byte) (T, error)) {
	t.Helper()
	b1, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("re-encode %+v: %v", v, err)
	}
	again, err := dec(b1)
	if err != nil {
		t.Fatalf("decode own encoding %s: %v", b1, err)
	}
	b2, err := json.Marshal(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatalf("round trip changed the answer:\n%s\n%s", b1, b2)
	}
}

func FuzzDecodeClock(f *testing.F) {
	f.Add([]byte(`{"now":"2026-11-29T18:00:00.123456789Z","offset":"10m1s"}`))
	f.Add([]byte(`{"now":"yesterday"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := decodeClock(b); err == nil {
			roundTrip(t, c, decodeClock)
		}
	})
}

func FuzzDecodeUser(f *testing.F) {
	f.Add([]byte(`{"username":"a@example.com","object_id":"x","attributes":{"city":"Oslo"}}`))
	f.Add([]byte(`{"attributes":{"a":1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if u, err := decodeUser(b); err == nil {
			roundTrip(t, u, decodeUser)
		}
	})
}

func FuzzDecodeConfig(f *testing.F) {
	f.Add([]byte(`{"tenant":"contoso","signup_method":"otp","otp":{"code_length":8,"lifetime":"10m","interval":300},"faults":{"endpoints":{"*":{"latency":"5ms"}}}}`))
	f.Add([]byte(`{"sspr":{"poll_sequence":["failed"]},"users":[{"username":"a@example.com","attributes":{}}]}`))
	f.Add([]byte(`{"continuation_token":{"lifetime":600}}`))
	f.Add([]byte(`{"flavour":"mint"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := decodeConfig(b); err == nil {
			roundTrip(t, c, decodeConfig)
		}
	})
}

func FuzzDecodeFaults(f *testing.F) {
	f.Add([]byte(`{"endpoints":{"/oauth2/v2.0/token":{"rate_429":0.1,"retry_after":"1s"},"*":{"latency_p50":"1ms","latency_p99":"9ms"}}}`))
	f.Add([]byte(`{"endpoints":null}`))
	f.Add([]byte(`{"endpoints":{"*":{"latency":50}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if s, err := decodeFaults(b); err == nil {
			roundTrip(t, s, decodeFaults)
		}
	})
}

// FuzzErrorText: an error answer is untrusted text; Error() must not
// panic, must name the call, and stays bounded.
func FuzzErrorText(f *testing.F) {
	f.Add(404, []byte(`{"error":"user_not_found","error_description":"AADSTS50034: The user does not exist.\r\nTrace ID: x"}`))
	f.Add(502, []byte("<html>Bad Gateway</html>"))
	f.Add(400, []byte(`{"error":""}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if len(body) > maxErrorBody {
			body = body[:maxErrorBody]
		}
		e := &Error{Method: "GET", Path: PathClock, Status: status, Body: string(body)}
		s := e.Error()
		if !strings.HasPrefix(s, "backdoor GET /emulator/v1/clock") {
			t.Fatalf("Error() = %q does not name the call", s)
		}
		if len(s) > 2*maxErrorBody+200 {
			t.Fatalf("Error() is %d bytes long", len(s))
		}
	})
}
