package acceptance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/time/rate"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/internal/testkit"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud/jdcloudsim"
	"github.com/jdcloud-vm-resizer/resizer/store"
	"github.com/jdcloud-vm-resizer/resizer/trigger"
)

// sqsBatch builds an SQS event of n dry-run requests with fresh ids.
func sqsBatch(b *testing.B, n, round int) []byte {
	ids := []string{"i-stopped01", "i-stopped02", "i-stopped03"}
	var ev events.SQSEvent
	for i := 0; i < n; i++ {
		e := request(resize(ids[i%len(ids)], "g.n2.large", "dryRun", true))
		e.SetID(fmt.Sprintf("bench-%d-%d", round, i))
		body, err := json.Marshal(e)
		if err != nil {
			b.Fatal(err)
		}
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m-%d", i), EventSource: "aws:sqs", Body: string(body)})
	}
	raw, _ := json.Marshal(ev)
	return raw
}

// BenchmarkSQSBatch compares a batch of 10 with a batch of 1 when every JD
// Cloud call takes 300 ms: records run concurrently and share one rate
// limiter at the production default (20/s), so 10 should cost about as
// much as 1. Each record is a dry run: describeInstance, then the type and
// image look-ups side by side.
func BenchmarkSQSBatch(b *testing.B) {
	for _, size := range []int{1, 10} {
		b.Run(fmt.Sprintf("records=%d", size), func(b *testing.B) {
			sim, err := jdcloudsim.Start(jdcloudsim.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer sim.Close()
			sim.SetLatency("", 300*time.Millisecond)
			client, err := jdcloud.New(jdcloud.Options{
				Endpoint:    sim.URL(),
				Credentials: jdcloud.StaticCredentials{AccessKey: jdcloudsim.DemoAccessKey, SecretKey: jdcloudsim.DemoSecretKey},
				Limiter:     rate.NewLimiter(20, 20),
			})
			if err != nil {
				b.Fatal(err)
			}
			h := resizer.NewHandler(resizer.Options{Compute: client, Store: store.NewMemory(0), Publisher: &testkit.Publisher{}})
			d := trigger.New(h, trigger.Options{Concurrency: 10})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				payload := sqsBatch(b, size, i)
				time.Sleep(time.Second) // refill the limiter so rounds are independent
				b.StartTimer()
				answer, err := d.Invoke(context.Background(), payload)
				if err != nil {
					b.Fatal(err)
				}
				var resp events.SQSEventResponse
				if json.Unmarshal(answer, &resp) != nil || len(resp.BatchItemFailures) != 0 {
					b.Fatalf("batch answer %s", answer)
				}
			}
		})
	}
}
