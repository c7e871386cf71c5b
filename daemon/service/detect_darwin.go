package service

// Detect returns launchd, for the user's GUI domain.
func Detect() (Manager, error) { return NewLaunchdUser() }
