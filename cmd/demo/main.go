// Command demo is `make demo`: it starts the bundled JD Cloud simulator, an
// outcome sink and bin/bootstrap under the Lambda Runtime Interface Emulator
// (what `sam local invoke` runs), all on loopback, then invokes the function
// with every sample in events/ and prints each outcome event. It needs no
// credentials and no network.
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
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
	// Stops, starts and resizes take a moment, as on JD Cloud, and each
	// sample waits for the previous one's machines to settle: several
	// samples name the same instance, and one still resizing would refuse
	// the next (instance_not_stopped), which is right but not the story.
	sim, err := jdcloudsim.Start(jdcloudsim.Options{Transition: demoTransition})
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
			"WEBHOOK_SECRET":     demoWebhookSecret,
			"WEBHOOK_TOKEN":      "demo-webhook-token",
			// Where events/apigw-jira.json's ticket keeps the request.
			"JIRA_FIELDS": "instanceId=customfield_10050,regionId=customfield_10051,instanceType=customfield_10052,dryRun=customfield_10055,approvalId=customfield_10054",
			"LOG_LEVEL":   "warn",
			// Alerts from this source propose; a ticket decides (approvalLoop).
			"APPROVAL_REQUIRED_SOURCES": "alertmanager/oncall",
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
	counts := map[string]int{}
	// send invokes the function with one payload and prints its answer and
	// every outcome event the sink received for it, which it returns.
	send := func(title string, payload []byte) ([][]byte, error) {
		if err := settle(ctx, sim); err != nil {
			return nil, err
		}
		mu.Lock()
		seen := len(received)
		mu.Unlock()
		answer, functionErr, err := emu.Invoke(ctx, payload)
		if err != nil {
			return nil, fmt.Errorf("invoking with %s: %w", title, err)
		}
		fmt.Printf("=== %s\n", title)
		fmt.Printf("--- function answer%s: %s\n", map[bool]string{true: " (Lambda error)", false: ""}[functionErr], summary(answer))
		mu.Lock()
		fresh := append([][]byte(nil), received[seen:]...)
		mu.Unlock()
		for _, ev := range fresh {
			var out bytes.Buffer
			_ = json.Indent(&out, ev, "", "  ")
			var head struct{ Type string }
			_ = json.Unmarshal(ev, &head)
			counts[strings.TrimPrefix(head.Type, "com.jdcloud.vm.resize.")]++
			fmt.Printf("--- outcome event at the sink:\n%s\n", out.String())
		}
		fmt.Println()
		return fresh, nil
	}
	for _, f := range files {
		if strings.Contains(filepath.Base(f), "approval") {
			continue // approvalLoop sends these, with the id they need
		}
		payload, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := send("sam local invoke -e "+f, payload); err != nil {
			return err
		}
	}
	if err := approvalLoop(send); err != nil {
		return err
	}
	fmt.Printf("%d outcome events: %d succeeded, %d failed, %d pending approval. The simulator saw %d signed JD Cloud calls (%d resizeInstance).\n",
		counts["succeeded"]+counts["failed"]+counts["pending"], counts["succeeded"], counts["failed"], counts["pending"],
		len(sim.Requests()), sim.Calls(jdcloudsim.OpResizeInstance))
	if counts["succeeded"] == 0 || counts["failed"] == 0 || counts["pending"] == 0 {
		return fmt.Errorf("expected succeeded, failed and pending outcomes")
	}
	return nil
}

// demoTransition is how long the demo simulator's stops, starts and
// resizes take.
const demoTransition = 200 * time.Millisecond

// settle waits until no instance of the simulator is stopping, starting or
// resizing.
func settle(ctx context.Context, sim *jdcloudsim.Server) error {
	for {
		busy := sim.InTransition()
		if len(busy) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("instances %v never settled: %w", busy, ctx.Err())
		case <-time.After(demoTransition / 4):
		}
	}
}

// demoWebhookSecret signs the HTTP samples.
const demoWebhookSecret = "demo-webhook-secret"

// placeholder is where an approval sample's approval id goes: the id is
// issued when the request is held, so a sample cannot know it.
const placeholder = "REPLACE-WITH-THE-PENDING-OUTCOME-APPROVAL-ID"

// approvalLoop shows alerts proposing and tickets deciding: an alert from
// alertmanager/oncall is held pending, then approved by a CloudEvent, or by
// a Jira ticket moving to Approved, or rejected.
func approvalLoop(send func(string, []byte) ([][]byte, error)) error {
	request, err := os.ReadFile("events/approval-request.json")
	if err != nil {
		return err
	}
	for n, step := range []struct{ instance, decision string }{
		{"i-ladder01", "events/approval-approved.json"},
		{"i-ladder03", "events/apigw-jira-approval.json"},
		{"i-ladderbot01", "events/approval-rejected.json"},
	} {
		req := bytes.ReplaceAll(request, []byte("i-ladder01"), []byte(step.instance))
		req = bytes.ReplaceAll(req, []byte("approval-demo-1"), []byte(fmt.Sprintf("approval-demo-%d", n+1)))
		outs, err := send("an alert that needs approval: events/approval-request.json for "+step.instance, req)
		if err != nil {
			return err
		}
		var pending struct {
			Data struct{ Approval struct{ ID string } }
		}
		if len(outs) != 1 || json.Unmarshal(outs[0], &pending) != nil || pending.Data.Approval.ID == "" {
			return fmt.Errorf("the alert was not held for approval")
		}
		decision, err := os.ReadFile(step.decision)
		if err != nil {
			return err
		}
		if decision, err = withApprovalID(decision, pending.Data.Approval.ID); err != nil {
			return err
		}
		if _, err := send("the ticket decides: "+step.decision+" with approval id "+pending.Data.Approval.ID, decision); err != nil {
			return err
		}
	}
	return nil
}

// withApprovalID puts id where a decision sample has the placeholder; in a
// Function URL event it re-signs the body (X-Hub-Signature, as Jira signs)
// and fixes its length.
func withApprovalID(sample []byte, id string) ([]byte, error) {
	var fu map[string]any
	if err := json.Unmarshal(sample, &fu); err != nil {
		return nil, err
	}
	body, ok := fu["body"].(string)
	if !ok {
		return bytes.ReplaceAll(sample, []byte(placeholder), []byte(id)), nil
	}
	body = strings.ReplaceAll(body, placeholder, id)
	mac := hmac.New(sha256.New, []byte(demoWebhookSecret))
	mac.Write([]byte(body))
	headers := fu["headers"].(map[string]any)
	headers["x-hub-signature"] = "sha256=" + hex.EncodeToString(mac.Sum(nil))
	headers["content-length"] = strconv.Itoa(len(body))
	fu["body"] = body
	return json.Marshal(fu)
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
