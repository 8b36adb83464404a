package scenarios

import (
	"errors"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// apiError is what the flows need of a *nativeauth.Error. Reading it in one
// place keeps the flows independent of that type's layout.
type apiError struct {
	code              nativeauth.ErrorCode
	sub               nativeauth.Suberror
	continuationToken nativeauth.Secret
}

func asAPIError(err error) (apiError, bool) {
	var e *nativeauth.Error
	if !errors.As(err, &e) {
		return apiError{}, false
	}
	return apiError{
		code:              e.Code,
		sub:               e.Suberror,
		continuationToken: e.ContinuationToken,
	}, true
}

// responseOf returns the HTTP answer behind a failed call, if one arrived:
// an API error or a protocol error (a 503 without an error body, a body
// over the limit) both carry it.
func responseOf(err error) *nativeauth.Response {
	var e *nativeauth.Error
	if errors.As(err, &e) {
		return e.Response
	}
	var pe *nativeauth.ProtocolError
	if errors.As(err, &pe) {
		return pe.Response
	}
	return nil
}
