package tray

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// CopyText puts text on the clipboard with the first of the OS's clipboard
// programs (clipboards) that is installed and works.
func CopyText(text string) error {
	var tried []string
	for _, argv := range clipboards() {
		if _, err := exec.LookPath(argv[0]); err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdin = strings.NewReader(text)
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil {
			return nil
		}
		tried = append(tried, fmt.Sprintf("%s: %v %s", argv[0], err, strings.TrimSpace(string(out))))
	}
	if len(tried) == 0 {
		return fmt.Errorf("no clipboard program found (%s)", clipboardNames())
	}
	return errors.New(strings.Join(tried, "; "))
}

func clipboardNames() string {
	var names []string
	for _, argv := range clipboards() {
		names = append(names, argv[0])
	}
	return strings.Join(names, ", ")
}
