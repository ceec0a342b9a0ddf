package samschema

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FindUp looks for rel (a slash-separated relative path) in dir and then in
// each parent of dir, and returns the first that exists. The shared specs
// live beside the repository (../shared/…), not in it, and a fresh CI clone
// may sit at any depth, so a fixed relative path would be fragile.
func FindUp(dir, rel string) (string, error) {
	start, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	rel = filepath.FromSlash(rel)
	for d := start; ; {
		p := filepath.Join(d, rel)
		_, err := os.Stat(p)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%s not found in %s or any directory above it", rel, start)
		}
		d = parent
	}
}
