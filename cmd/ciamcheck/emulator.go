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
	"github.com/ciamcheck/ciamcheck/emulator/backdoor"
	"github.com/ciamcheck/ciamcheck/profile"
)

func init() { subcommands = append(subcommands, newEmulatorCmd) }

// emulatorOptions are the flags of `ciamcheck emulator`.
type emulatorOptions struct {
	Addr       string
	Tenant     string
	ConfigPath string
	NoBackdoor bool
	// BackdoorToken, when set, is the bearer token every backdoor call
	// must carry (the flag, else $CIAMCHECK_BACKDOOR_TOKEN).
	BackdoorToken string
	// BackdoorUnprotected serves the backdoor beyond loopback without a
	// token: the user's explicit choice.
	BackdoorUnprotected bool
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
emulator between processes, or to watch its request log.

Exit status: 0 served until SIGINT or SIGTERM; 2 could not serve (a flag or
configuration error, the address in use, or a backdoor off loopback with
neither a token nor --backdoor-unprotected).`,
		Example: `  ciamcheck emulator
  ciamcheck emulator --addr 127.0.0.1:9000 --config tenant.yaml
  ciamcheck emulator --write-profile local.yaml   # then: ciamcheck conformance --target local.yaml
  ciamcheck emulator --no-backdoor                # no outbox, clock or config API: like a real tenant
  CIAMCHECK_BACKDOOR_TOKEN=$(openssl rand -hex 16) ciamcheck emulator --addr 0.0.0.0:8080 --write-profile shared.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.BackdoorToken == "" {
				o.BackdoorToken = os.Getenv(backdoor.TokenEnv)
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			return runEmulator(cmd.Context(), o, cmd.OutOrStdout(), logger, nil)
		},
	}
	cmd.Long += `

The backdoor (/emulator/v1/: passcodes, clock, users, config, faults) is
served without a token on loopback only. Listening anywhere else, it needs
a bearer token (--backdoor-token, or ` + backdoor.TokenEnv + ` in the
environment; at least 16 characters; clients send "Authorization: Bearer
TOKEN", and a profile names the variable in capabilities.backdoor_token_env)
or --backdoor-unprotected, which opens it to anyone who can reach the port;
without either the emulator refuses to start (exit 2).`
	f := cmd.Flags()
	f.StringVar(&o.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&o.Tenant, "tenant", "", "tenant subdomain (default: the config's, \"contoso\")")
	f.StringVar(&o.ConfigPath, "config", "", "tenant YAML file (default: built-in tenant)")
	f.BoolVar(&o.NoBackdoor, "no-backdoor", false, "disable the /emulator/v1/ test API")
	f.StringVar(&o.BackdoorToken, "backdoor-token", "", "bearer token the backdoor requires (default $"+backdoor.TokenEnv+"; the variable keeps it out of the process list)")
	f.BoolVar(&o.BackdoorUnprotected, "backdoor-unprotected", false, "serve the backdoor beyond loopback without a token: anyone who can reach the port reads passcodes and changes the tenant")
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
	// Decided before anything listens, so a refused backdoor never opens
	// the port.
	if want, err := net.ResolveTCPAddr("tcp", o.Addr); err == nil {
		if _, err := decideBackdoor(want, cfg, o); err != nil {
			return err
		}
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
	// Decided again on the bound address: a host name may have resolved
	// differently.
	access, err := decideBackdoor(ln.Addr(), cfg, o)
	if err == nil && access == emulator.BackdoorToken {
		err = em.ProtectBackdoor(o.BackdoorToken)
	}
	if err != nil {
		_ = ln.Close()
		return err
	}
	addr := ln.Addr().String()
	banner := emulatorBanner{cfg: em.Config(), listen: addr, host: emulator.ServedHost(ln.Addr()), access: access}
	if err := banner.print(out, o.ProfilePath); err != nil {
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

// decideBackdoor applies emulator.DecideBackdoorAccess to a listening
// address, with the way out spelled in flags when it refuses.
func decideBackdoor(listen net.Addr, cfg backdoor.Config, o emulatorOptions) (emulator.BackdoorAccess, error) {
	access, err := emulator.DecideBackdoorAccess(listen, cfg.Backdoor.Disabled, o.BackdoorToken, o.BackdoorUnprotected)
	switch {
	case errors.Is(err, emulator.ErrBackdoorExposed):
		return 0, fmt.Errorf("emulator: %w. Protect it with a token (--backdoor-token, or %s in the environment), open it knowingly with --backdoor-unprotected, turn it off with --no-backdoor, or listen on 127.0.0.1", err, backdoor.TokenEnv)
	case err != nil:
		return 0, fmt.Errorf("emulator: %w", err)
	}
	return access, nil
}

// emulatorBanner is what the startup banner says.
type emulatorBanner struct {
	cfg    backdoor.Config
	listen string // the bound address, e.g. [::]:8080
	host   string // the address to dial, e.g. 192.0.2.7:8080
	access emulator.BackdoorAccess
}

// print says where the emulator is, who may use its backdoor, and gives the
// target profile that points ciamcheck (or a teammate's machine) at it,
// written to profilePath when set.
func (b emulatorBanner) print(out io.Writer, profilePath string) error {
	cfg := b.cfg
	host := "http://" + b.host
	base := host + "/" + cfg.Tenant + ".onmicrosoft.com"
	fmt.Fprintf(out, "ciamcheck emulator: tenant %s (%s), sign-up method %s\n", cfg.Tenant, cfg.TenantID, cfg.SignUpMethod)
	if b.host != b.listen {
		fmt.Fprintf(out, "  listening: %s (every interface)\n", b.listen)
	}
	fmt.Fprintf(out, "  base URL:  %s\n", base)
	fmt.Fprintf(out, "  issuer:    %s/v2.0\n", base)
	for _, a := range cfg.Apps {
		fmt.Fprintf(out, "  client %-13s %s (public=%v native_auth=%v)\n", a.Name+":", a.ClientID, a.PublicClient, a.NativeAuth)
	}
	bd := host + "/emulator/v1/ (outbox, clock, reset, users, config, faults)"
	switch b.access {
	case emulator.BackdoorOff:
		fmt.Fprintln(out, "  backdoor:  disabled")
	case emulator.BackdoorLoopback:
		fmt.Fprintf(out, "  backdoor:  %s, loopback only, no token\n", bd)
	case emulator.BackdoorToken:
		fmt.Fprintf(out, "  backdoor:  %s, protected: send Authorization: Bearer $%s\n", bd, backdoor.TokenEnv)
	case emulator.BackdoorUnprotected:
		fmt.Fprintf(out, "  backdoor:  %s, UNPROTECTED (--backdoor-unprotected): anyone who can reach %s reads passcodes and changes the tenant\n", bd, b.listen)
	}
	p := profile.EmulatorProfile(base, cfg)
	if b.access == emulator.BackdoorToken {
		// The profile names the variable; the token stays out of the file.
		p.Capabilities.BackdoorTokenEnv = backdoor.TokenEnv
	}
	prof, err := p.YAML()
	if err != nil {
		return err
	}
	tokenNote := ""
	if b.access == emulator.BackdoorToken {
		tokenNote = fmt.Sprintf("with %s set to the backdoor token, ", backdoor.TokenEnv)
	}
	if profilePath != "" {
		if err := os.WriteFile(profilePath, prof, 0o644); err != nil {
			return fmt.Errorf("write the target profile: %w", err)
		}
		fmt.Fprintf(out, "\nTarget profile written to %s; from another terminal, %s\n\n  ciamcheck conformance --target %s\n  ciamcheck load --target %s\n\n", profilePath, tokenNote, profilePath, profilePath)
		return nil
	}
	fmt.Fprintf(out, "\nTarget profile for it (save it, or start with --write-profile FILE), then\n%s`ciamcheck conformance --target FILE`:\n\n", tokenNote)
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
