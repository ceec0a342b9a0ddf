package store_test

import (
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/jdcloud-vm-resizer/resizer/internal/dynalite"
)

// The DynamoDB tests run against dynalite, a DynamoDB-compatible server,
// started on first use (memory-only runs never need it) and killed when the
// package's tests end.

func TestMain(m *testing.M) {
	code := m.Run()
	dynalite.CloseShared()
	os.Exit(code)
}

// server returns the package's dynalite; a missing install fails the test,
// it never skips.
func server(t *testing.T) *dynalite.Server {
	t.Helper()
	s, err := dynalite.Shared()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newTable creates a fresh, empty table with the contract's layout and
// returns a client for it and its name.
func newTable(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	client := server(t).Client()
	return client, dynalite.NewTable(t, client)
}
