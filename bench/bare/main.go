// Command bare is the floor the resizer is measured against (make bench):
// an aws-lambda-go function built with the same flags as bin/bootstrap
// that answers every invocation with its payload and does nothing else, so
// what it costs is the runtime, the Runtime API round trips and the Go
// binary itself.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

// echo hands the payload back: the bare function must still read and write
// an event of the same size as the resizer's, or the comparison would
// flatter it.
func echo(_ context.Context, payload json.RawMessage) (json.RawMessage, error) {
	return payload, nil
}

func main() { lambda.Start(echo) }
