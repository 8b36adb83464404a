package check

import (
	"testing"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

func TestRule(t *testing.T) {
	body := `{"expires_in":600,"long":601,"label":"c***r@co**o**o.com","plain":"c@x.com","id":"` + guid1 + `","n":0,"s":"","arr":[],"binding_method":"prompt","flag":true,"attrs":[{"type":"x"}],"codes":[1,"2"],"ts":"2025-01-02 10:15:00Z"}`
	b, err := Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    FieldRule
		fail []string
	}{
		{"le 600 ok", FieldRule{Name: "expires_in", JSONType: "number", Required: true, Constraint: "<= 600"}, nil},
		{"le 600 broken", FieldRule{Name: "long", JSONType: "number", Constraint: "<= 600"}, []string{"body.long"}},
		{"masked", FieldRule{Name: "label", JSONType: "string", Constraint: "masked email"}, nil},
		{"unmasked", FieldRule{Name: "plain", JSONType: "string", Constraint: "masked email"}, []string{"body.plain"}},
		{"guid", FieldRule{Name: "id", JSONType: "string", Constraint: "GUID"}, nil},
		{"guid broken", FieldRule{Name: "label", JSONType: "string", Constraint: "GUID"}, []string{"body.label"}},
		{"positive", FieldRule{Name: "expires_in", JSONType: "number", Constraint: "integer > 0"}, nil},
		{"positive broken", FieldRule{Name: "n", JSONType: "number", Constraint: "integer > 0"}, []string{"body.n"}},
		{"non-empty array", FieldRule{Name: "arr", JSONType: "array", Constraint: "non-empty"}, []string{"body.arr"}},
		{"value", FieldRule{Name: "binding_method", JSONType: "string", Value: "prompt"}, nil},
		{"value broken", FieldRule{Name: "binding_method", JSONType: "string", Value: "push"}, []string{"body.binding_method"}},
		{"bool value", FieldRule{Name: "flag", JSONType: "boolean", Value: "true"}, nil},
		{"required absent", FieldRule{Name: "missing", JSONType: "string", Required: true}, []string{"body.missing"}},
		{"optional absent", FieldRule{Name: "missing", JSONType: "string"}, nil},
		{"wrong type", FieldRule{Name: "expires_in", JSONType: "string"}, []string{"body.expires_in"}},
		{"unknown constraint fails", FieldRule{Name: "expires_in", JSONType: "number", Constraint: "prime"}, []string{"body.expires_in"}},
		{"range phrase", FieldRule{Name: "expires_in", JSONType: "number", Constraint: "integer > 0 and <= 600"}, nil},
		{"range phrase broken", FieldRule{Name: "long", JSONType: "number", Constraint: "integer > 0 and <= 600"}, []string{"body.long"}},
		{"masked phrase", FieldRule{Name: "label", JSONType: "string", Constraint: "masked email of the user"}, nil},
		{"attribute list phrase", FieldRule{Name: "attrs", JSONType: "array", Constraint: "non-empty list of {name, type, required, options.regex}"}, []string{"body.attrs[0].name"}},
		{"integers phrase", FieldRule{Name: "codes", JSONType: "array", Constraint: "list of integers"}, []string{"body.codes[1]"}},
		{"date phrase", FieldRule{Name: "ts", JSONType: "string", Constraint: "date and time"}, nil},
		{"date phrase broken", FieldRule{Name: "plain", JSONType: "string", Constraint: "date and time"}, []string{"body.plain"}},
		{"jwt phrase", FieldRule{Name: "plain", JSONType: "string", Constraint: "JWT signed by the tenant"}, []string{"body.plain"}},
		{"descriptive phrase", FieldRule{Name: "plain", JSONType: "string", Constraint: "present because openid was requested"}, nil},
	}
	for _, tt := range tests {
		sameFields(t, tt.name, b.Rule(tt.r, "contoso@contoso.com"), tt.fail)
	}
}

func TestHeader(t *testing.T) {
	r := resp(200, `{}`, "Cache-Control", "no-cache, no-store", "Access-Control-Allow-Origin", "*", "X-A", "1")
	tests := []struct {
		name string
		rule HeaderRule
		fail []string
	}{
		{"content type by media type", HeaderRule{Name: "Content-Type", Value: "application/json"}, nil},
		{"content type wrong", HeaderRule{Name: "Content-Type", Value: "text/plain"}, []string{"header Content-Type"}},
		{"cache directive", HeaderRule{Name: "Cache-Control", Value: "no-store"}, nil},
		{"cors prefix absent", HeaderRule{Name: "Access-Control-", Absent: true, Prefix: true}, []string{"header Access-Control-Allow-Origin"}},
		{"absent ok", HeaderRule{Name: "X-B", Absent: true}, nil},
		{"absent broken", HeaderRule{Name: "X-A", Absent: true}, []string{"header X-A"}},
		{"exact", HeaderRule{Name: "X-A", Value: "1"}, nil},
		{"missing", HeaderRule{Name: "X-C", Value: "1"}, []string{"header X-C"}},
	}
	for _, tt := range tests {
		sameFields(t, tt.name, Header(r, tt.rule), tt.fail)
	}
}

func TestAlsoAcceptAndAbsentCodes(t *testing.T) {
	want := ErrorWant{HTTPStatus: 400, Error: nativeauth.ErrInvalidRequest, AlsoAccept: []nativeauth.ErrorCode{nativeauth.ErrInvalidClient}}
	_, err := Error(resp(400, errBody), want)
	sameFields(t, "also accepted", err, nil)
	_, err = Error(resp(400, errBody), ErrorWant{HTTPStatus: 400, Error: nativeauth.ErrInvalidRequest})
	sameFields(t, "not accepted", err, []string{"body.error"})
	b, _ := Decode([]byte(`{"error_codes":[50140,1]}`))
	sameFields(t, "absent codes", b.AbsentErrorCodes([]int{1002013, 50140}), []string{"body.error_codes"})
}
