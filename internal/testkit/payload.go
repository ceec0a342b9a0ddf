package testkit

import (
	"encoding/json"
	"strings"

	resizer "github.com/jdcloud-vm-resizer/resizer"
)

// Structured renders a direct-invoke payload: a structured CloudEvent whose
// attributes can be overridden (nil deletes one) and whose data is given raw.
func Structured(over map[string]any, data string) string {
	ev := map[string]any{
		"specversion": "1.0", "id": "bad-1", "source": "alertmanager/prod",
		"type": resizer.TypeRequested, "datacontenttype": "application/json",
	}
	for k, v := range over {
		if v == nil {
			delete(ev, k)
		} else {
			ev[k] = v
		}
	}
	b, _ := json.Marshal(ev)
	if data == "" {
		return string(b)
	}
	return strings.TrimSuffix(string(b), "}") + `,"data":` + data + "}"
}

// Good is valid request data: i-stopped01 to g.n2.large.
const Good = `{"regionId":"cn-north-1","instanceId":"i-stopped01","instanceType":"g.n2.large"}`

// WithField is Good with field's value replaced by the raw JSON value.
func WithField(field, value string) string {
	return strings.Replace(Good, `"`+field+`":`+fieldValue(field), `"`+field+`":`+value, 1)
}

func fieldValue(field string) string {
	var m map[string]json.RawMessage
	_ = json.Unmarshal([]byte(Good), &m)
	return string(m[field])
}

// Without is Good without field.
func Without(field string) string {
	var m map[string]json.RawMessage
	_ = json.Unmarshal([]byte(Good), &m)
	delete(m, field)
	b, _ := json.Marshal(m)
	return string(b)
}
