package dynalite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/jdcloud-vm-resizer/resizer/internal/childproc"
)

// requireGone checks that Close left no process and no listener behind.
func requireGone(t *testing.T, s *Server) {
	t.Helper()
	childproc.RequireGone(t, "dynalite", s.proc, s.Endpoint())
}

func TestServer(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Endpoint(), "http://127.0.0.1:") {
		t.Errorf("Endpoint() = %q, want loopback", s.Endpoint())
	}
	// In a subtest so the table's cleanup runs while the server is up.
	t.Run("put and get", func(t *testing.T) {
		c := s.Client()
		table := NewTable(t, c)
		key := map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "k"}}
		item := map[string]types.AttributeValue{
			"id":    key["id"],
			"value": &types.AttributeValueMemberS{Value: "v"},
		}
		if _, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
		out, err := c.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := out.Item["value"].(*types.AttributeValueMemberS); !ok || v.Value != "v" {
			t.Errorf("GetItem = %v, want value v", out.Item)
		}
		if other := NewTable(t, c); other == table {
			t.Errorf("two tables named %q", table)
		}
	})
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	requireGone(t, s)
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStartWithoutInstall(t *testing.T) {
	t.Setenv("DYNALITE_BIN", filepath.Join(t.TempDir(), "dynalite"))
	s, err := Start()
	if err == nil {
		s.Close()
		t.Fatal("Start succeeded without a dynalite bin")
	}
	for _, want := range []string{"scripts/dynalite.sh", "make test", "DYNALITE_BIN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestShared(t *testing.T) {
	a, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("Shared started a second server")
	}
	CloseShared()
	requireGone(t, a)

	c, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	if c == a {
		t.Fatal("Shared after CloseShared returned the closed server")
	}
	if _, err := c.Client().ListTables(t.Context(), &dynamodb.ListTablesInput{}); err != nil {
		t.Errorf("the restarted shared server does not answer: %v", err)
	}
	// TestMain's CloseShared stops c.
}
