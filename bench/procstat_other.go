//go:build !linux

package main

import "errors"

// rssKiB has no /proc to read here; the store table says "not measured".
func rssKiB(pid int) (int, error) {
	return 0, errors.New("RSS is read from /proc, which this OS does not have")
}

// loadAvg is not read on this OS.
func loadAvg() string { return "not read on this OS" }
