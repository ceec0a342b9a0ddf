// Package sink publishes outcome events to where operators listen: an HTTP
// CloudEvents sink (RESULT_SINK_URL or K_SINK) and an EventBridge bus
// (RESULT_EVENT_BUS). Each publisher implements resizer.Publisher, retries
// transient failures itself with internal/backoff (so a publish never sleeps
// past the invocation's deadline), and names itself in its errors without
// revealing credentials carried in a URL. Fanout sends one event to all of
// them at once.
package sink
