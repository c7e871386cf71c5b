//go:build !windows

package runkey

// Default reports ErrUnsupported: only Windows has a registry.
func Default() (Registry, error) { return nil, ErrUnsupported }
