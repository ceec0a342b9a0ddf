package resizer_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func captureLogs(h *resizer.Handler) *syncBuffer {
	buf := &syncBuffer{}
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(buf), zapcore.DebugLevel)
	h.Log = zap.New(core)
	return buf
}

// TestSecretKeyNeverLogged runs a success, a refusal, a JD failure and an
// authentication failure and scans every log line and outcome for the key.
func TestSecretKeyNeverLogged(t *testing.T) {
	for _, secret := range []string{jdcloudsim.DemoSecretKey, "wrong-secret-value-0123456789"} {
		r := newRig(t, withSecret(secret))
		logs := captureLogs(r.handler)
		r.sim.Fail("describeImageConstraints", 500, 1)
		outs := []resizer.Outcome{
			r.handle(t, request(resize("i-stopped01", "g.n2.large"))),
			r.handle(t, request(resize("i-running01", "g.n2.large"))),
			r.handle(t, request(resize("i-missing01", "g.n2.large"))),
		}
		text := logs.String()
		for _, o := range outs {
			b, _ := o.Event.MarshalJSON()
			text += string(b)
			if o.Err != nil {
				text += o.Err.Error()
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
