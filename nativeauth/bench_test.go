package nativeauth

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkSignInInitiate is one full round trip (form encoding, HTTP over
// loopback with a kept-alive connection, body read, decoding) against an
// in-process server. It bounds what the client adds to every load-test
// sample.
func BenchmarkSignInInitiate(b *testing.B) {
	body := []byte(`{"continuation_token":"uY29tL2F1dGhlbnRpY2F0aW9uLXRva2VuLWV4YW1wbGUtdmFsdWU"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	c := testClient(srv)
	req := InitiateRequest{Username: "contoso-consumer@contoso.com", ChallengeTypes: []ChallengeType{ChallengeTypePassword, ChallengeTypeRedirect}}
	b.ReportAllocs()
	for b.Loop() {
		res, err := c.SignInInitiate(b.Context(), req)
		if err != nil || res.ContinuationToken == "" {
			b.Fatalf("%v %v", res, err)
		}
	}
}

// BenchmarkDecode is decoding alone, for the largest common answers.
func BenchmarkDecode(b *testing.B) {
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	token := &Response{Endpoint: EndpointToken, HTTPStatus: 200, Header: h, Body: []byte(`{"token_type":"Bearer","scope":"openid profile offline_access","expires_in":3600,"ext_expires_in":3600,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiIxMTExMDEiLCJpc3MiOiJodHRwczovL2NvbnRvc28uY2lhbWxvZ2luLmNvbSJ9.c2lnbmF0dXJl","refresh_token":"AwABAAAAvPM1KaPlrEqdFSBzjqfTGAMxZGUTdM0t4B4","id_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2ln"}`)}
	attrs := &Response{Endpoint: EndpointSignUpContinue, HTTPStatus: 400, Header: h, Body: []byte(`{"error":"attributes_required","error_description":"AADSTS55106: User attributes required.","error_codes":[55106],"timestamp":"2026-11-23 10:15:00Z","trace_id":"0dd748bf","correlation_id":"d58ee8c8","continuation_token":"AQABEQEAAAAmoFf","required_attributes":[{"name":"city","type":"Text","required":true,"options":{"regex":"^.*"}}]}`)}
	b.Run("token", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeAnswer[TokenResult](token, redirectAllowed); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("error", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeAnswer[ContinuationResult](attrs, redirectAllowed); !IsError(err, ErrAttributesRequired) {
				b.Fatal(err)
			}
		}
	})
}
