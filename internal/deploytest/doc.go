// Package deploytest holds the tests of what deploys the function rather
// than what it runs: template.yaml against the vendored SAM schema, the
// README's configuration table and the Makefile, its dashboard and alarms
// against the metrics the function emits, and docs/dashboard.svg against
// the dashboard it pictures (go test ./internal/deploytest -run
// TestDashboardPicture -update redraws it). The files it reads are at the
// repository root; the package has no code of its own.
package deploytest
