// Package alipay is a client for Alipay's OpenAPI gateway (gateway.do, "v2").
//
// It signs requests (RSA2 = SHA256withRSA, or RSA = SHA1withRSA for old
// apps), verifies synchronous responses over the exact bytes of the response
// node, verifies asynchronous notifications and return redirects (rule v1),
// and supports public-key certificate mode, AES content encryption and the
// OpenAPI v3 Authorization header.
//
// Money is an integer number of fen ([Amount]); it is written to and read
// from the wire as an exact yuan string ("88.88"), never as a float.
// Timestamps are Beijing time in a fixed +08:00 zone ([Beijing]), so the
// package works on servers in any time zone and without tzdata.
//
// The package uses the standard library only.
package alipay
