package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/cairnlabs/cairn/daemon/api"
	"github.com/cairnlabs/cairn/daemon/atomicfile"
	"github.com/cairnlabs/cairn/daemon/client"
	"github.com/cairnlabs/cairn/daemon/exitcode"
	"github.com/cairnlabs/cairn/daemon/instance"
	"github.com/cairnlabs/cairn/internal/outpath"
)

// maxTextBytes is the store's limit on one memory's text.
const maxTextBytes = 64 << 10

// connect returns a client of this data dir's daemon, starting one the way
// `cairn start` does when none answers (concurrent starts give one daemon).
// A listener that fails the proof is a conflict, never written to.
func connect(cmd *cobra.Command) (*client.Client, error) {
	port, p, err := portAndPaths(0)
	if err != nil {
		return nil, err
	}
	ctx := cmd.Context()
	_, _, err = client.Probe(ctx, p)
	if client.IsImpostor(err) {
		return nil, exitcode.New(exitcode.PortInUse, err.Error()+"; run 'cairn doctor' to see who holds the port")
	}
	if err != nil {
		res, err := instance.Start(ctx, p, instance.StartOptions{Port: port})
		if err != nil {
			return nil, err
		}
		if !res.AlreadyRunning {
			fmt.Fprintf(cmd.ErrOrStderr(), "cairn: started the daemon at %s (PID %d)\n", res.Addr, res.PID)
		}
	}
	c, err := client.Discover(p)
	if errors.Is(err, fs.ErrNotExist) {
		// It was running a moment ago (found or just started), and a
		// daemon removes its discovery file only as it stops.
		return nil, &daemonGone{exitcode.New(exitcode.Failure, fmt.Sprintf("the daemon stopped right after it was found (told to, or on an error); run 'cairn doctor' (%v)", err))}
	}
	return c, err
}

// daemonGone is a daemon that stopped between being found and being used.
type daemonGone struct{ err *exitcode.Error }

func (d *daemonGone) Error() string { return d.err.Error() }
func (d *daemonGone) Unwrap() error { return d.err }

// onDaemon runs req against this data dir's daemon (connect), and runs
// it once more against the daemon found, or started, again when the first
// went away under it: stopped or restarted between the look and the
// answer (`cairn stop` while a script writes). Only what is safe to send
// twice comes here: reads, and a remember with an Idempotency-Key, which
// a daemon that stored it and stopped before answering finds again as a
// duplicate of what it stored.
func onDaemon(cmd *cobra.Command, req func(*client.Client) error) error {
	for try := 0; ; try++ {
		c, err := connect(cmd)
		if err == nil {
			err = req(c)
			c.CloseIdle()
		}
		if try == 1 || !wentAway(err) {
			return err
		}
	}
}

// wentAway is a daemon that stopped under a request: its discovery file
// gone as it was read, or a request to a daemon that was found (and
// proven) failing on its way (refused, closed, reset, the discovery file
// gone on a redial). Timeouts, impostors and a canceled command are not:
// their own messages stand.
func wentAway(err error) bool {
	var gone *daemonGone
	if errors.As(err, &gone) {
		return true
	}
	var ue *url.Error
	return errors.As(err, &ue) && !ue.Timeout() && !client.IsImpostor(err) && !errors.Is(err, context.Canceled)
}

// newIdempotencyKey names one remember, so that a second try of it is
// known for the same write.
func newIdempotencyKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "cli-" + hex.EncodeToString(b)
}

// apiError turns the daemon's answer into what the CLI says: the daemon's
// own sentence, exit 1. Bad input names the API's field; a field a flag
// sets becomes that flag, and the mistake is the command line's (exit 2,
// with the usage line), as when the CLI finds it itself.
func apiError(err error) error {
	var se *client.StatusError
	if errors.As(err, &se) {
		msg := se.Message
		if flag, ok := fieldFlags[se.Field]; ok && se.Code == http.StatusBadRequest {
			return usage(strings.Replace(msg, se.Field+": ", flag+" ", 1))
		}
		// The API's switch is a field; the CLI's is a flag.
		msg = strings.Replace(msg, "set allow_secret to store it anyway", "pass --allow-secret to store it anyway", 1)
		return exitcode.New(exitcode.Failure, msg)
	}
	var gone *daemonGone
	if wentAway(err) && !errors.As(err, &gone) {
		return exitcode.New(exitcode.Failure, fmt.Sprintf("the daemon went away before it answered (told to stop, or on an error); run 'cairn doctor' (%v)", err))
	}
	return err
}

// fieldFlags maps the API's field names to the flags that set them.
var fieldFlags = map[string]string{
	"tags": "--tag", "tag": "--tag", "project": "--project", "key": "--key", "source": "--source", "expires_in": "--expires-in",
	"limit": "--limit",
}

// pathReason is the OS's reason in a path error, without the operation and
// path the message names already.
func pathReason(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// quoteAll quotes each id, as the daemon's own messages do.
func quoteAll(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = strconv.Quote(id)
	}
	return strings.Join(q, ", ")
}

func newRememberCmd() *cobra.Command {
	var r client.RememberRequest
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "remember [TEXT...]",
		Short: "Store a memory (the words given, or standard input)",
		Long: `Store a memory: the words given, joined by spaces, or standard input when
none are given (or the only one is "-").

A memory with the same text, tags and project as one already stored is not
stored twice: its id is printed. With --key, a memory with the same key in
the same project is replaced (the old one stays readable by its id). Text
that looks like a secret (a private key, a cloud or forge token, a
password=… line) is refused unless --allow-secret.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			text, err := textOf(cmd, args)
			if err != nil {
				return err
			}
			// Bytes that are not UTF-8 would be turned into U+FFFD on
			// their way into JSON, and stored changed: refuse them here.
			for _, f := range []struct{ name, v string }{{"--project", r.Project}, {"--key", r.Key}, {"--source", r.Source}} {
				if !utf8.ValidString(f.v) {
					return usage(fmt.Sprintf("%s %q is not valid UTF-8 text", f.name, f.v))
				}
			}
			r.Text = text
			var res api.PutResult
			key := newIdempotencyKey()
			if err := onDaemon(cmd, func(c *client.Client) (err error) {
				res, err = c.Remember(cmd.Context(), r, key)
				return err
			}); err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			switch {
			case asJSON:
				return printJSON(out, schemaRemember, res)
			case res.Status == "duplicate":
				fmt.Fprintf(out, "Already remembered as %s.\n", res.ID)
			case res.Status == "replaced":
				fmt.Fprintf(out, "Remembered %s, replacing the memory with key %q.\n", res.ID, r.Key)
			default:
				fmt.Fprintf(out, "Remembered %s.\n", res.ID)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&r.Tags, "tag", "t", nil, "a tag (repeat for more): lowercase letters, digits, . _ -")
	f.StringVarP(&r.Project, "project", "p", "", "the project the memory belongs to")
	f.StringVarP(&r.Key, "key", "k", "", "a key: a later memory with the same key in the project replaces this one")
	f.StringVar(&r.Source, "source", "cli", "who wrote it")
	f.StringVar(&r.ExpiresIn, "expires-in", "", "forget it after this long (e.g. 12h, 7d)")
	f.BoolVar(&r.AllowSecret, "allow-secret", false, "store text that looks like a secret anyway")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// firstInvalid is the offset of the first byte of s that is not part of
// valid UTF-8 (len(s) when there is none).
func firstInvalid(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return i
			}
		}
	}
	return len(s)
}

// textOf is the memory's text: the arguments, or standard input.
func textOf(cmd *cobra.Command, args []string) (string, error) {
	if len(args) > 0 && !(len(args) == 1 && args[0] == "-") {
		text := strings.Join(args, " ")
		if !utf8.ValidString(text) {
			return "", usage(fmt.Sprintf("the text is not valid UTF-8 (byte %d is not); give it as UTF-8: a memory is stored exactly as given, so it is not changed to fit", firstInvalid(text)+1))
		}
		return text, nil
	}
	if len(args) == 0 && isTerminal(os.Stdin) {
		return "", usage("give the text as arguments ('cairn remember the build needs Go 1.26') or on standard input")
	}
	// A memory and a line ending ("\r\n" at most), which is trimmed, so a
	// full 64 KiB line (echo, a file's last newline) still fits; a byte
	// more than that means there is more than fits.
	const readAtMost = maxTextBytes + len("\r\n") + 1
	data, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), int64(readAtMost)))
	if err != nil {
		return "", fmt.Errorf("read standard input: %w", err)
	}
	text := strings.TrimRight(string(data), "\r\n")
	// What standard input holds is data, not the command line: exit 1.
	if len(data) == readAtMost || len(text) > maxTextBytes {
		return "", exitcode.New(exitcode.Failure, fmt.Sprintf("standard input is larger than %d KiB, the most one memory holds; split it into smaller memories", maxTextBytes>>10))
	}
	if !utf8.ValidString(text) {
		return "", exitcode.New(exitcode.Failure, fmt.Sprintf("standard input is not valid UTF-8 text (byte %d is not); give it as UTF-8: a memory is stored exactly as given, so it is not changed to fit", firstInvalid(text)+1))
	}
	if text == "" {
		return "", usage("standard input is empty, and a memory needs text; give it as arguments or on standard input")
	}
	return text, nil
}

// maxQuestionBytes bounds the words recall sends: the daemon uses at most
// 32 of them, and a pasted file would not fit in the request line (its
// 64 KiB header limit answers 431).
const maxQuestionBytes = 4 << 10

// question is q cut at a word boundary to maxQuestionBytes, saying so on
// w when it cuts.
func question(w io.Writer, q string) string {
	if len(q) <= maxQuestionBytes {
		return q
	}
	cut := strings.LastIndexAny(q[:maxQuestionBytes+1], " \t\n")
	if cut <= 0 {
		cut = maxQuestionBytes
		for cut > 0 && !utf8.RuneStart(q[cut]) {
			cut--
		}
	}
	fmt.Fprintf(w, "cairn: the question is %d bytes; only its first %d are sent (recall uses at most 32 of its words)\n", len(q), cut)
	return q[:cut]
}

func newRecallCmd() *cobra.Command {
	var tags []string
	var project string
	var limit, maxBytes int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "recall [WORDS...]",
		Short: "Find memories by their words (the newest when no words are given)",
		Long: `Find memories by their words, best match first. The words are taken as
words, never as query syntax: "prod-east" and "c++" are searched for as
written, and "OR", "NEAR(", "*" and quotes are never operators. Words too
common to tell memories apart ("the", "or") are left out. Without words,
or with only such words, the newest memories.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 || limit > 200 {
				return usage("--limit takes a number from 1 to 200")
			}
			if maxBytes < 0 {
				return usage("--max-bytes takes a number of bytes, 1 or more (leave it out for no limit)")
			}
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			if len(args) > 0 {
				q.Set("q", question(cmd.ErrOrStderr(), strings.Join(args, " ")))
			}
			if project != "" {
				q.Set("project", project)
			}
			if maxBytes > 0 {
				q.Set("max_bytes", strconv.Itoa(maxBytes))
			}
			for _, t := range tags {
				q.Add("tag", t)
			}
			var page api.Page
			if err := onDaemon(cmd, func(c *client.Client) (err error) {
				page, err = c.Memories(cmd.Context(), q)
				return err
			}); err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return printJSON(out, schemaMemories, page)
			}
			if len(page.Memories) == 0 {
				// A message, not data: a script counting lines counts none.
				fmt.Fprintln(cmd.ErrOrStderr(), "No memories match.")
				return nil
			}
			for i, m := range page.Memories {
				if i > 0 {
					fmt.Fprintln(out)
				}
				printMemory(out, m)
			}
			if page.Truncated {
				fmt.Fprintln(cmd.ErrOrStderr(), "(more matched than --max-bytes allows; use --json for the cursor to the rest)")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&tags, "tag", "t", nil, "only memories with this tag (repeat: all of them)")
	f.StringVarP(&project, "project", "p", "", "only memories of this project")
	f.IntVarP(&limit, "limit", "n", 10, "how many at most (1-200)")
	f.IntVar(&maxBytes, "max-bytes", 0, "stop once the texts add up to this many bytes")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// printMemory shows a memory: a header line (id, date, tags, project),
// then its text indented.
func printMemory(w io.Writer, m api.Memory) {
	head := m.ID + "  " + m.CreatedAt.Local().Format("2006-01-02 15:04")
	if len(m.Tags) > 0 {
		head += "  #" + strings.Join(m.Tags, " #")
	}
	if m.Project != "" {
		head += "  (" + m.Project + ")"
	}
	if m.SupersededBy != "" {
		head += "  replaced by " + m.SupersededBy
	}
	fmt.Fprintln(w, shown(head))
	for _, line := range strings.Split(m.Text, "\n") {
		fmt.Fprintln(w, "    "+shown(strings.TrimSuffix(line, "\r")))
	}
}

// shown makes text that another program stored safe to print on a
// terminal: control characters (ESC, CR, C1 such as CSI) and the
// bidirectional overrides would let a memory recolour, retitle or rewrite
// the reader's screen, so each is printed as a visible escape (\x1b,
// \u202e). Tabs stay.
func shown(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !unsafeRune(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return (unicode.IsControl(r) && r != '\t') || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

func newGetCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show one memory",
		Args:  exactArgs(1, "cairn get takes one memory id ('cairn recall' shows them)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "" {
				return usage("cairn get takes one memory id ('cairn recall' shows them); the one given is empty")
			}
			var m api.Memory
			if err := onDaemon(cmd, func(c *client.Client) (err error) {
				m, err = c.Memory(cmd.Context(), args[0])
				return err
			}); err != nil {
				return apiError(err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), schemaMemory, m)
			}
			printMemory(cmd.OutOrStdout(), m)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the memory as JSON")
	return cmd
}

func newForgetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "forget ID...",
		Short: "Delete memories by id",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usage("cairn forget takes the ids of the memories to delete ('cairn recall' shows them)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect(cmd)
			if err != nil {
				return err
			}
			defer c.CloseIdle()
			var missing []string
			seen := map[string]bool{}
			for _, id := range args {
				if seen[strings.ToUpper(id)] {
					continue // named twice: forgotten (or missing) once
				}
				seen[strings.ToUpper(id)] = true
				err := c.Forget(cmd.Context(), id)
				var se *client.StatusError
				switch {
				case err == nil:
					fmt.Fprintf(cmd.OutOrStdout(), "Forgot %s.\n", id)
				case errors.As(err, &se) && se.Code == 404:
					missing = append(missing, id)
				default:
					return apiError(err)
				}
			}
			if len(missing) > 0 {
				return exitcode.New(exitcode.Failure, "no memory with id "+quoteAll(missing))
			}
			return nil
		},
	}
}

func newTagsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "tags",
		Short: "List the tags in use, with how many memories carry each",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var tags []api.TagCount
			if err := onDaemon(cmd, func(c *client.Client) (err error) {
				tags, err = c.Tags(cmd.Context())
				return err
			}); err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return printJSON(out, schemaTags, api.Tags{Tags: tags})
			}
			if len(tags) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "No tags yet.")
			}
			// The column is as wide as the longest tag (up to 64), so the
			// counts line up.
			width := 0
			for _, t := range tags {
				width = max(width, len(t.Tag))
			}
			for _, t := range tags {
				fmt.Fprintf(out, "%-*s  %d\n", width, t.Tag, t.Count)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the tags as JSON")
	return cmd
}

func newExportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "export [FILE]",
		Short: "Write every memory as JSON Lines (to FILE, or standard output)",
		Long: `Write every memory, oldest first, as JSON Lines: one object a line with
its id, text, tags, project, source, key, times. 'cairn import' reads it
back losslessly. A FILE is written atomically with mode 0600: the memories
are private. A FILE that is a link is followed (the file it names is
replaced, the link kept); a pipe or a device is written as it is, and
/dev/stdout, /dev/fd/N as the shell set them up (>> appends).

Refused, because another user could have planted it to read the memories
or to aim the export at a file of yours: a link, pipe or device of
another user's, and a folder on the way that is another user's or that
everybody may change (a sticky one such as /tmp is fine).`,
		Args: maxArgs(1, "cairn export takes at most one file name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var target outpath.Target
			if len(args) == 1 && args[0] != "-" {
				// Before the daemon is asked for anything: what the file
				// name names is known now.
				if args[0] == "" {
					return usage("give a file name to export to, or none (or -) for standard output")
				}
				var err error
				if target, err = outpath.Resolve(args[0]); err != nil {
					return exitcode.New(exitcode.Failure, fmt.Sprintf("cannot write %s: %v", args[0], pathReason(err)))
				}
			}
			c, err := connect(cmd)
			if err != nil {
				return err
			}
			defer c.CloseIdle()
			if len(args) == 0 || args[0] == "-" {
				_, err := c.Export(cmd.Context(), cmd.OutOrStdout())
				return apiError(err)
			}
			var lines int
			switch target.Kind {
			case outpath.Stream, outpath.Descriptor:
				lines, err = exportInto(cmd.Context(), c, target, args[0])
			default:
				var buf bytes.Buffer
				if _, err := c.Export(cmd.Context(), &buf); err != nil {
					return apiError(err)
				}
				lines = bytes.Count(buf.Bytes(), []byte("\n"))
				if err = atomicfile.Write(target.Path, buf.Bytes(), 0o600); err != nil {
					err = exitcode.New(exitcode.Failure, fmt.Sprintf("cannot write %s: %v", args[0], pathReason(err)))
				}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Exported %d %s to %s.\n", lines, plural(lines, "memory", "memories"), args[0])
			return nil
		},
	}
}

// exportInto writes the export into a pipe, a device or a descriptor as
// it is (no temp file, no rename) and counts its lines.
func exportInto(ctx context.Context, c *client.Client, target outpath.Target, name string) (int, error) {
	f, err := target.Open()
	if err != nil {
		return 0, exitcode.New(exitcode.Failure, fmt.Sprintf("cannot write %s: %v", name, pathReason(err)))
	}
	lc := &lineCounter{w: f}
	_, err = c.Export(ctx, lc)
	if cerr := f.Close(); err == nil && cerr != nil {
		return 0, exitcode.New(exitcode.Failure, fmt.Sprintf("cannot write %s: %v", name, pathReason(cerr)))
	}
	return lc.n, apiError(err)
}

// lineCounter counts the lines written through it.
type lineCounter struct {
	w io.Writer
	n int
}

func (l *lineCounter) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	l.n += bytes.Count(p[:n], []byte("\n"))
	return n, err
}

// importBatch bounds one POST /v1/import, well under the daemon's 1 MiB
// body limit even for a 64 KiB memory escaped to six times its size.
const importBatch = 512 << 10

func newImportCmd() *cobra.Command {
	var allowSecret bool
	cmd := &cobra.Command{
		Use:   "import [FILE]",
		Short: "Read memories from JSON Lines (as 'cairn export' writes them)",
		Long: `Read memories from JSON Lines (FILE, or standard input), as 'cairn export'
writes them. Ids and times are kept, so importing the same file twice
stores nothing new. Lines that cannot be stored are listed by number; the
rest are stored. Progress goes to standard error.

A line whose text looks like a secret is refused, as any write is, unless
it says "allow_secret":true, which cairn export writes for such text. A
backup exported before export did goes in whole with --allow-secret.`,
		Args: maxArgs(1, "cairn import takes at most one file name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := cmd.InOrStdin()
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return exitcode.New(exitcode.Failure, fmt.Sprintf("cannot read %s: %v", args[0], pathReason(err)))
				}
				defer f.Close()
				if fi, err := f.Stat(); err == nil && fi.IsDir() {
					return exitcode.New(exitcode.Failure, fmt.Sprintf("cannot read %s: it is a folder; give the file 'cairn export' wrote", args[0]))
				}
				in = f
			} else if isTerminal(os.Stdin) {
				return usage("give the file to import ('cairn import memories.jsonl'), or pipe it in; standard input is a terminal")
			}
			c, err := connect(cmd)
			if err != nil {
				return err
			}
			defer c.CloseIdle()
			return runImport(cmd.Context(), c, in, allowSecret, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().BoolVar(&allowSecret, "allow-secret", false, "store lines whose text looks like a secret too (a backup made before export marked them)")
	return cmd
}

func runImport(ctx context.Context, c *client.Client, in io.Reader, allowSecret bool, out, progress io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), importBatch)
	var total api.ImportResult
	var batch bytes.Buffer
	line, batchStart := 0, 1 // the file's line numbers: the last read, the batch's first
	lastReport := time.Now()
	flush := func() error {
		if batch.Len() == 0 {
			return nil
		}
		res, err := c.Import(ctx, batch.Bytes(), allowSecret)
		if err != nil {
			err = apiError(err)
			return exitcode.New(exitcode.Of(err), fmt.Sprintf("%v (while sending lines %d–%d; %d new memories were stored before them, and importing the same file again is safe: what is already there is skipped)",
				err, batchStart, line, total.Created))
		}
		total.Created += res.Created
		total.Duplicate += res.Duplicate
		total.Expired += res.Expired
		total.Differs += res.Differs
		for _, e := range res.Errors {
			total.Errors = append(total.Errors, api.ImportError{Line: batchStart + e.Line - 1, Error: e.Error})
		}
		batch.Reset()
		if time.Since(lastReport) > time.Second {
			fmt.Fprintf(progress, "cairn: imported %d lines…\n", line)
			lastReport = time.Now()
		}
		return nil
	}
	for sc.Scan() {
		// The line numbers count what was read; a batch that fails
		// names its own.
		if batch.Len() > 0 && batch.Len()+len(sc.Bytes())+1 > importBatch {
			if err := flush(); err != nil {
				return err
			}
		}
		line++
		if batch.Len() == 0 {
			batchStart = line
		}
		batch.Write(sc.Bytes())
		batch.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			reportImport(out, total)
			return exitcode.New(exitcode.Failure, fmt.Sprintf("line %d is longer than %d KiB; the lines before it were imported (above), nothing from it on", line+1, importBatch>>10))
		}
		return fmt.Errorf("read the import after line %d: %w", line, err)
	}
	if err := flush(); err != nil {
		return err
	}
	reportImport(out, total)
	if len(total.Errors) > 0 {
		return &silentExit{exitcode.Failure}
	}
	return nil
}

// plural is one for a count of 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// maxImportErrors is how many failed lines an import lists; a file that
// is not JSON Lines at all would otherwise print one per line.
const maxImportErrors = 20

// reportImport says what an import stored, skipped and could not store.
func reportImport(out io.Writer, total api.ImportResult) {
	fmt.Fprintf(out, "Imported %d %s; %d %s already there.", total.Created, plural(total.Created, "new memory", "new memories"),
		total.Duplicate, plural(total.Duplicate, "was", "were"))
	if total.Expired > 0 {
		fmt.Fprintf(out, " %d had expired and %s skipped.", total.Expired, plural(total.Expired, "was", "were"))
	}
	if total.Differs > 0 {
		fmt.Fprintf(out, " %d had the id of a memory here with other content; the one here was kept.", total.Differs)
	}
	fmt.Fprintln(out)
	secrets := false
	for i, e := range total.Errors {
		secrets = secrets || strings.Contains(e.Error, "looks like a secret")
		if i == maxImportErrors {
			fmt.Fprintf(out, "  … and %d more lines that could not be stored (%d in all)\n", len(total.Errors)-i, len(total.Errors))
			break
		}
		fmt.Fprintf(out, "  line %d: %s\n", e.Line, strings.Replace(e.Error, "set allow_secret to store it anyway", `add "allow_secret":true to the line`, 1))
	}
	if secrets {
		fmt.Fprintln(out, importSecretHint)
	}
}

// importSecretHint follows the lines an import refused as secrets.
const importSecretHint = "A backup exported before cairn export marked such lines goes in whole with 'cairn import --allow-secret'."
