package wasihttp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/wbox-dev/wbox/wasmhost/value"
)

// codeError is an error carrying a value of variant error-code: what
// http-error-code returns for the wasi:io/error of a failed body stream,
// and what outgoing requests fail with.
type codeError struct {
	code value.Variant
	err  error // the cause, or nil
}

func (e *codeError) Error() string {
	s := "wasi:http: " + codeString(e.code)
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

func (e *codeError) Unwrap() error { return e.err }

// newCode returns error-code case c with payload p.
func newCode(c uint32, p any) value.Variant { return value.Variant{Case: c, Value: p} }

// internalError is error-code internal-error(some(msg)).
func internalError(msg string) value.Variant { return newCode(ecInternalError, value.Some(msg)) }

// codeString names an error-code value, with its payload when it has one.
func codeString(v value.Variant) string {
	if int(v.Case) >= len(errorCodeT.Cases) {
		return fmt.Sprintf("error-code(%d)", v.Case)
	}
	c := errorCodeT.Cases[v.Case]
	if c.Type == nil {
		return c.Name
	}
	return fmt.Sprintf("%s(%v)", c.Name, v.Value)
}

// statusFor is the HTTP status the host answers with when the guest sets an
// error-code as its response.
func statusFor(v value.Variant) int {
	switch v.Case {
	case ecHTTPRequestDenied:
		return http.StatusForbidden
	case ecHTTPRequestLengthRequired:
		return http.StatusLengthRequired
	case ecHTTPRequestBodySize:
		return http.StatusRequestEntityTooLarge
	case ecHTTPRequestMethodInvalid:
		return http.StatusMethodNotAllowed
	case ecHTTPRequestURIInvalid:
		return http.StatusBadRequest
	case ecHTTPRequestURITooLong:
		return http.StatusRequestURITooLong
	case ecHTTPRequestHeaderSectionSize, ecHTTPRequestHeaderSize,
		ecHTTPRequestTrailerSectionSize, ecHTTPRequestTrailerSize:
		return http.StatusRequestHeaderFieldsTooLarge
	case ecDNSTimeout, ecConnectionTimeout, ecConnectionReadTimeout, ecConnectionWriteTimeout, ecHTTPResponseTimeout:
		return http.StatusGatewayTimeout
	case ecDNSError, ecDestinationNotFound, ecDestinationUnavailable, ecDestinationIPProhibited,
		ecDestinationIPUnroutable, ecConnectionRefused, ecConnectionTerminated, ecConnectionLimitReached,
		ecTLSProtocolError, ecTLSCertificateError, ecTLSAlertReceived, ecHTTPResponseIncomplete,
		ecHTTPResponseHeaderSectionSize, ecHTTPResponseHeaderSize, ecHTTPResponseBodySize,
		ecHTTPResponseTrailerSectionSize, ecHTTPResponseTrailerSize, ecHTTPResponseTransferCoding,
		ecHTTPResponseContentCoding, ecHTTPUpgradeFailed, ecHTTPProtocolError:
		return http.StatusBadGateway
	case ecLoopDetected:
		return http.StatusLoopDetected
	}
	return http.StatusInternalServerError
}

// Causes of cancelled outgoing requests, told apart by context.Cause.
var (
	errConnectTimeout   = errors.New("connect timeout")
	errFirstByteTimeout = errors.New("first-byte timeout")
	errBetweenBytes     = errors.New("between-bytes timeout")
	errHostClosed       = errors.New("wasi:http: host is closed")
)

// clientCode maps an error of net/http's client (or of reading a response
// body) to an error-code.
func clientCode(err error) value.Variant {
	var (
		ce      *codeError
		dnsErr  *net.DNSError
		maxErr  *http.MaxBytesError
		alert   tls.AlertError
		certErr *tls.CertificateVerificationError
		hostErr x509.HostnameError
		unkAuth x509.UnknownAuthorityError
		invCert x509.CertificateInvalidError
		recErr  tls.RecordHeaderError
		opErr   *net.OpError
	)
	switch {
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, errConnectTimeout):
		return newCode(ecConnectionTimeout, nil)
	case errors.Is(err, errFirstByteTimeout):
		return newCode(ecHTTPResponseTimeout, nil)
	case errors.Is(err, errBetweenBytes):
		return newCode(ecConnectionReadTimeout, nil)
	case errors.As(err, &maxErr):
		return newCode(ecHTTPResponseBodySize, value.Some(uint64(maxErr.Limit)))
	case errors.As(err, &dnsErr):
		if dnsErr.IsTimeout {
			return newCode(ecDNSTimeout, nil)
		}
		rcode := value.None()
		if dnsErr.IsNotFound {
			rcode = value.Some("NXDOMAIN")
		}
		return newCode(ecDNSError, []any{rcode, value.None()})
	case errors.As(err, &alert):
		return newCode(ecTLSAlertReceived, []any{value.Some(uint8(alert)), value.Some(alert.Error())})
	case errors.As(err, &certErr), errors.As(err, &hostErr), errors.As(err, &unkAuth), errors.As(err, &invCert):
		return newCode(ecTLSCertificateError, nil)
	case errors.As(err, &recErr):
		return newCode(ecTLSProtocolError, nil)
	case errors.Is(err, syscall.ECONNREFUSED):
		return newCode(ecConnectionRefused, nil)
	case errors.Is(err, syscall.EHOSTUNREACH):
		return newCode(ecDestinationUnavailable, nil)
	case errors.Is(err, syscall.ENETUNREACH):
		return newCode(ecDestinationIPUnroutable, nil)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, io.ErrUnexpectedEOF):
		return newCode(ecConnectionTerminated, nil)
	case errors.As(err, &opErr) && opErr.Op == "dial" && opErr.Timeout():
		return newCode(ecConnectionTimeout, nil)
	case errors.Is(err, context.DeadlineExceeded):
		return newCode(ecHTTPResponseTimeout, nil)
	case errors.Is(err, errHostClosed):
		return internalError("the host is closed")
	}
	if err == io.EOF {
		return newCode(ecHTTPResponseIncomplete, nil)
	}
	return internalError(err.Error())
}
