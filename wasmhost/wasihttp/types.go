package wasihttp

import "github.com/wbox-dev/wbox/wasmhost/value"

// The WIT types of wasi:http/types@0.2.x, case for case in WIT order (the
// canonical ABI encodes a case by its index, so the order is the contract).

// Cases of variant error-code.
const (
	ecDNSTimeout = iota
	ecDNSError
	ecDestinationNotFound
	ecDestinationUnavailable
	ecDestinationIPProhibited
	ecDestinationIPUnroutable
	ecConnectionRefused
	ecConnectionTerminated
	ecConnectionTimeout
	ecConnectionReadTimeout
	ecConnectionWriteTimeout
	ecConnectionLimitReached
	ecTLSProtocolError
	ecTLSCertificateError
	ecTLSAlertReceived
	ecHTTPRequestDenied
	ecHTTPRequestLengthRequired
	ecHTTPRequestBodySize
	ecHTTPRequestMethodInvalid
	ecHTTPRequestURIInvalid
	ecHTTPRequestURITooLong
	ecHTTPRequestHeaderSectionSize
	ecHTTPRequestHeaderSize
	ecHTTPRequestTrailerSectionSize
	ecHTTPRequestTrailerSize
	ecHTTPResponseIncomplete
	ecHTTPResponseHeaderSectionSize
	ecHTTPResponseHeaderSize
	ecHTTPResponseBodySize
	ecHTTPResponseTrailerSectionSize
	ecHTTPResponseTrailerSize
	ecHTTPResponseTransferCoding
	ecHTTPResponseContentCoding
	ecHTTPResponseTimeout
	ecHTTPUpgradeFailed
	ecHTTPProtocolError
	ecLoopDetected
	ecConfigurationError
	ecInternalError
)

// Cases of variant header-error.
const (
	heInvalidSyntax = iota
	heForbidden
	heImmutable
)

var (
	u8T     = value.U8
	u16T    = value.U16
	u32T    = value.U32
	u64T    = value.U64
	boolT   = value.Bool
	stringT = value.String
	bytesT  = value.ListOf(value.U8)

	durationT = named("duration", u64T)

	methodT = variant("method",
		"get", nil, "head", nil, "post", nil, "put", nil, "delete", nil,
		"connect", nil, "options", nil, "trace", nil, "patch", nil, "other", stringT)
	schemeT = variant("scheme", "HTTP", nil, "HTTPS", nil, "other", stringT)

	dnsErrorPayloadT = record("DNS-error-payload",
		"rcode", value.OptionOf(stringT), "info-code", value.OptionOf(u16T))
	tlsAlertPayloadT = record("TLS-alert-received-payload",
		"alert-id", value.OptionOf(u8T), "alert-message", value.OptionOf(stringT))
	fieldSizePayloadT = record("field-size-payload",
		"field-name", value.OptionOf(stringT), "field-size", value.OptionOf(u32T))

	errorCodeT = variant("error-code",
		"DNS-timeout", nil,
		"DNS-error", dnsErrorPayloadT,
		"destination-not-found", nil,
		"destination-unavailable", nil,
		"destination-IP-prohibited", nil,
		"destination-IP-unroutable", nil,
		"connection-refused", nil,
		"connection-terminated", nil,
		"connection-timeout", nil,
		"connection-read-timeout", nil,
		"connection-write-timeout", nil,
		"connection-limit-reached", nil,
		"TLS-protocol-error", nil,
		"TLS-certificate-error", nil,
		"TLS-alert-received", tlsAlertPayloadT,
		"HTTP-request-denied", nil,
		"HTTP-request-length-required", nil,
		"HTTP-request-body-size", value.OptionOf(u64T),
		"HTTP-request-method-invalid", nil,
		"HTTP-request-URI-invalid", nil,
		"HTTP-request-URI-too-long", nil,
		"HTTP-request-header-section-size", value.OptionOf(u32T),
		"HTTP-request-header-size", value.OptionOf(fieldSizePayloadT),
		"HTTP-request-trailer-section-size", value.OptionOf(u32T),
		"HTTP-request-trailer-size", fieldSizePayloadT,
		"HTTP-response-incomplete", nil,
		"HTTP-response-header-section-size", value.OptionOf(u32T),
		"HTTP-response-header-size", fieldSizePayloadT,
		"HTTP-response-body-size", value.OptionOf(u64T),
		"HTTP-response-trailer-section-size", value.OptionOf(u32T),
		"HTTP-response-trailer-size", fieldSizePayloadT,
		"HTTP-response-transfer-coding", value.OptionOf(stringT),
		"HTTP-response-content-coding", value.OptionOf(stringT),
		"HTTP-response-timeout", nil,
		"HTTP-upgrade-failed", nil,
		"HTTP-protocol-error", nil,
		"loop-detected", nil,
		"configuration-error", nil,
		"internal-error", value.OptionOf(stringT),
	)

	headerErrorT = variant("header-error", "invalid-syntax", nil, "forbidden", nil, "immutable", nil)

	// list<tuple<field-name, field-value>>
	entriesT = value.ListOf(value.TupleOf(stringT, bytesT))
)

// Helpers to write WIT function types compactly.

// fn returns func(params...) -> result; result nil means no result.
// params alternate names and types.
func fn(result *value.Type, params ...any) *value.FuncType {
	ft := &value.FuncType{}
	for i := 0; i+1 < len(params); i += 2 {
		ft.Params = append(ft.Params, value.Param{Name: params[i].(string), Type: params[i+1].(*value.Type)})
	}
	if result != nil {
		ft.Results = []value.Param{{Type: result}}
	}
	return ft
}

// method is fn with a leading self: borrow<rt>.
func method(rt *value.ResourceType, result *value.Type, params ...any) *value.FuncType {
	return fn(result, append([]any{"self", value.Borrow(rt)}, params...)...)
}

func methodName(resource, name string) string { return "[method]" + resource + "." + name }
func staticName(resource, name string) string { return "[static]" + resource + "." + name }
func ctorName(resource string) string         { return "[constructor]" + resource }

func named(name string, t *value.Type) *value.Type {
	c := *t
	c.Name = name
	return &c
}

func record(name string, fields ...any) *value.Type {
	t := &value.Type{Kind: value.KindRecord, Name: name}
	for i := 0; i+1 < len(fields); i += 2 {
		t.Fields = append(t.Fields, value.Field{Name: fields[i].(string), Type: fields[i+1].(*value.Type)})
	}
	return t
}

// variant builds a variant from alternating case names and payload types
// (nil: no payload).
func variant(name string, cases ...any) *value.Type {
	t := &value.Type{Kind: value.KindVariant, Name: name}
	for i := 0; i+1 < len(cases); i += 2 {
		c := value.Case{Name: cases[i].(string)}
		if p, ok := cases[i+1].(*value.Type); ok {
			c.Type = p
		}
		t.Cases = append(t.Cases, c)
	}
	return t
}

// Results in the Go representation.

func one(v any) []any          { return []any{v} }
func okRes(v any) []any        { return []any{value.Ok(v)} }
func errRes(v any) []any       { return []any{value.Err(v)} }
func headerErr(c uint32) []any { return errRes(value.Variant{Case: c}) }
