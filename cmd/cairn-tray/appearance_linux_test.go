package main

// The tray's icon follows the desktop's colour scheme: the real
// cairn-tray on a private bus with a test desktop portal, its icon read
// back over D-Bus.

import (
	"bytes"
	"image"
	_ "image/png"
	"testing"

	"github.com/cairnlabs/cairn/assets"
	"github.com/cairnlabs/cairn/internal/dbustest"
	"github.com/cairnlabs/cairn/internal/proctest"
)

// argb is what the tray publishes as IconPixmap for a PNG: fyne.io/systray
// converts it with this same loop (argbForImage in third_party/systray).
func argb(t *testing.T, png []byte) []byte {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	out := make([]byte, 0, b.Dx()*b.Dy()*4)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			out = append(out, byte(a), byte(r), byte(g), byte(bl))
		}
	}
	return out
}

func TestIconFollowsTheColourScheme(t *testing.T) {
	w := newWorld(t, options{})
	light, dark := argb(t, assets.Icon("running")), argb(t, assets.DarkPanelIcon("running"))
	if bytes.Equal(light, dark) {
		t.Fatal("the running icon has no light-on-dark variant")
	}
	waitIcon := func(item *dbustest.Item, want []byte, what string) {
		t.Helper()
		proctest.Eventually(t, wait, "the "+what+" running icon", func() bool {
			_, _, got, err := item.IconPixmap(w.deadline())
			return err == nil && bytes.Equal(got, want)
		})
	}

	// No portal: the icons of today.
	tray := w.startTray()
	item := w.itemOf(tray)
	w.waitRunning(item, anyPID)
	waitIcon(item, light, "default")

	// A portal that prefers dark appears: the light-on-dark icon.
	portal := dbustest.StartPortal(t, w.bus, 1, true)
	waitIcon(item, dark, "light-on-dark")
	// The user switches to a light style, then back to dark.
	if err := portal.SetScheme(2); err != nil {
		t.Fatal(err)
	}
	waitIcon(item, light, "default")
	if err := portal.SetScheme(1); err != nil {
		t.Fatal(err)
	}
	waitIcon(item, dark, "light-on-dark")
	w.waitTrayLog(tray, "prefers_dark=true")
	w.sigterm(tray)
}
