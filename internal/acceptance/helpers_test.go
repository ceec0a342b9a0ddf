package acceptance_test

import (
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
)

// The acceptance suites drive the whole path: a trigger's payload, through
// the Dispatcher and a real Handler, to the simulator and the sinks.

type rig = testkit.Rig

var (
	newRig     = testkit.New
	request    = testkit.Request
	resize     = testkit.Resize
	withSecret = testkit.WithSecret
	structured = testkit.Structured
	withField  = testkit.WithField
)

const good = testkit.Good

type syncBuffer = testkit.SyncBuffer
