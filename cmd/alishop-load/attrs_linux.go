package main

import "syscall"

// childAttrs makes a child die with the load command: no shop or sandbox
// is left running if it is killed itself.
func childAttrs() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
