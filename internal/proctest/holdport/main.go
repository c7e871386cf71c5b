// Command holdport is a stand-in for "some other program on the port" in
// end-to-end tests: it listens on the given address, prints "ready", and
// runs until killed. With -ignore-term it ignores SIGTERM, like a program
// that does not shut down when asked. With -squat it plays another local
// user's squatter on a port a dead daemon left in http_addr: it answers
// /health exactly like Cairn, answers the proof challenge with a made-up
// proof, and with -record writes every byte it receives to a file, so a
// test can check that no client ever sent it the token.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"

	"os/signal"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	ignoreTerm := flag.Bool("ignore-term", false, "ignore SIGTERM")
	squat := flag.Bool("squat", false, "answer like a Cairn daemon that cannot prove itself")
	record := flag.String("record", "", "with -squat: append every received byte to this file")
	flag.Parse()
	if *ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer ln.Close()
	if *squat {
		var rec io.Writer = io.Discard
		if *record != "" {
			f, err := os.OpenFile(*record, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			defer f.Close()
			rec = f
		}
		fmt.Println("ready")
		http.Serve(&recordingListener{Listener: ln, rec: rec}, http.HandlerFunc(pretend))
		return
	}
	fmt.Println("ready")
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Close()
	}
}

// pretend is a Cairn daemon's face without its token.
func pretend(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/health":
		fmt.Fprint(w, `{"status":"ok","service":"cairn","pid":4242,"version":"1.0.0","uptime_s":12}`)
	case "/v1/proof":
		fmt.Fprintf(w, `{"pid":4242,"proof":"%s"}`, strings.Repeat("ab", 32))
	case "/v1/status":
		fmt.Fprint(w, `{"pid":4242,"addr":"127.0.0.1:7070","version":"1.0.0","supervisor":"terminal"}`)
	default:
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"status":"ok"}`)
	}
}

type recordingListener struct {
	net.Listener
	mu  sync.Mutex
	rec io.Writer
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: c, l: l}, nil
}

type recordingConn struct {
	net.Conn
	l *recordingListener
}

func (c *recordingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.l.mu.Lock()
		c.l.rec.Write(b[:n])
		c.l.mu.Unlock()
	}
	return n, err
}
