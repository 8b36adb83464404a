package check

import (
	"testing"

	"github.com/ciamcheck/ciamcheck/nativeauth"
	"github.com/ciamcheck/ciamcheck/suites/catalog"
)

func TestRule(t *testing.T) {
	body := `{"expires_in":600,"long":601,"label":"c***r@co**o**o.com","plain":"c@x.com","id":"` + guid1 + `","n":0,"s":"","arr":[],"binding_method":"prompt","flag":true,"attrs":[{"type":"x"}],"codes":[1,"2"],"ts":"2025-01-02 10:15:00Z"}`
	b, err := Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    catalog.Field
		fail []string
	}{
		{"le 600 ok", catalog.Field{Name: "expires_in", JSONType: "number", Required: true, Constraint: "<= 600"}, nil},
		{"le 600 broken", catalog.Field{Name: "long", JSONType: "number", Constraint: "<= 600"}, []string{"body.long"}},
		{"masked", catalog.Field{Name: "label", JSONType: "string", Constraint: "masked email"}, nil},
		{"unmasked", catalog.Field{Name: "plain", JSONType: "string", Constraint: "masked email"}, []string{"body.plain"}},
		{"guid", catalog.Field{Name: "id", JSONType: "string", Constraint: "GUID"}, nil},
		{"guid broken", catalog.Field{Name: "label", JSONType: "string", Constraint: "GUID"}, []string{"body.label"}},
		{"positive", catalog.Field{Name: "expires_in", JSONType: "number", Constraint: "integer > 0"}, nil},
		{"positive broken", catalog.Field{Name: "n", JSONType: "number", Constraint: "integer > 0"}, []string{"body.n"}},
		{"non-empty array", catalog.Field{Name: "arr", JSONType: "array", Constraint: "non-empty"}, []string{"body.arr"}},
		{"value", catalog.Field{Name: "binding_method", JSONType: "string", Value: "prompt"}, nil},
		{"value broken", catalog.Field{Name: "binding_method", JSONType: "string", Value: "push"}, []string{"body.binding_method"}},
		{"bool value", catalog.Field{Name: "flag", JSONType: "boolean", Value: "true"}, nil},
		{"required absent", catalog.Field{Name: "missing", JSONType: "string", Required: true}, []string{"body.missing"}},
		{"optional absent", catalog.Field{Name: "missing", JSONType: "string"}, nil},
		{"wrong type", catalog.Field{Name: "expires_in", JSONType: "string"}, []string{"body.expires_in"}},
		{"unknown constraint fails", catalog.Field{Name: "expires_in", JSONType: "number", Constraint: "prime"}, []string{"body.expires_in"}},
		{"range phrase", catalog.Field{Name: "expires_in", JSONType: "number", Constraint: "integer > 0 and <= 600"}, nil},
		{"range phrase broken", catalog.Field{Name: "long", JSONType: "number", Constraint: "integer > 0 and <= 600"}, []string{"body.long"}},
		{"masked phrase", catalog.Field{Name: "label", JSONType: "string", Constraint: "masked email of the user"}, nil},
		{"attribute list phrase", catalog.Field{Name: "attrs", JSONType: "array", Constraint: "non-empty list of {name, type, required, options.regex}"}, []string{"body.attrs[0].name"}},
		{"integers phrase", catalog.Field{Name: "codes", JSONType: "array", Constraint: "list of integers"}, []string{"body.codes[1]"}},
		{"date phrase", catalog.Field{Name: "ts", JSONType: "string", Constraint: "date and time"}, nil},
		{"date phrase broken", catalog.Field{Name: "plain", JSONType: "string", Constraint: "date and time"}, []string{"body.plain"}},
		{"jwt phrase", catalog.Field{Name: "plain", JSONType: "string", Constraint: "JWT signed by the tenant"}, []string{"body.plain"}},
		{"descriptive phrase", catalog.Field{Name: "plain", JSONType: "string", Constraint: "present because openid was requested"}, nil},
	}
	for _, tt := range tests {
		sameFields(t, tt.name, b.Rule(tt.r, "contoso@contoso.com"), tt.fail)
	}
}

func TestHeader(t *testing.T) {
	r := resp(200, `{}`, "Cache-Control", "no-cache, no-store", "Access-Control-Allow-Origin", "*", "X-A", "1")
	tests := []struct {
		name string
		rule catalog.Header
		fail []string
	}{
		{"content type by media type", catalog.Header{Name: "Content-Type", Value: "application/json"}, nil},
		{"content type wrong", catalog.Header{Name: "Content-Type", Value: "text/plain"}, []string{"header Content-Type"}},
		{"cache directive", catalog.Header{Name: "Cache-Control", Value: "no-store"}, nil},
		{"cors prefix absent", catalog.Header{Name: "Access-Control-", Absent: true, Prefix: true}, []string{"header Access-Control-Allow-Origin"}},
		{"absent ok", catalog.Header{Name: "X-B", Absent: true}, nil},
		{"absent broken", catalog.Header{Name: "X-A", Absent: true}, []string{"header X-A"}},
		{"exact", catalog.Header{Name: "X-A", Value: "1"}, nil},
		{"missing", catalog.Header{Name: "X-C", Value: "1"}, []string{"header X-C"}},
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
