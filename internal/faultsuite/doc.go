// Package faultsuite is the fault-injection suite ("no payment lost, none
// applied twice"). It has no code of its own: its tests build the
// real alishop binary, run it as a child process against an in-process
// Alipay sandbox (alishop/alipay/sandbox) on loopback, inject faults (dropped,
// duplicated, reordered and tampered notifications, gateway errors after the
// effect is committed, SIGKILLs, a locked database), and end every scenario
// with an invariant check of every sandbox trade against the shop's orders.
// See docs/RELIABILITY.md.
package faultsuite
