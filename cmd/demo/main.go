// Command demo is `make demo`: it starts the bundled JD Cloud simulator, an
// outcome sink and bin/bootstrap under the Lambda Runtime Interface Emulator
// (what `sam local invoke` runs), all on loopback, then invokes the function
// with every sample in events/ and prints each outcome event. It needs no
// credentials and no network.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/jdcloud-vm-resizer/resizer/internal/rie"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
)

// order puts the direct-invoke samples first: they tell the story best.
var order = map[string]int{"resize-requested.json": 0, "resize-dry-run.json": 1, "resize-invalid.json": 2}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	bin, err := filepath.Abs("bin/bootstrap")
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s is missing: run make build (make demo does)", bin)
	}
	sim, err := jdcloudsim.Start(jdcloudsim.Options{})
	if err != nil {
		return err
	}
	defer sim.Close()

	var mu sync.Mutex
	var received [][]byte
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		received = append(received, b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer sink.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	emu, err := rie.Start(ctx, rie.Options{
		Binary: bin,
		Env: map[string]string{
			"JDCLOUD_ACCESS_KEY": jdcloudsim.DemoAccessKey,
			"JDCLOUD_SECRET_KEY": jdcloudsim.DemoSecretKey,
			"JDCLOUD_ENDPOINT":   sim.URL(),
			"RESULT_SINK_URL":    sink.URL,
			"WEBHOOK_SECRET":     "demo-webhook-secret",
			"WEBHOOK_TOKEN":      "demo-webhook-token",
			// Where events/apigw-jira.json's ticket keeps the request.
			"JIRA_FIELDS": "instanceId=customfield_10050,regionId=customfield_10051,instanceType=customfield_10052,dryRun=customfield_10055",
			"LOG_LEVEL":   "warn",
		},
		Stdout: io.Discard, Stderr: io.Discard,
	})
	if err != nil {
		return err
	}
	defer emu.Close()

	fmt.Printf("JD Cloud simulator on %s, outcome sink on %s, bin/bootstrap under aws-lambda-rie\n\n", sim.URL(), sink.URL)
	files, _ := filepath.Glob("events/*.json")
	sort.Slice(files, func(i, j int) bool {
		oi, iok := order[filepath.Base(files[i])]
		oj, jok := order[filepath.Base(files[j])]
		if iok != jok {
			return iok
		}
		if iok {
			return oi < oj
		}
		return files[i] < files[j]
	})
	var succeeded, failed int
	for _, f := range files {
		payload, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		mu.Lock()
		seen := len(received)
		mu.Unlock()
		answer, functionErr, err := emu.Invoke(ctx, payload)
		if err != nil {
			return fmt.Errorf("invoking with %s: %w", f, err)
		}
		fmt.Printf("=== sam local invoke -e %s\n", f)
		fmt.Printf("--- function answer%s: %s\n", map[bool]string{true: " (Lambda error)", false: ""}[functionErr], summary(answer))
		mu.Lock()
		fresh := append([][]byte(nil), received[seen:]...)
		mu.Unlock()
		for _, ev := range fresh {
			var out bytes.Buffer
			_ = json.Indent(&out, ev, "", "  ")
			var head struct{ Type string }
			_ = json.Unmarshal(ev, &head)
			if head.Type == "com.jdcloud.vm.resize.succeeded" {
				succeeded++
			} else {
				failed++
			}
			fmt.Printf("--- outcome event at the sink:\n%s\n", out.String())
		}
		fmt.Println()
	}
	fmt.Printf("%d outcome events: %d succeeded, %d failed. The simulator saw %d signed JD Cloud calls (%d resizeInstance).\n",
		succeeded+failed, succeeded, failed, len(sim.Requests()), sim.Calls(jdcloudsim.OpResizeInstance))
	if succeeded == 0 || failed == 0 {
		return fmt.Errorf("expected both succeeded and failed outcomes")
	}
	return nil
}

// summary shortens a trigger's answer to one line.
func summary(answer []byte) string {
	var m map[string]any
	if json.Unmarshal(answer, &m) == nil {
		if sc, ok := m["statusCode"]; ok {
			return fmt.Sprintf("HTTP %v", sc)
		}
		if f, ok := m["batchItemFailures"]; ok {
			return fmt.Sprintf("SQS batchItemFailures=%v", f)
		}
		if t, ok := m["type"]; ok {
			return fmt.Sprintf("%v (id %v)", t, m["id"])
		}
	}
	if len(answer) > 120 {
		return string(answer[:120]) + "…"
	}
	return string(answer)
}
