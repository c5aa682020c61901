// Command igserver runs the local Instagram-compatible server on a loopback
// address for end-to-end tests and demos.
//
// Usage:
//
//	igserver [-listen 127.0.0.1:9090] [-client-id ID] [-client-secret SECRET]
//	         [-auto-approve] [-token-shape flat|data]
//
// The client id and secret default to $INSTAGRAM_CLIENT_ID and
// $INSTAGRAM_CLIENT_SECRET, else to "demo-client-id" and "demo-client-secret".
// When the server is ready it prints "igserver listening on http://ADDR" to
// standard output. It logs to standard error and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/credgate/credgate/examples/igserver"
)

// Defaults of the client registration when neither a flag nor the
// environment sets it.
const (
	defaultClientID     = "demo-client-id"
	defaultClientSecret = "demo-client-secret"
)

// shutdownTimeout is how long open requests may take to finish on stop.
const shutdownTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "igserver:", err)
		os.Exit(1)
	}
}

// run parses args, serves until ctx is done and then shuts down. getenv
// supplies the environment defaults of the client registration.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	// parse the flags; the secret's default stays out of the help text
	flags := flag.NewFlagSet("igserver", flag.ContinueOnError)
	flags.SetOutput(stderr)
	listen := flags.String("listen", "127.0.0.1:9090", "`address` to listen on, as host:port with a loopback host")
	clientID := flags.String("client-id", "", "client `id` to accept (default $INSTAGRAM_CLIENT_ID, else \""+defaultClientID+"\")")
	clientSecret := flags.String("client-secret", "", "client `secret` to accept (default $INSTAGRAM_CLIENT_SECRET, else \""+defaultClientSecret+"\")")
	autoApprove := flags.Bool("auto-approve", false, "approve logins at once instead of showing the consent page")
	tokenShape := flags.String("token-shape", igserver.TokenShapeFlat, "reply `shape` of the code exchange: flat or data")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", flags.Arg(0))
	}

	// check the settings before binding anything
	if err := checkLoopback(*listen); err != nil {
		return err
	}
	if *tokenShape != igserver.TokenShapeFlat && *tokenShape != igserver.TokenShapeData {
		return fmt.Errorf("invalid -token-shape %q: use flat or data", *tokenShape)
	}
	id := firstNonEmpty(*clientID, getenv("INSTAGRAM_CLIENT_ID"), defaultClientID)
	secret := firstNonEmpty(*clientSecret, getenv("INSTAGRAM_CLIENT_SECRET"), defaultClientSecret)

	// listen, then announce
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	server := &http.Server{
		Handler: logRequests(logger, igserver.New(igserver.Options{
			ClientID:     id,
			ClientSecret: secret,
			AutoApprove:  *autoApprove,
			TokenShape:   *tokenShape,
		})),
		ReadHeaderTimeout: 10 * time.Second,
	}

	addr := listener.Addr().String()
	logger.Info("igserver started", "addr", addr, "client_id", id, "auto_approve", *autoApprove, "token_shape", *tokenShape)
	if _, err := fmt.Fprintf(stdout, "igserver listening on http://%s\n", addr); err != nil {
		_ = listener.Close()
		return fmt.Errorf("announce address: %w", err)
	}

	// serve until ctx is done or the server fails
	serveErr := make(chan error, 1)
	go func() { serveErr <- server.Serve(listener) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	logger.Info("igserver stopped")
	return nil
}

// checkLoopback accepts host:port when the host is localhost or a loopback
// IP address. The server hands out tokens and exposes its test controls to
// anyone who can reach it.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid -listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("invalid -listen address %q: the host must be a loopback address such as 127.0.0.1 or ::1, "+
		"because the test controls expose tokens", addr)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// logRequests logs each request's method, path and status. It leaves out
// the query, the headers and the body, which carry tokens, codes and the
// client secret.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		recorder := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(recorder, r)
		logger.Info("request",
			"method", r.Method,
			"path", r.URL.Path,
			"status", recorder.status,
			"duration_ms", time.Since(start).Milliseconds(),
		)
	})
}

// statusRecorder keeps the status code that a handler writes.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}
