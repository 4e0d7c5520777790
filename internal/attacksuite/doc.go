// Package attacksuite attacks the real alishop binary the way an outsider
// would, in its default mode (the built-in sandbox, as the README's first
// command runs it): forged, tampered and replayed notifications, cross-site
// POSTs, admin pages without a login, SQL in every parameter, oversize and
// slow requests, script injection (checked in headless Chromium), storage
// and login floods, order floods, the sandbox's control API from the
// network, app takeover and SSRF through the sandbox, and the start-up
// refusals. Each attack prints one result line under go test -v and checks
// that the shop's database did not change. It has no code of its own; see
// docs/SECURITY.md.
package attacksuite
