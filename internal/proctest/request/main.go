// Command request makes one HTTP request and prints the status code on its
// first line and the body after it, for end-to-end tests that need a
// request made by another local user: a test running as root starts it as
// that user, with a token, cookie or code the user should not have had.
// Redirects are not followed, so a 303 is seen as a 303.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	method := flag.String("method", http.MethodGet, "the request method")
	var hs headers
	flag.Var(&hs, "header", `a request header, "Name: value" (repeatable)`)
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: request [-method M] [-header 'Name: value']... URL")
		os.Exit(2)
	}
	req, err := http.NewRequest(*method, flag.Arg(0), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "request:", err)
		os.Exit(2)
	}
	for _, h := range hs {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			fmt.Fprintf(os.Stderr, "request: header %q has no colon\n", h)
			os.Exit(2)
		}
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	c := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "request:", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Printf("%d\n%s", resp.StatusCode, body)
}
