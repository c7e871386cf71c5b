//go:build !linux

package appearance

import "context"

// Watch reports nothing: this OS's tray icon already suits its panel.
func (w Watcher) Watch(ctx context.Context, dark func(bool)) {}
