package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ciamcheck/ciamcheck/emulator"
	"github.com/ciamcheck/ciamcheck/profile"
)

func init() { subcommands = append(subcommands, newEmulatorCmd) }

// emulatorOptions are the flags of `ciamcheck emulator`.
type emulatorOptions struct {
	Addr       string
	Tenant     string
	ConfigPath string
	NoBackdoor bool
	// ProfilePath receives the target profile for this emulator.
	ProfilePath string
}

func newEmulatorCmd() *cobra.Command {
	var o emulatorOptions
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Serve the embedded External ID tenant emulator over HTTP",
		Long: `Serve the embedded emulator of the native authentication API, so apps, SDKs
and ciamcheck itself can run against it. It prints the base URL, the apps
and a target profile that points ciamcheck at it (--write-profile saves
it). Stops on SIGINT or SIGTERM.

conformance and load do not need it: with no --target they start the same
emulator in-process. Serve it to test your own app or SDK, to share one
emulator between processes, or to watch its request log.`,
		Example: `  ciamcheck emulator
  ciamcheck emulator --addr 127.0.0.1:9000 --config tenant.yaml
  ciamcheck emulator --write-profile local.yaml   # then: ciamcheck conformance --target local.yaml
  ciamcheck emulator --no-backdoor                # no outbox, clock or config API: like a real tenant`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			return runEmulator(cmd.Context(), o, cmd.OutOrStdout(), logger, nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&o.Tenant, "tenant", "", "tenant subdomain (default: the config's, \"contoso\")")
	f.StringVar(&o.ConfigPath, "config", "", "tenant YAML file (default: built-in tenant)")
	f.BoolVar(&o.NoBackdoor, "no-backdoor", false, "disable the /emulator/v1/ test API")
	f.StringVar(&o.ProfilePath, "write-profile", "", "write a target profile for this emulator to this file (for ciamcheck --target)")
	return cmd
}

// runEmulator serves until ctx is cancelled, then shuts down gracefully.
// ready, when set, is called with the bound address once listening.
func runEmulator(ctx context.Context, o emulatorOptions, out io.Writer, logger *slog.Logger, ready func(addr string)) error {
	cfg := emulator.DefaultConfig()
	if o.ConfigPath != "" {
		var err error
		if cfg, err = emulator.LoadConfig(o.ConfigPath); err != nil {
			return err
		}
	}
	if o.Tenant != "" {
		cfg.Tenant = o.Tenant
	}
	if o.NoBackdoor {
		cfg.Backdoor.Disabled = true
	}
	em, err := emulator.New(cfg)
	if err != nil {
		return fmt.Errorf("start emulator: %w", err)
	}
	defer em.Close()
	em.SetLogger(logger)

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	addr := ln.Addr().String()
	if err := printEmulatorBanner(out, em.Config(), addr, o.ProfilePath); err != nil {
		_ = ln.Close()
		return err
	}

	srv := &http.Server{
		Handler:           logRequests(logger, em),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(addr)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("emulator server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("emulator shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("emulator shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("emulator server: %w", err)
	}
	return nil
}

// printEmulatorBanner says where the emulator is and gives the target
// profile that points ciamcheck (or a teammate's machine) at it, written to
// profilePath when set.
func printEmulatorBanner(out io.Writer, cfg emulator.Config, addr, profilePath string) error {
	host := "http://" + addr
	base := host + "/" + cfg.Tenant + ".onmicrosoft.com"
	fmt.Fprintf(out, "ciamcheck emulator: tenant %s (%s), sign-up method %s\n", cfg.Tenant, cfg.TenantID, cfg.SignUpMethod)
	fmt.Fprintf(out, "  base URL:  %s\n", base)
	fmt.Fprintf(out, "  issuer:    %s/v2.0\n", base)
	for _, a := range cfg.Apps {
		fmt.Fprintf(out, "  client %-13s %s (public=%v native_auth=%v)\n", a.Name+":", a.ClientID, a.PublicClient, a.NativeAuth)
	}
	if cfg.Backdoor.Disabled {
		fmt.Fprintln(out, "  backdoor:  disabled")
	} else {
		fmt.Fprintf(out, "  backdoor:  %s/emulator/v1/ (outbox, clock, reset, users, config, faults)\n", host)
	}
	prof, err := profile.EmulatorProfile(base, cfg).YAML()
	if err != nil {
		return err
	}
	if profilePath != "" {
		if err := os.WriteFile(profilePath, prof, 0o644); err != nil {
			return fmt.Errorf("write the target profile: %w", err)
		}
		fmt.Fprintf(out, "\nTarget profile written to %s; from another terminal:\n\n  ciamcheck conformance --target %s\n  ciamcheck load --target %s\n\n", profilePath, profilePath, profilePath)
		return nil
	}
	fmt.Fprintf(out, "\nTarget profile for it (save it, or start with --write-profile FILE), then\n`ciamcheck conformance --target FILE`:\n\n")
	for _, line := range strings.SplitAfter(strings.TrimRight(string(prof), "\n"), "\n") {
		fmt.Fprint(out, "  "+line)
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out)
	return nil
}

// statusRecorder keeps the status code for the request log. It unwraps
// (http.ResponseController finds Flush, deadlines and Hijack beneath it) and
// notes a hijack, so a fault that drops the connection is still logged.
type statusRecorder struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap gives http.ResponseController the writer beneath.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack hands the connection over, through whatever writer is beneath.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err == nil {
		s.hijacked = true
	}
	return conn, rw, err
}

// logRequests logs method, path, status and duration: never bodies, query
// strings or headers, where passwords, codes and tokens travel. A request
// whose connection was taken over (a dropped-connection fault) or whose
// handler aborted is logged too, with status 0 and its outcome.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		completed := false
		defer func() {
			attrs := []any{"method", r.Method, "path", r.URL.Path, "status", rec.status,
				"duration", time.Since(start).Round(time.Microsecond), "request_id", w.Header().Get("x-ms-request-id")}
			switch {
			case rec.hijacked:
				attrs[5] = 0
				attrs = append(attrs, "outcome", "connection closed without an answer")
			case !completed:
				attrs[5] = 0
				attrs = append(attrs, "outcome", "aborted without an answer")
			}
			logger.Info("request", attrs...)
		}()
		next.ServeHTTP(rec, r)
		completed = true
	})
}
