// Command flood is "another local user" exhausting the daemon's
// connections in end-to-end tests: it opens -n connections to -addr and
// holds them, prints "holding <n> failed <m> unanswered <u>" once it has
// tried them all (and, for keepalive, once the daemon has answered or
// closed each, or a minute passed: u were neither), and runs until killed. -mode says what each connection sends:
//
//	silent     nothing (an idle new connection)
//	keepalive  one GET /health, whose answer it never reads (an idle
//	           keep-alive connection)
//	slowloris  the first byte of a request line, then nothing
//
// With -watch it also reads every connection until the server closes it
// and then prints "closed <n> max <ms>", the longest any was held. -from
// picks the source address, so a big flood neither runs out of local ports
// nor takes the ones 127.0.0.1's own clients need.
//
// Two modes do not hold a fixed set but keep the daemon's accept loop and
// its cap busy for as long as they run (churn.go):
//
//	churn   -workers goroutines connect as fast as they can and close at
//	        once (with -hold: keep each connection, up to -held at once,
//	        until the server closes it, so every accept evicts one)
//	pinned  -n connections, each kept busy with pipelined GET / requests
//	        whose answers a tiny receive buffer never takes, redialed when
//	        the server closes them, plus -workers churning as with -hold
//
// Once every worker is under way they print "flooding pinned <p> failed
// <f> workers <w>" (p: pinned connections whose first requests went out),
// and when -for has passed or on SIGTERM "churned <c> in <ms> failed <f>
// redialed <r>" (c: churn connects, r: pinned connections redialed), and
// exit.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// held keeps every open connection reachable: a conn the collector finds
// unreachable is closed by its finalizer.
var held []net.Conn

func main() {
	addr := flag.String("addr", "", "host:port to flood")
	from := flag.String("from", "", "local IP to connect from (any of 127/8 is loopback on Linux)")
	n := flag.Int("n", 1000, "connections to open")
	mode := flag.String("mode", "silent", "silent, keepalive, slowloris, churn or pinned")
	watch := flag.Bool("watch", false, "report when the server has closed them all")
	churners := flag.Int("workers", 4, "churn and pinned: goroutines that connect in a loop")
	hold := flag.Bool("hold", false, "churn: hold each connection until the server closes it")
	heldMax := flag.Int("held", 2048, "churn -hold and pinned: the most churn connections held at once")
	dur := flag.Duration("for", 20*time.Second, "churn and pinned: stop after this long")
	flag.Parse()
	var greeting string
	switch *mode {
	case "churn", "pinned":
		d := net.Dialer{Timeout: 20 * time.Second}
		if *from != "" {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(*from)}
		}
		churn(churnConfig{dialer: d, addr: *addr, pinned: *mode == "pinned", n: *n,
			workers: *churners, hold: *hold || *mode == "pinned", held: *heldMax, dur: *dur})
		return
	case "silent":
	case "keepalive":
		greeting = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
	case "slowloris":
		greeting = "G"
	default:
		fmt.Fprintln(os.Stderr, "unknown -mode", *mode)
		os.Exit(2)
	}

	var (
		heldMu  sync.Mutex
		failed  atomic.Int64
		next    atomic.Int64
		longest atomic.Int64 // ms
		closed  sync.WaitGroup
		workers sync.WaitGroup
		firstMu sync.Mutex
		first   error
	)
	d := net.Dialer{Timeout: 20 * time.Second}
	if *from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(*from)}
	}
	// Enough dialers to outrun the daemon's accept loop, few enough not
	// to starve the machine the test measures on.
	for range 32 {
		workers.Go(func() {
			for next.Add(1) <= int64(*n) {
				c, err := d.Dial("tcp", *addr)
				if err == nil && greeting != "" {
					_, err = io.WriteString(c, greeting)
				}
				if err != nil {
					failed.Add(1)
					firstMu.Lock()
					if first == nil {
						first = err
					}
					firstMu.Unlock()
					if c != nil {
						c.Close()
					}
					continue
				}
				heldMu.Lock()
				held = append(held, c)
				heldMu.Unlock()
				if *watch {
					start := time.Now()
					closed.Go(func() {
						io.Copy(io.Discard, c)
						ms := time.Since(start).Milliseconds()
						for {
							old := longest.Load()
							if ms <= old || longest.CompareAndSwap(old, ms) {
								break
							}
						}
					})
				}
			}
		})
	}
	workers.Wait()
	if first != nil {
		fmt.Fprintln(os.Stderr, "first failure:", first)
	}
	// A connect returns once the kernel has completed the handshake, while
	// the daemon may still have thousands waiting in its accept queue.
	// Keep-alive connections are only in place once the daemon has taken
	// each (it answered, or it closed it): wait for that, up to a point.
	unanswered := 0
	if *mode == "keepalive" && !*watch {
		by := time.Now().Add(time.Minute)
		for _, c := range held {
			c.SetReadDeadline(by)
			if _, err := c.Read(make([]byte, 1)); errors.Is(err, os.ErrDeadlineExceeded) {
				unanswered++
			}
		}
	}
	fmt.Printf("holding %d failed %d unanswered %d\n", len(held), failed.Load(), unanswered)
	if *watch {
		closed.Wait()
		fmt.Printf("closed %d max %d\n", len(held), longest.Load())
	}
	select {}
}
