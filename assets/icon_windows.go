package assets

// The Windows notification area wants an ICO, and picks the entry that fits
// the display scale.
const traySuffix = icoSuffix
