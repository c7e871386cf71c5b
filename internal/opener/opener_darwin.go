package opener

// launcher is Launch Services' opener (Finder, the default browser).
var launcher = []string{"open"}
