package assets

// The macOS menu bar wants a template image: black and alpha only, which it
// recolours for light and dark menu bars and for the highlighted state.
const traySuffix = templateSuffix

// The menu bar recolours a template for dark menu bars itself.
const darkTraySuffix = templateSuffix
