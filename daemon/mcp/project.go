package mcp

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Project is the default project for a bridge started in dir: the name of
// the git top-level folder (git rev-parse --show-toplevel, or the nearest
// folder up from dir with a .git when git is missing or refuses), or "" outside
// a repository.
func Project(dir string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel")
	cmd.Dir = dir
	if out, err := cmd.Output(); err == nil {
		if top := strings.TrimSpace(string(out)); top != "" {
			return filepath.Base(top)
		}
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return filepath.Base(d)
		}
		up := filepath.Dir(d)
		if up == d {
			return ""
		}
		d = up
	}
}
