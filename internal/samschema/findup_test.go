package samschema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindUp(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "ci", "clone", "repo")
	mustWrite := func(p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	far := filepath.Join(root, "shared", "schemas", "sam.schema.json")
	mustWrite(far)

	got, err := FindUp(deep, "shared/schemas/sam.schema.json")
	if err != nil || got != far {
		t.Fatalf("FindUp = %q, %v; want %q", got, err, far)
	}

	near := filepath.Join(root, "ci", "shared", "schemas", "sam.schema.json")
	mustWrite(near)
	got, err = FindUp(deep, "shared/schemas/sam.schema.json")
	if err != nil || got != near {
		t.Errorf("FindUp = %q, %v; want the nearest, %q", got, err, near)
	}

	_, err = FindUp(deep, "shared/absent.json")
	if err == nil || !strings.Contains(err.Error(), "absent.json") {
		t.Errorf("FindUp of a missing file = %v, want an error naming it", err)
	}
}
