package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRunEmulatorServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, logs bytes.Buffer
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- runEmulator(ctx, emulatorOptions{Addr: "127.0.0.1:0", Tenant: "fabrikam"}, &out,
			slog.New(slog.NewTextHandler(&logs, nil)), func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		t.Fatalf("runEmulator returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("emulator did not start")
	}
	res, err := http.Get("http://" + addr + "/fabrikam.onmicrosoft.com/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var doc map[string]any
	if res.StatusCode != 200 || json.Unmarshal(body, &doc) != nil || doc["issuer"] != "http://"+addr+"/fabrikam.onmicrosoft.com/v2.0" {
		t.Fatalf("discovery: %d %s", res.StatusCode, body)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("runEmulator: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("emulator did not stop")
	}
	if !strings.Contains(out.String(), "http://"+addr+"/fabrikam.onmicrosoft.com") || !strings.Contains(out.String(), "00000000-0000-4000-8000-00000000c1a0") {
		t.Errorf("banner lacks base URL or client ID:\n%s", out.String())
	}
	if !strings.Contains(logs.String(), "openid-configuration") {
		t.Errorf("request not logged: %s", logs.String())
	}
}

func TestRunEmulatorBadConfig(t *testing.T) {
	err := runEmulator(context.Background(), emulatorOptions{Addr: "127.0.0.1:0", ConfigPath: "/nonexistent/tenant.yaml"}, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err == nil || !strings.Contains(err.Error(), "tenant.yaml") {
		t.Fatalf("want a config error naming the file, got %v", err)
	}
}
