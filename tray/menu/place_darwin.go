package menu

// Place is where the icon lives, in the platform's own words.
const Place = "menu bar"
