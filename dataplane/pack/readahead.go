package main

import (
	"archive/tar"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// Reading a workspace of many small files is mostly waiting: for the disk to find each one, and
// for the kernel to open it. So workers read the entries ahead of the writer, several at a time
// (the disk queues them; MD5 spreads over the cores), and the writer puts them in the archive in
// list order. A small file is read whole by its worker; a large one is left for the writer to
// stream (it needs no read-ahead, and its bytes would not fit a bounded window).
const (
	readers   = 8
	window    = 64        // entries read ahead of the writer, at most
	smallFile = 256 << 10 // bytes: ~window × this is the most read-ahead memory
)

// entry is what a worker learned of one listed name, ready for the writer.
type entry struct {
	name     string
	st       syscall.Stat_t
	kind     byte            // tar's type flag; 0: not archived
	target   string          // a symlink's
	seenOnly bool            // replaced since it was listed: recorded as it is now, archived in a later round
	now      *syscall.Stat_t // a file that changed as it was read: how it was after (for SEEN)
	data     []byte          // a small file's bytes (streamed: nil, the writer reads it)
	streamed bool
	sum      [md5.Size]byte
	messages []string
	status   int
}

func (e *entry) say(what string) {
	e.messages = append(e.messages, fmt.Sprintf("tar: %s: %s", quoteName(e.name), what))
}

// failed reports an entry that could not be archived (exit 2); changed one that was (exit 1).
func (e *entry) failed(action string, err error) {
	e.say(action + ": " + errorText(err))
	e.status = 2
}

func (e *entry) changed(what string) {
	e.say(what)
	e.status = max(e.status, 1)
}

// readAhead runs the workers over names and returns the entries in list order.
func readAhead(names []string) <-chan *entry {
	type job struct {
		name string
		done chan<- *entry
	}
	jobs := make(chan job, window)
	ordered := make(chan chan *entry, window)
	go func() {
		for _, name := range names {
			done := make(chan *entry, 1)
			ordered <- done
			jobs <- job{name, done}
		}
		close(jobs)
		close(ordered)
	}()
	for range readers {
		go func() {
			for j := range jobs {
				j.done <- prepare(j.name)
			}
		}()
	}
	entries := make(chan *entry)
	go func() {
		for done := range ordered {
			entries <- <-done
		}
		close(entries)
	}()
	return entries
}

// prepare looks at one entry and reads it if it is a small file.
func prepare(name string) *entry {
	e := &entry{name: name}
	if err := syscall.Lstat(name, &e.st); err != nil {
		e.failed("Cannot stat", err)
		return e
	}
	switch e.st.Mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		e.kind = tar.TypeDir
	case syscall.S_IFLNK:
		target, err := os.Readlink(name)
		if err != nil {
			e.failed("Cannot readlink", err)
			return e
		}
		e.kind, e.target = tar.TypeSymlink, target
	case syscall.S_IFREG:
		e.kind = tar.TypeReg
		if e.st.Size > smallFile {
			e.streamed = true
		} else {
			readSmall(e)
		}
	default:
		// The scan leaves sockets, FIFOs and devices out; one that appeared since is left out too.
		e.say("file type ignored")
	}
	return e
}

// replaced marks an entry that is not what the lstat saw (a file renamed over it, a symlink or a
// folder in its place, a small file grown large): it is recorded as it is now, so the controller
// has it read again in a later round, and left out of this one.
func (e *entry) replaced() {
	e.kind, e.seenOnly, e.target = 0, true, ""
	if err := syscall.Lstat(e.name, &e.st); err != nil {
		e.seenOnly = false // gone: the controller finds it vanished
	} else if e.st.Mode&syscall.S_IFMT == syscall.S_IFLNK {
		e.target, _ = os.Readlink(e.name)
	}
	e.changed("file changed as we read it")
}

// seenStat is the entry as SEEN records it: as it was when read, or, when it changed as it was
// read, as it was after (the next round compares with that, so a file that has since held still
// settles there).
func (e *entry) seenStat() *syscall.Stat_t {
	if e.now != nil {
		return e.now
	}
	return &e.st
}

// statAfter is f's state after it was read: `before` itself when its size, mtime and ctime have
// not moved (tar's own test), else a new stat.
func statAfter(f *os.File, before *syscall.Stat_t) *syscall.Stat_t {
	var after syscall.Stat_t
	if syscall.Fstat(int(f.Fd()), &after) != nil {
		return before
	}
	if after.Size == before.Size && after.Mtim == before.Mtim && after.Ctim == before.Ctim {
		return before
	}
	return &after
}

// openToRead opens a listed file without following a symlink put in its place, nor waiting on a
// FIFO put there (open would block until someone writes to it); Fstat then tells what it is.
func openToRead(name string) (*os.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}

// readSmall reads a small file whole, as it is when opened: its size then is what the archive
// holds (zeros for what it lost meanwhile), and a size, mtime or ctime that moved while it was read
// reports it changed (tar's own test).
func readSmall(e *entry) {
	f, err := openToRead(e.name)
	if errors.Is(err, syscall.ELOOP) {
		e.replaced()
		return
	}
	if err != nil {
		e.kind = 0
		e.failed("Cannot open", err)
		return
	}
	defer f.Close()
	if err := syscall.Fstat(int(f.Fd()), &e.st); err != nil || e.st.Mode&syscall.S_IFMT != syscall.S_IFREG || e.st.Size > smallFile {
		e.replaced()
		return
	}
	e.data = make([]byte, e.st.Size)
	n, err := io.ReadFull(io.NewSectionReader(f, 0, e.st.Size), e.data)
	switch {
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		e.failed(fmt.Sprintf("Read error at byte %d", n), err)
	case int64(n) < e.st.Size:
		e.changed(fmt.Sprintf("File shrank by %d bytes; padding with zeros", e.st.Size-int64(n)))
		e.now = statAfter(f, &e.st)
	default:
		if after := statAfter(f, &e.st); after != &e.st {
			e.changed("file changed as we read it")
			e.now = after
		}
	}
	e.sum = md5.Sum(e.data)
}
