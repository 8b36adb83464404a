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
