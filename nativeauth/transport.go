package nativeauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// TransportClass names why a call got no HTTP answer, so that a load
// record says "refused" or "dns" instead of a bare "transport error".
type TransportClass string

const (
	TransportDNS     TransportClass = "dns"     // the host name did not resolve
	TransportRefused TransportClass = "refused" // nothing listens (connection refused)
	TransportTimeout TransportClass = "timeout" // connect, TLS, header or whole-call timeout
	TransportTLS     TransportClass = "tls"     // handshake or certificate failure
	TransportReset   TransportClass = "reset"   // the peer reset or closed the connection mid-call
	TransportOther   TransportClass = "other"
)

// TransportClasses lists every class in the order reports show them.
var TransportClasses = []TransportClass{TransportDNS, TransportRefused, TransportTimeout, TransportTLS, TransportReset, TransportOther}

// ClassifyTransport returns the class of a transport failure err (one that
// came with no HTTP answer). A context cancelled by the caller is "other":
// it is not the target's doing.
func ClassifyTransport(err error) TransportClass {
	var (
		dnsErr   *net.DNSError
		certErr  *tls.CertificateVerificationError
		recErr   tls.RecordHeaderError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		alertErr tls.AlertError
		netErr   net.Error
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &dnsErr):
		return TransportDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return TransportRefused
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &unknown),
		errors.As(err, &hostErr), errors.As(err, &invalid), errors.As(err, &alertErr):
		return TransportTLS
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return TransportTimeout
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return TransportReset
	// net/http replaces the TLS record error of an https:// call to a plain
	// HTTP server by a message of its own, with no type to match.
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return TransportTLS
	}
	return TransportOther
}
