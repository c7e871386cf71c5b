//go:build !linux && !darwin && !windows

package service

import "fmt"

// Detect reports that this OS has no supported manager.
func Detect() (Manager, error) {
	return nil, fmt.Errorf("%w on this OS; run 'cairn serve --foreground' under your init system instead", ErrNoManager)
}
