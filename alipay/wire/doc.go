// Package wire is the data of Alipay's protocol: the requests and results
// of its calls, amounts, times, codes and states, errors and the raw
// answers they follow, notifications, and the forms and strings to sign
// they are written as and read from. It holds no key and does no I/O, and
// it uses the standard library only, without net/http.
//
// Package alipay (the client: keys, signatures, HTTP) re-exports every
// name here under its own, so a program that calls Alipay needs that one
// import; code that only speaks the protocol's language, such as a shop's
// domain rules, imports wire alone and with it no HTTP. The types are the
// same: an alipay.Amount is a wire.Amount. Client, Config and their
// methods, named in these docs, are package alipay's.
//
// Money is an integer number of fen ([Amount]), written to and read from
// the wire as an exact yuan string ("88.88"), never as a float. Times are
// [time.Time] values, written in the fixed Beijing zone ([Beijing],
// [FormatTime], [ParseTime]). A call that fails returns an [*Error] or an
// error that [OutcomeOf] and [IsUnknownOutcome] classify; [ResponseOf]
// returns the answer ([*Response]: status, [Header], exact body) it
// followed. A verified [Notification] is checked against the merchant's
// own data with [Notification.Check]. Forms are decoded once ([ParseForm],
// [ParsePairs]) and encoded as url.Values does ([EncodeForm]); the string
// a signature covers is [SignContent] under a [Rule].
package wire
