// Command floor is the network floor the resizer's dry run is measured
// against (make bench): an aws-lambda-go function built with the same flags
// as bin/bootstrap that makes exactly a dry run's exchanges and nothing
// else. Given the resizer's payload (a CloudEvent whose data names
// regionId, instanceId and instanceType) it calls describeInstance, then
// describeInstanceTypes and describeImageConstraints side by side, then
// POSTs one small JSON to RESULT_SINK_URL, and answers. JD Cloud calls go
// through the repository's jdcloud.Client (its signer, its decoding), so
// the simulator accepts them and the floor does not flatter itself with a
// cheaper wire.
//
// The resizer caches the two look-ups per process (jdcloud.Cache), so its
// warm dry runs make only describeInstance and the sink POST. The floor
// does the same by default, through the same jdcloud.Cache, to compare like
// with like; FLOOR_LOOKUPS=every makes it ask JD for the look-ups on every
// invocation, the floor of an uncached dry run.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"

	resizer "github.com/jdcloud-vm-resizer/resizer"
	"github.com/jdcloud-vm-resizer/resizer/jdcloud"
)

// request is the part of the resizer's payload the floor reads.
type request struct {
	ID   string `json:"id"`
	Data struct {
		RegionID     string `json:"regionId"`
		InstanceID   string `json:"instanceId"`
		InstanceType string `json:"instanceType"`
	} `json:"data"`
}

// answer is what the floor hands back: enough to check the exchanges
// happened.
type answer struct {
	ID           string `json:"id"`
	InstanceType string `json:"instanceType"`
	Target       string `json:"target"`
	Types        int    `json:"types"`
	Image        bool   `json:"image"`
}

type floor struct {
	compute resizer.Compute
	sink    string
	http    *http.Client
}

func (f *floor) handle(ctx context.Context, req request) (answer, error) {
	d := req.Data
	inst, err := f.compute.DescribeInstance(ctx, d.RegionID, d.InstanceID)
	if err != nil {
		return answer{}, err
	}
	var (
		wg      sync.WaitGroup
		types   []resizer.InstanceType
		img     *resizer.ImageConstraints
		tErr    error
		iErr    error
		current = inst.InstanceType
	)
	wg.Go(func() {
		types, tErr = f.compute.DescribeInstanceTypes(ctx, d.RegionID, []string{current, d.InstanceType})
	})
	wg.Go(func() {
		img, iErr = f.compute.DescribeImageConstraints(ctx, d.RegionID, inst.ImageID)
	})
	wg.Wait()
	if err := errors.Join(tErr, iErr); err != nil {
		return answer{}, err
	}
	a := answer{ID: req.ID, InstanceType: current, Target: d.InstanceType, Types: len(types), Image: img != nil}
	body, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": req.ID, "type": "bench.floor", "source": "bench/floor", "data": a})
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, f.sink, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	post.Header.Set("Content-Type", "application/cloudevents+json")
	resp, err := f.http.Do(post)
	if err != nil {
		return answer{}, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return answer{}, fmt.Errorf("sink answered %s", resp.Status)
	}
	return a, nil
}

func main() {
	client, err := jdcloud.New(jdcloud.Options{
		Endpoint: os.Getenv("JDCLOUD_ENDPOINT"),
		Credentials: jdcloud.StaticCredentials{
			AccessKey: os.Getenv("JDCLOUD_ACCESS_KEY"),
			SecretKey: os.Getenv("JDCLOUD_SECRET_KEY"),
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	f := &floor{compute: client, sink: os.Getenv("RESULT_SINK_URL"), http: &http.Client{}}
	if os.Getenv("FLOOR_LOOKUPS") != "every" {
		f.compute = jdcloud.NewCache(client, jdcloud.CacheOptions{})
	}
	lambda.Start(f.handle)
}
