package opener

// launcher is the shell's file protocol handler: no console window and no
// cmd.exe quoting of & in a URL.
var launcher = []string{"rundll32", "url.dll,FileProtocolHandler"}
