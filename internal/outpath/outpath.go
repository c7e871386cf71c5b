// Package outpath decides what writing to a file name the user gave
// means: making or replacing a plain file, writing into a pipe or a device
// as it is, or writing to a descriptor this process already holds
// (/dev/stdout, /dev/fd/N). It refuses what another local user could have
// planted on the way to turn the write against the writer: a link that
// aims it at a file of the writer's, a pipe that hands the data to its
// maker, a folder whose owner could swap what is in it after the check.
//
// cairn export is the one writer; it is a package of its own because the
// rules are security rules and are tested as such, apart from the CLI.
package outpath

import (
	"fmt"
	"os"
)

// Kind is what a name turned out to be.
type Kind int

const (
	// New: nothing is there yet; the write makes a file (by rename).
	New Kind = iota
	// File: a plain file; the write replaces it whole (by rename).
	File
	// Stream: a pipe or a device, opened and written as it is (as
	// root, a rename would have turned /dev/null into a plain file).
	Stream
	// Descriptor: a descriptor this process holds, written where it
	// stands: /dev/stdout redirected with >> appends to its file.
	Descriptor
)

// Target is where a write to a name lands.
type Target struct {
	Kind Kind
	// Path is the name with every link resolved (New, File, Stream):
	// what the write opens or renames over, so that no link is followed
	// after the checks.
	Path string
	// FD is the descriptor (Descriptor).
	FD int
	// seen is what Resolve found at Path (Stream), for Open to find
	// again on the descriptor it opens.
	seen os.FileInfo
}

// Open opens a Stream or a Descriptor target for writing. A Descriptor is
// duplicated, so closing the file leaves the process's own open.
func (t Target) Open() (*os.File, error) {
	switch t.Kind {
	case Descriptor:
		return dupDescriptor(t.FD)
	case Stream:
		return openStream(t)
	}
	return nil, fmt.Errorf("%s is a plain file; it is replaced, not opened", t.Path)
}
