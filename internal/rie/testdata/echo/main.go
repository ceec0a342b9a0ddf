// Command echo is the test-only Lambda function the rie harness runs under
// the emulator while the product's bootstrap may not exist yet. It lives under
// testdata so `go build ./...` and `go vet ./...` leave it alone; the tests
// build it explicitly.
//
// It echoes its payload unchanged unless the payload is a JSON object carrying
// one of the control fields below, which let a test provoke each behaviour the
// harness must handle from outside the process.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// control is the optional instruction a test sends instead of a plain payload.
type control struct {
	Sleep string `json:"sleep"` // Go duration to wait before answering (timeouts, overlap)
	Fail  string `json:"fail"`  // answer with a handler error carrying this message
	Env   string `json:"env"`   // answer with this environment variable's value
	PID   bool   `json:"pid"`   // answer with the function process's pid
	Exit  *int   `json:"exit"`  // crash the process with this exit code
	Print string `json:"print"` // write this line, with the pid, to stdout and stderr first
}

// envAnswer tells presence apart from an empty value, which matters because
// the emulator defines some variables as empty strings.
type envAnswer struct {
	Value string `json:"value"`
	Found bool   `json:"found"`
}

func handle(ctx context.Context, payload json.RawMessage) (any, error) {
	var c control
	if json.Unmarshal(payload, &c) != nil {
		// Not an object (a string, an array, …): echo it as it came.
		return payload, nil
	}
	if c.Print != "" {
		fmt.Fprintf(os.Stdout, "stdout: %s pid=%d\n", c.Print, os.Getpid())
		fmt.Fprintf(os.Stderr, "stderr: %s pid=%d\n", c.Print, os.Getpid())
	}
	if c.Sleep != "" {
		d, err := time.ParseDuration(c.Sleep)
		if err != nil {
			return nil, err
		}
		// Deaf to ctx: a sleep past the deadline must end as the
		// emulator's own timeout, not race it with ctx's error.
		time.Sleep(d)
	}
	switch {
	case c.Exit != nil:
		os.Exit(*c.Exit)
	case c.Fail != "":
		return nil, errors.New(c.Fail)
	case c.Env != "":
		v, ok := os.LookupEnv(c.Env)
		return envAnswer{Value: v, Found: ok}, nil
	case c.PID:
		return map[string]int{"pid": os.Getpid()}, nil
	}
	return payload, nil
}

func main() {
	lambda.Start(handle)
}
