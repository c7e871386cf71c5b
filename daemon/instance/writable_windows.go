package instance

// unwritableFolder: on Windows a folder's ACL decides, which Access cannot
// ask; doctor's usual fix stands.
func unwritableFolder(string) string { return "" }
