package assets

// The Windows notification area wants an ICO, and picks the entry that fits
// the display scale.
const traySuffix = icoSuffix

// The ICO has no dark variant: the notification area shows it on both.
const darkTraySuffix = icoSuffix
