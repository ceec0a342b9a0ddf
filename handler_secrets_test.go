package resizer_test

import (
	"strings"
	"testing"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
)

// captureLogs rebuilds the rig's handler with a logger into a buffer.
func captureLogs(r *rig) *testkit.SyncBuffer {
	log, buf := testkit.Logger()
	r.Rebuild(func(o *resizer.Options) { o.Log = log })
	return buf
}

// TestSecretKeyNeverLogged runs a success, a refusal, a JD failure and an
// authentication failure and scans every log line and outcome for the key.
func TestSecretKeyNeverLogged(t *testing.T) {
	for _, secret := range []string{jdcloudsim.DemoSecretKey, "wrong-secret-value-0123456789"} {
		r := newRig(t, withSecret(secret))
		logs := captureLogs(r)
		r.Sim.Fail("describeImageConstraints", 500, 1)
		outs := []resizer.Outcome{
			r.Handle(t, request(resize("i-stopped01", "g.n2.large"))),
			r.Handle(t, request(resize("i-running01", "g.n2.large"))),
			r.Handle(t, request(resize("i-missing01", "g.n2.large"))),
		}
		text := logs.String()
		for _, o := range outs {
			b := o.Event.JSON
			text += string(b)
			if o.Err() != nil {
				text += o.Err().Message
			}
		}
		if !strings.Contains(logs.String(), "resize") {
			t.Fatalf("no log lines were captured")
		}
		if strings.Contains(text, secret) {
			t.Fatalf("the secret key appears in logs or outcomes")
		}
	}
}
