package otp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPromptAsksAgainOnBadInput(t *testing.T) {
	in := strings.NewReader("nope\n1234\n  87654321  \n")
	// Code writes only on its caller's goroutine: a plain buffer, read
	// after it returns, is not shared with another goroutine.
	var out bytes.Buffer
	p := NewPrompt(in, &out, 8)
	code, err := p.Code(context.Background(), "a@example.com", time.Now())
	if err != nil {
		t.Fatalf("Code: %v", err)
	}
	if code.Reveal() != "87654321" {
		t.Fatal("wrong code")
	}
	text := out.String()
	if n := strings.Count(text, "a@example.com"); n != 3 {
		t.Errorf("asked %d times, want 3:\n%s", n, text)
	}
	if !strings.Contains(text, "8-digit") {
		t.Errorf("question does not say the code length:\n%s", text)
	}
	if strings.Contains(text, "87654321") || strings.Contains(text, "1234") {
		t.Errorf("prompt echoes a code:\n%s", text)
	}
}

func TestPromptEOF(t *testing.T) {
	p := NewPrompt(strings.NewReader(""), io.Discard, 8)
	_, err := p.Code(context.Background(), "a@example.com", time.Now())
	if !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v, want EOF", err)
	}
	// Later calls see the end of input too, without blocking.
	if _, err := p.Code(context.Background(), "a@example.com", time.Now()); !errors.Is(err, io.EOF) {
		t.Fatalf("second call err = %v, want EOF", err)
	}
}

func TestPromptCancelKeepsLateLine(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	p := NewPrompt(r, io.Discard, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := p.Code(ctx, "a@example.com", time.Now()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	// The answer typed after the first call gave up serves the next call.
	go func() { _, _ = io.WriteString(w, "12121212\n") }()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	code, err := p.Code(ctx2, "a@example.com", time.Now())
	if err != nil || code.Reveal() != "12121212" {
		t.Fatalf("Code = _, %v; want the late line", err)
	}
}

func TestPromptUnconfigured(t *testing.T) {
	if _, err := (&Prompt{}).Code(context.Background(), "u", time.Now()); err == nil {
		t.Fatal("want an error without a terminal")
	}
}

// TestPromptQueuedCallIsCancellable: a call waiting behind another question
// on the terminal ends with its own ctx instead of waiting for the other.
func TestPromptQueuedCallIsCancellable(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	// The first call's question on the terminal says it has taken it (a
	// sleep did not, on a busy machine).
	asked := make(chan struct{})
	var once sync.Once
	p := NewPrompt(r, questionWatch(func(q string) {
		if strings.Contains(q, "first@example.com") {
			once.Do(func() { close(asked) })
		}
	}), 8)
	first := make(chan error, 1)
	ctx1, cancel1 := context.WithCancel(context.Background())
	defer cancel1()
	go func() {
		_, err := p.Code(ctx1, "first@example.com", time.Now())
		first <- err
	}()
	select {
	case <-asked:
	case err := <-first:
		t.Fatalf("first call ended before asking: %v", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	done := make(chan error, 1)
	go func() {
		_, err := p.Code(ctx2, "second@example.com", time.Now())
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for the terminal") {
			t.Errorf("queued call: err = %v, want DeadlineExceeded waiting for the terminal", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a queued call did not end with its ctx")
	}
	cancel1()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Errorf("first call: err = %v, want Canceled", err)
	}
}

// questionWatch is a terminal's output that hands each write to seen.
type questionWatch func(string)

func (q questionWatch) Write(b []byte) (int, error) {
	q(string(b))
	return len(b), nil
}
