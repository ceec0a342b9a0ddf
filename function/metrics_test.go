package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
	"github.com/jdcloud-vm-resizer/resizer/metrics"
)

func TestBuildMetrics(t *testing.T) {
	base := http.DefaultTransport
	t.Run("lambda", func(t *testing.T) {
		obs, wrap, prom := buildMetrics(config{MetricsNamespace: "Ops"}, true)
		if e, ok := obs.(*metrics.EMF); !ok || e.Namespace != "Ops" || e.Out == nil {
			t.Errorf("observer %#v, want EMF in Ops", obs)
		}
		if wrap(base) == base || prom != nil {
			t.Error("under Lambda: want the counting transport and no /metrics")
		}
	})
	t.Run("lambda, off", func(t *testing.T) {
		obs, wrap, prom := buildMetrics(config{MetricsNamespace: metrics.Off}, true)
		if _, ok := obs.(resizer.NopObserver); !ok || wrap(base) != base || prom != nil {
			t.Errorf("off: observer %#v, transport wrapped %t, handler %v", obs, wrap(base) != base, prom)
		}
	})
	t.Run("server", func(t *testing.T) {
		obs, wrap, prom := buildMetrics(config{MetricsNamespace: metrics.Off}, false)
		if prom == nil || obs != resizer.Observer(prom) || wrap(base) == base {
			t.Errorf("server mode: observer %#v, handler %v", obs, prom)
		}
	})
}

func TestWithMetrics(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := withMetrics(next, metrics.NewPrometheus())
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/metrics", 200},
		{"HEAD", "/metrics", 200},
		{"POST", "/metrics", http.StatusTeapot},
		{"GET", "/metrics/", http.StatusTeapot},
		{"GET", "/healthz", http.StatusTeapot},
		{"POST", "/", http.StatusTeapot},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, rec.Code, tt.want)
		}
	}
	rec := httptest.NewRecorder()
	withMetrics(next, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusTeapot {
		t.Errorf("without a metrics handler GET /metrics is %d, want the routes' answer", rec.Code)
	}
}

// TestInflightThroughTheRealWiring: build's server-mode wiring behind an
// httptest server; while a delivery waits on a slow describeInstance, a
// scrape shows it in flight, and after the answer none is.
func TestInflightThroughTheRealWiring(t *testing.T) {
	sim, err := jdcloudsim.Start(jdcloudsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	cfg, err := loadConfig(cfgEnv(map[string]string{
		"JDCLOUD_ENDPOINT": sim.URL(), "WEBHOOK_SECRET": "", "WEBHOOK_TOKEN": "", "ALLOW_UNAUTHENTICATED": "true",
	}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := build(context.Background(), cfg, zap.NewNop(), false)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(withMetrics(a.dispatcher, a.metrics))
	defer srv.Close()
	inflight := func() float64 {
		t.Helper()
		res, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return fams["resizer_inflight"].GetMetric()[0].GetGauge().GetValue()
	}
	if v := inflight(); v != 0 {
		t.Fatalf("resizer_inflight %v before any delivery", v)
	}
	sim.SetLatency(jdcloudsim.OpDescribeInstance, 500*time.Millisecond)
	done := make(chan int, 1)
	go func() {
		body := `{"specversion":"1.0","id":"inflight-1","source":"ops/","type":"` + resizer.TypeRequested + `",
		  "data":{"regionId":"cn-north-1","instanceId":"i-stopped01","instanceType":"g.n2.large","dryRun":true}}`
		res, err := http.Post(srv.URL+"/", "application/cloudevents+json", strings.NewReader(body))
		if err != nil {
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	for deadline := time.Now().Add(5 * time.Second); sim.Calls(jdcloudsim.OpDescribeInstance) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the delivery never reached describeInstance")
		}
	}
	if v := inflight(); v != 1 {
		t.Errorf("resizer_inflight %v during the delivery, want 1", v)
	}
	if code := <-done; code != http.StatusOK {
		t.Fatalf("the delivery answered %d", code)
	}
	if v := inflight(); v != 0 {
		t.Errorf("resizer_inflight %v after the answer, want 0", v)
	}
}
