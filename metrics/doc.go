// Package metrics holds the metrics adapters of docs/contract.md §10:
//
//   - [Transport], the decorator under the JD Cloud client's http.Client:
//     per HTTP attempt it adds the answer to the delivery's resizer.Tally
//     (the Observation's JDCalls and JDThrottled) and tells a [CallRecorder]
//     the operation ([Op]), status ([StatusLabel]) and latency;
//   - [EMF], the Observer used under Lambda: one CloudWatch Embedded Metric
//     Format document per delivery, on its own stdout line;
//   - [Prometheus], used in HTTP server mode: the Observer, the
//     CallRecorder, the in-flight count ([Prometheus.Begin],
//     [Prometheus.End]) and the GET /metrics handler, over a registry of
//     its own.
//
// [Labels] is the one place a delivery's outcome becomes the Outcome and
// Reason dimensions (EMF) and the outcome and reason labels (Prometheus),
// each from a bounded set: no instance id, request id or free text ever
// becomes a dimension or a label.
//
// The package costs nothing at init (no map, no regexp, no package-level
// call), because the Lambda binary runs every linked package's init on
// every cold start. For the same reason it writes the Prometheus text
// format itself rather than linking client_golang, whose packages (with
// protobuf, procfs and runtime/metrics) cost about 6 ms of init at every
// start, Lambda's included, since one binary serves both modes
// (docs/watching.md). The tests hold its output byte for byte to what
// client_golang writes for the same observations, and read it with
// prometheus/common's expfmt parser.
package metrics
