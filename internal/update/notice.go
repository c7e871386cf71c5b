package update

import "context"

// Notice is the update notice as the tray runs it: the "Check for
// updates" setting in config.json, the check, and the record in
// update.json of which versions were announced.
type Notice struct {
	Checker    *Checker
	ConfigFile string
}

// Enabled reads the setting now (so an edit of config.json shows at the
// next redraw). A file that cannot be read is an error and counts as off:
// no request leaves the machine without a readable yes.
func (n *Notice) Enabled() (bool, error) {
	c, err := LoadConfig(n.ConfigFile)
	if err != nil {
		return false, err
	}
	return c.CheckForUpdates, nil
}

// SetEnabled saves the setting, keeping every other key of the file. A
// file that cannot be parsed is left as it is and the error returned.
func (n *Notice) SetEnabled(on bool) error {
	c, err := LoadConfig(n.ConfigFile)
	if err != nil {
		return err
	}
	c.CheckForUpdates = on
	return c.Save(n.ConfigFile)
}

// Check asks the feed (see Checker.Check).
func (n *Notice) Check(ctx context.Context) (Result, error) { return n.Checker.Check(ctx) }

// MarkNotified records an announced version (see Checker.MarkNotified).
func (n *Notice) MarkNotified(tag string) (bool, error) { return n.Checker.MarkNotified(tag) }
