package jdcloudsim

import (
	"testing"

	"go.uber.org/goleak"
)

// Close must leave nothing running: other packages' tests start many
// simulators and check for leaks themselves.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
