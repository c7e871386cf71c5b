// Command floor is the baseline that `make bench` compares cairn against:
// the least a daemon can do and still keep cairn's contract on the happy
// path. It binds exactly 127.0.0.1:<port>, writes $CAIRN_HOME/http_addr
// with the same durability as cairn, answers GET /health, and on
// SIGTERM/SIGINT shuts down and removes the file. Anything cairn does beyond
// this (lock, single-instance guard, token, logs, [::1] bind) is its overhead.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	port := flag.Int("port", 0, "port to bind on 127.0.0.1 (required to serve; the bench gives it a free one)")
	get := flag.Bool("get", false, "be the client instead: read http_addr and GET /health, like curl")
	noop := flag.Bool("version", false, "print a version and exit: the cost of starting the process, as `cairn version`")
	flag.Parse()
	// flag stops at the first non-flag, so `floor version -version` would
	// drop the flag after it and serve: refuse instead.
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "floor: unexpected argument %q; it takes only flags (-port N, -get, -version)\n", flag.Arg(0))
		os.Exit(2)
	}
	if *noop {
		fmt.Println("floor")
		return
	}
	home := os.Getenv("CAIRN_HOME")
	if home == "" {
		fmt.Fprintln(os.Stderr, "floor: CAIRN_HOME is not set; the bench runs it in a sandbox data dir")
		os.Exit(2)
	}
	if *get {
		os.Exit(getHealth(home))
	}
	// No default port: run by hand, the floor must never take Cairn's own
	// port (7070) from a real daemon.
	if *port <= 0 || *port > 65535 {
		fmt.Fprintln(os.Stderr, "floor: give -port N (1-65535); it has no default so that it never takes Cairn's port")
		os.Exit(2)
	}

	// Register before binding so a SIGTERM that arrives right after ready
	// is a clean stop, not the default kill.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	addr := fmt.Sprintf("127.0.0.1:%d", *port)
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(3) // the same code cairn uses for "port already in use"
	}
	file := filepath.Join(home, "http_addr")
	if err := writeAtomic(file, []byte(addr+"\n")); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"status": "ok", "service": "cairn", "pid": os.Getpid()})
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)

	<-ctx.Done()
	srv.Shutdown(context.Background())
	os.Remove(file)
}

// getHealth is the floor of a client request: discover, one GET, print.
func getHealth(home string) int {
	addr, err := os.ReadFile(filepath.Join(home, "http_addr"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		return 1
	}
	resp, err := http.Get("http://" + strings.TrimSpace(string(addr)) + "/health")
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		return 1
	}
	defer resp.Body.Close()
	io.Copy(os.Stdout, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}

// writeAtomic matches cairn's discovery write: temp file in the same dir,
// write, fsync, rename, fsync the dir, so the floor pays the same I/O cost.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".http_addr.tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
