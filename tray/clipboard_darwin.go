package tray

func clipboards() [][]string { return [][]string{{"pbcopy"}} }
