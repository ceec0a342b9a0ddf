// Package testkit is what the tests of several packages share: a recording
// Publisher, canned and guarding Computes, a log capture, and the rig — one
// Handler wired to a fresh JD Cloud simulator over loopback. It is imported
// by tests only.
package testkit
