package store_test

import (
	"testing"

	"github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/store"
	"github.com/jdcloud-vm-resizer/resizer/store/storetest"
)

func TestMemory(t *testing.T) {
	storetest.Run(t, func(*testing.T) resizer.Store { return store.NewMemory(100) })
}
