// Package events is a directory of sample payloads, one per trigger, for
// `sam local invoke -e`, `make demo` and the end-to-end tests; its tests
// check that each sample is what the function accepts and asks what the
// demo expects. It has no code of its own.
package events
