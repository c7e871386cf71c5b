//go:build !windows && !darwin

package opener

// launcher is the freedesktop opener.
var launcher = []string{"xdg-open"}
