// Package notify shows the tray's desktop notifications: on Linux through
// the org.freedesktop.Notifications D-Bus service, with action buttons
// where the server offers them; on macOS and Windows through
// gen2brain/beeep, without buttons.
package notify

import "time"

// Action is a button on a notification.
type Action struct {
	Key   string // returned in ActionEvent.Key when clicked
	Label string // what the button says
}

// Notification is what the user sees.
type Notification struct {
	Title, Body string
	Icon        []byte   // PNG
	Actions     []Action // shown only where the server supports actions
}

// ActionEvent is a click on an action button of a notification this
// Notifier showed.
type ActionEvent struct {
	ID  uint32 // as returned by Notify
	Key string // Action.Key
}

// Notifier shows notifications. Its methods are safe for concurrent use.
type Notifier interface {
	// Notify shows n and returns an id for matching action clicks. It
	// gives up after a couple of seconds rather than hang its caller on
	// a stuck notification service.
	Notify(n Notification) (id uint32, err error)
	// Actions delivers a click on an action button (Linux servers with
	// the "actions" capability). The channel is never closed; where
	// there are no buttons it never delivers.
	Actions() <-chan ActionEvent
	// SupportsActions reports whether buttons are shown at all.
	SupportsActions() bool
	// Close releases the Notifier's resources; notifications already
	// shown stay up.
	Close() error
}

// New returns the Notifier for this OS. appName names the sender: the
// notification server shows it (Linux) or groups by it (macOS).
func New(appName string) (Notifier, error) {
	return newNotifier(appName)
}

// callTimeout bounds one Notify: the tray logs a failed notification and
// carries on, so a notification service that does not answer must not
// hold it up.
const callTimeout = 2 * time.Second
