package main

import (
	"archive/tar"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
)

// packer writes one round's members: a header per entry, each regular file's bytes once, hashed
// as they are written.
type packer struct {
	out      io.Writer // the stream under tw: sparse members are written to it directly
	tw       *tar.Writer
	sums     io.Writer
	seen     io.Writer
	messages io.Writer
	status   int
	buf      []byte
	md5      hash.Hash
	links    map[inode]firstName
	bySize   map[int64][]firstName // large files archived whole, by size (duplicates.go)
	other    []byte                // the second buffer of a comparison, made at the first
}

func newPacker(out, sums, seen, messages io.Writer) *packer {
	return &packer{out: out, tw: tar.NewWriter(out), sums: sums, seen: seen, messages: messages, buf: make([]byte, 1<<20), md5: md5.New(), links: map[inode]firstName{}, bySize: map[int64][]firstName{}}
}

// writeSum records a regular file's MD5 as `md5sum -z` prints it.
func (p *packer) writeSum(sum, name string) {
	fmt.Fprintf(p.sums, "%s  %s\x00", sum, name)
}

// sawEntry records an entry as it was read, as the scan's find -printf '%y\0%p\0%s\0%m\0%T@\0%l\0'
// prints it (%T@: seconds, a dot, nanoseconds and a 0, also before 1970). Anything but a file, a
// folder or a symlink is "o", which the scan's parser leaves out: the controller finds it gone.
func (p *packer) sawEntry(name string, st *syscall.Stat_t, target string) {
	letter := map[uint32]string{syscall.S_IFREG: "f", syscall.S_IFDIR: "d", syscall.S_IFLNK: "l"}[st.Mode&syscall.S_IFMT]
	if letter == "" {
		letter = "o"
	}
	fmt.Fprintf(p.seen, "%s\x00%s\x00%d\x00%o\x00%d.%09d0\x00%s\x00", letter, name, st.Size, st.Mode&0o7777, st.Mtim.Sec, st.Mtim.Nsec, target)
}

// errorText is the C library's text for an errno ("No such file or directory"), as tar prints it.
func errorText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		text := errno.Error()
		return strings.ToUpper(text[:1]) + text[1:]
	}
	return err.Error()
}

func (p *packer) flush() error { return p.tw.Flush() }

// addAll archives the entries at names ("./" paths relative to the current directory), in order.
func (p *packer) addAll(names []string) {
	for e := range readAhead(names) {
		if err := p.put(e); err != nil {
			fatal("archiving %s: %v", quoteName(e.name), err)
		}
		for _, m := range e.messages {
			fmt.Fprintln(p.messages, m)
		}
		p.status = max(p.status, e.status)
	}
}

// put writes one entry's member (a large file is read now, as it is written, and what happened to
// it joins the entry's messages).
func (p *packer) put(e *entry) error {
	var err error
	switch {
	case e.seenOnly:
		p.sawEntry(e.name, &e.st, e.target)
		return nil
	case e.kind == 0:
		return nil
	case e.streamed:
		if err := p.file(e); err != nil {
			return err
		}
		return p.tw.Flush()
	case e.kind == tar.TypeReg:
		if first, ok := p.linkedTo(&e.st); ok {
			if err := p.putLink(e.name, first, &e.st, nil); err != nil {
				return err
			}
			return p.tw.Flush()
		}
		h := header(e.name, tar.TypeReg, &e.st)
		h.Size = int64(len(e.data))
		if err = p.tw.WriteHeader(h); err == nil {
			_, err = p.tw.Write(e.data)
		}
		sum := hex.EncodeToString(e.sum[:])
		p.writeSum(sum, e.name)
		if e.status == 0 {
			p.archived(e.name, sum, &e.st)
		}
	case e.kind == tar.TypeDir:
		err = p.tw.WriteHeader(header(strings.TrimSuffix(e.name, "/")+"/", tar.TypeDir, &e.st))
	default:
		h := header(e.name, tar.TypeSymlink, &e.st)
		h.Linkname = e.target
		err = p.tw.WriteHeader(h)
	}
	if err != nil {
		return err
	}
	p.sawEntry(e.name, e.seenStat(), e.target)
	return p.tw.Flush()
}

// header is an entry's tar header in pax format: numeric owner, nanosecond mtime, mode bits.
func header(name string, kind byte, st *syscall.Stat_t) *tar.Header {
	return &tar.Header{
		Typeflag: kind, Name: name, Mode: int64(st.Mode & 0o7777), Uid: int(st.Uid), Gid: int(st.Gid),
		ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec), Format: tar.FormatPAX,
	}
}

// file archives a large regular file as it is when opened, and reports it changed when its size,
// mtime or ctime moved while it was read (tar's own test). Errors returned are the stream's.
func (p *packer) file(e *entry) error {
	f, err := openToRead(e.name)
	if errors.Is(err, syscall.ELOOP) {
		return p.sawReplaced(e)
	}
	if err != nil {
		e.failed("Cannot open", err)
		return nil
	}
	defer f.Close()
	var before syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &before); err != nil || before.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return p.sawReplaced(e)
	}
	if first, ok := p.linkedTo(&before); ok {
		return p.putLink(e.name, first, &before, nil)
	}
	extents, sparse := dataExtents(f, &before)
	if !sparse {
		if first, ok := p.copyOf(f, &before); ok {
			if err := p.putLink(e.name, first, &before, copyRecords); err != nil {
				return err
			}
			p.archived(e.name, first.sum, &before)
			return nil
		}
	}
	p.md5.Reset()
	var short int64
	if sparse {
		short, err = p.sparseFile(e, f, &before, extents)
	} else {
		short, err = p.wholeFile(e, f, &before)
	}
	if err != nil {
		return err
	}
	sum := hex.EncodeToString(p.md5.Sum(nil))
	p.writeSum(sum, e.name)
	after := statAfter(f, &before)
	p.sawEntry(e.name, after, "") // as it was after, if it changed: see entry.seenStat
	switch {
	case short > 0:
		e.changed(fmt.Sprintf("File shrank by %d bytes; padding with zeros", short))
	case after != &before:
		e.changed("file changed as we read it")
	default:
		p.archived(e.name, sum, &before)
		if !sparse {
			p.rememberWhole(e.name, sum, &before)
		}
	}
	return nil
}

// sawReplaced records a large file that was replaced before it was opened (entry.replaced).
func (p *packer) sawReplaced(e *entry) error {
	e.replaced()
	if e.seenOnly {
		p.sawEntry(e.name, &e.st, e.target)
	}
	return nil
}

// wholeFile writes the header and st.Size bytes of f; a file that ends sooner is padded with zeros
// (the header promised its size), and how many were missing is returned.
func (p *packer) wholeFile(e *entry, f *os.File, st *syscall.Stat_t) (int64, error) {
	h := header(e.name, tar.TypeReg, st)
	h.Size = st.Size
	if err := p.tw.WriteHeader(h); err != nil {
		return 0, err
	}
	return p.copyRange(e, p.tw, f, 0, st.Size)
}

// copyRange writes length bytes of e's file f from offset to w and the hash, zeros where f ends
// first; it returns how many bytes f was short of them.
func (p *packer) copyRange(e *entry, w io.Writer, f *os.File, offset, length int64) (int64, error) {
	for length > 0 {
		n, err := f.ReadAt(p.buf[:min(int64(len(p.buf)), length)], offset)
		if n == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return length, p.zeros(w, length)
			}
			// tar's way with a disk that fails a read: the rest is zeros, and the snapshot fails.
			e.failed(fmt.Sprintf("Read error at byte %d", offset), err)
			return 0, p.zeros(w, length)
		}
		if err := p.write(w, p.buf[:n]); err != nil {
			return 0, err
		}
		offset += int64(n)
		length -= int64(n)
	}
	return 0, nil
}

// zeros writes length zero bytes to w and the hash (a hole, or padding for a file that shrank).
func (p *packer) zeros(w io.Writer, length int64) error {
	clear(p.buf)
	for length > 0 {
		chunk := min(int64(len(p.buf)), length)
		if err := p.write(w, p.buf[:chunk]); err != nil {
			return err
		}
		length -= chunk
	}
	return nil
}

func (p *packer) write(w io.Writer, b []byte) error {
	p.md5.Write(b)
	if w == nil {
		return nil
	}
	_, err := w.Write(b)
	return err
}
