package resizer_test

import (
	"os"
	"testing"

	"github.com/jdcloud-vm-resizer/resizer/internal/dynalite"
)

func TestMain(m *testing.M) {
	code := m.Run()
	dynalite.CloseShared()
	os.Exit(code)
}
