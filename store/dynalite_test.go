package store_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The DynamoDB tests run against dynalite, a DynamoDB-compatible server,
// started on first use (memory-only runs never need it) and killed when the
// package's tests end.

// fakeSecret is the test credentials' secret key; no error may carry it.
const fakeSecret = "fake-secret-key-never-shown"

var dynalite struct {
	once     sync.Once
	endpoint string
	err      error
	cmd      *exec.Cmd
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cmd := dynalite.cmd; cmd != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	os.Exit(code)
}

// dynaliteEndpoint returns the URL of the running dynalite, starting it on
// the first call; a missing install fails the test, it never skips.
func dynaliteEndpoint(t *testing.T) string {
	t.Helper()
	dynalite.once.Do(func() { dynalite.endpoint, dynalite.err = startDynalite() })
	if dynalite.err != nil {
		t.Fatal(dynalite.err)
	}
	return dynalite.endpoint
}

func dynaliteBin() (string, error) {
	if bin := os.Getenv("DYNALITE_BIN"); bin != "" {
		return bin, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".cache", "dynalite", "node_modules", ".bin", "dynalite"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func startDynalite() (string, error) {
	bin, err := dynaliteBin()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("dynalite is not installed (%v): run scripts/dynalite.sh (or make test), or set DYNALITE_BIN", err)
	}
	// A free port can be taken by someone else before dynalite binds it;
	// dynalite then exits, and another port is tried.
	var errs []error
	for range 3 {
		endpoint, err := runDynalite(bin)
		if err == nil {
			return endpoint, nil
		}
		errs = append(errs, err)
	}
	return "", errors.Join(errs...)
}

func runDynalite(bin string) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", fmt.Sprint(port),
		// Tables are usable at once: no CREATING/DELETING phases to wait out.
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	setParentDeathSignal(cmd)
	var stderr bytes.Buffer // read only after Wait
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", bin, err)
	}

	// dynalite prints its banner from the listen callback, once it accepts
	// connections: that line is the readiness signal.
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.HasPrefix(sc.Text(), "Dynalite listening at") {
				ready <- true
				signalled = true
			}
		}
		if !signalled {
			ready <- false
		}
	}()
	var ok bool
	select {
	case ok = <-ready:
	case <-time.After(30 * time.Second):
	}
	if !ok {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return "", fmt.Errorf("dynalite on port %d did not start: %s", port, strings.TrimSpace(stderr.String()))
	}
	dynalite.cmd = cmd
	return fmt.Sprintf("http://127.0.0.1:%d", port), nil
}

// testCredentials are static and fake: dynalite checks only their shape.
var testCredentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "AKIDFAKE", SecretAccessKey: fakeSecret, Source: "test"}, nil
})

// newClient returns the real SDK client aimed at endpoint; options adjust it.
func newClient(endpoint string, options ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  testCredentials,
	}, options...)
}

var tableCount atomic.Int64

// newTable creates a fresh, empty table with the contract's layout and
// returns a client for it and its name.
func newTable(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	client := newClient(dynaliteEndpoint(t))
	name := fmt.Sprintf("resizer-idempotency-%d", tableCount.Add(1))
	ctx := context.Background()
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 100*time.Millisecond
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		t.Fatalf("table %s never became active: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("delete table %s: %v", name, err)
		}
	})
	return client, name
}
