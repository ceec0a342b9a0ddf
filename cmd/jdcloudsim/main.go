// Command jdcloudsim serves the JD Cloud VM OpenAPI simulator on loopback
// for `make demo` and manual poking. It prints one line,
// "jdcloudsim listening on http://127.0.0.1:PORT", on stdout once it
// accepts requests, so a script can wait for it and read the address;
// everything else (one line per request) goes to stderr.
//
// Usage:
//
//	jdcloudsim [-addr 127.0.0.1:0] [-fixture file.json] [-transition 5.5s] [-rate 10]
//
// The fault controls (Fail, FailAfterApply, DropBeforeApply, DropAfterApply,
// RefuseStart, StartEndsIn, SetStock, SetLatency, SetRateLimit) and the
// counters (OutOfService, PeakOutOfService, Throttled) are Go methods of
// jdcloudsim.Server for tests in-process; this command has no endpoint for
// them, since JD's API has none.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "jdcloudsim:", err)
		os.Exit(2)
	}
}

// run serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("jdcloudsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	fixturePath := fs.String("fixture", "", "fixture JSON file (default: the embedded seed)")
	transition := fs.Duration("transition", 0, "how long stopping/starting/resizing last, e.g. 5.5s (0: visible to exactly one describeInstance)")
	rps := fs.Float64("rate", 0, "requests per second, over every call, before answering 429 RATE_LIMIT_EXCEEDED (0: no limit)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var fixture []byte
	if *fixturePath != "" {
		b, err := os.ReadFile(*fixturePath)
		if err != nil {
			return fmt.Errorf("-fixture: %w", err)
		}
		fixture = b
	}

	logger := log.New(stderr, "jdcloudsim: ", log.LstdFlags|log.LUTC)
	creds := credentials(getenv, logger)
	sim, err := jdcloudsim.New(jdcloudsim.Options{
		Credentials: []jdcloud.Credentials{creds},
		Fixture:     fixture,
		Transition:  *transition,
		RateLimit:   *rps,
		OnRequest:   func(r jdcloudsim.Request) { logRequest(logger, r) },
	})
	if err != nil {
		return err
	}
	defer sim.Close()

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	fmt.Fprintf(stdout, "jdcloudsim listening on %s\n", baseURL(l.Addr()))

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Print("shutting down")
	sim.Close() // ends latency waits so that Shutdown is not held by them
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

const usage = `usage: jdcloudsim [flags]

Serves the JD Cloud VM OpenAPI simulator; prints "jdcloudsim listening on
URL" on stdout when ready and one line per request on stderr. Credentials:
JDCLOUD_ACCESS_KEY and JDCLOUD_SECRET_KEY, or the demo pair.

Faults (Fail, FailAfterApply, DropBeforeApply, DropAfterApply, RefuseStart,
StartEndsIn, SetStock, SetLatency, SetRateLimit) and counters (OutOfService,
PeakOutOfService, Throttled) are Go controls of jdcloudsim.Server, for tests
in-process; here only -transition and -rate shape the service.

Flags:
`

// credentials takes the key pair from the environment only when both
// halves are there: half a pair is a mistake worth a line, not a silent mix
// with the demo secret. The secret key is never printed.
func credentials(getenv func(string) string, logger *log.Logger) jdcloud.Credentials {
	ak, sk := getenv("JDCLOUD_ACCESS_KEY"), getenv("JDCLOUD_SECRET_KEY")
	if ak != "" && sk != "" {
		logger.Printf("accepting access key %s from JDCLOUD_ACCESS_KEY/JDCLOUD_SECRET_KEY", ak)
		return jdcloud.Credentials{AccessKey: ak, SecretKey: sk}
	}
	if ak != "" || sk != "" {
		logger.Print("only one of JDCLOUD_ACCESS_KEY and JDCLOUD_SECRET_KEY is set; ignoring it")
	}
	logger.Printf("accepting the demo access key %s (jdcloudsim.DemoAccessKey/DemoSecretKey)", jdcloudsim.DemoAccessKey)
	return jdcloud.Credentials{AccessKey: jdcloudsim.DemoAccessKey, SecretKey: jdcloudsim.DemoSecretKey}
}

// logRequest writes one line per request. The record holds the signature
// but never a secret key, and the Authorization header is left out anyway.
func logRequest(logger *log.Logger, r jdcloudsim.Request) {
	sig := "ok"
	if !r.SignatureValid {
		sig = "rejected"
	}
	status := fmt.Sprint(r.Status)
	if r.Dropped {
		status = "dropped" // an injected drop: the connection closed unanswered
	}
	logger.Printf("op=%s method=%s path=%s status=%s signature=%s accessKey=%s", r.Op, r.Method, r.Path, status, sig, r.AccessKey)
}

// baseURL is the address clients should use: a wildcard listen address is
// reached through loopback.
func baseURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
