//go:build !windows && !darwin

package assets

// StatusNotifierItem hosts (KDE, GNOME's AppIndicator extension, waybar...)
// take a colour PNG and scale it to the panel.
const traySuffix = colourSuffix

// On a dark panel, the light-on-dark variant of the same PNG.
const darkTraySuffix = darkSuffix
