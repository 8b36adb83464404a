package profile

import (
	"fmt"
	"os"
	"strings"

	"github.com/ciamcheck/ciamcheck/nativeauth"
)

// backdoorToken reads the backdoor's bearer token from the variable the
// profile names ("" when it names none).
func backdoorToken(env string) (nativeauth.Secret, error) {
	if env == "" {
		return "", nil
	}
	tok, ok := os.LookupEnv(env)
	if !ok || strings.TrimSpace(tok) == "" {
		return "", fmt.Errorf("capabilities.backdoor_token_env: environment variable %s is not set", env)
	}
	return nativeauth.Secret(strings.TrimSpace(tok)), nil
}
