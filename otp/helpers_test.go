package otp

import "github.com/ciamcheck/ciamcheck/nativeauth"

func secret(s string) nativeauth.Secret { return nativeauth.Secret(s) }
