package dynalite

import (
	"os"
	"testing"

	"github.com/jdcloud-vm-resizer/resizer/internal/childproc"
)

func TestMain(m *testing.M) { os.Exit(childproc.RunTests(m, CloseShared)) }
