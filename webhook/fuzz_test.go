package webhook

import "testing"

// The seed corpora live in testdata/fuzz/<Name>/ and run with every go
// test; `make fuzz` explores from them for FUZZTIME each. The property of
// every target is checkResult's: no panic, an error is an invalid_request
// *resizer.Error with a bounded message, and every item either has Err or
// a valid CloudEvent whose data is a JSON object.

func FuzzAlertmanager(f *testing.F) {
	l := Labels{DefaultRegion: "cn-north-1"}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := Alertmanager(body, l)
		checkResult(t, body, res, err)
	})
}

func FuzzGrafana(f *testing.F) {
	l := Labels{DefaultRegion: "cn-north-1"}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := Grafana(body, l)
		checkResult(t, body, res, err)
	})
}

func FuzzJDCloudMonitor(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := JDCloudMonitor(body, "cn-north-1")
		checkResult(t, body, res, err)
	})
}

func FuzzJira(f *testing.F) {
	c := jiraConfig(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := Jira(body, c)
		checkResult(t, body, res, err)
	})
}
