package main

import (
	"archive/tar"
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// streamSums is `dumont-pack stream-sums OUT`: stdin to stdout unchanged (the archive on its way
// from lz4 -d to tar -x), while the same bytes, read as a tar stream, give the MD5 of every file
// member, written to OUT as `md5sum -z` prints them ("<md5>  <member name>\0", each name once, as
// the last member of that name left it). A hard link member gets its target's sum. The restore's
// verification takes these instead of reading every file back from the disk: one pass extracts
// and hashes.
//
// Copying never depends on the hashing: when the stream is not a tar stream this reader can
// follow (a damaged archive, a format it does not know, headers GNU tar might read otherwise), the
// copy goes on, tar -x says what it says, no OUT is written (the restore then hashes from the disk), and the exit status is still 0.
// Only a failure of the copy itself (stdin, stdout) fails the program, as it would fail cat. (A
// stream cut at a member boundary reads as a whole archive here: LZ4's checksum fails it upstream,
// and the restore script takes no sums from a link whose pipeline failed.)
func streamSums(outPath string) {
	passThroughHashing(os.Stdin, os.Stdout, outPath, "stream-sums")
}

// passThroughHashing copies in to out, and hashes the members of the tar stream it carries into
// outPath (see streamSums). A failure of the copy ends the program, naming the command.
func passThroughHashing(in io.Reader, out io.Writer, outPath, command string) {
	// Buffers go round: read into one, hand it to the hashing, which gives it back once read.
	const buffers = 32
	chunks := make(chan []byte, buffers)
	free := make(chan []byte, buffers)
	for range buffers {
		free <- make([]byte, 128<<10)
	}
	stopped := make(chan struct{})
	var hashErr error
	go func() {
		defer close(stopped)
		hashErr = hashMembers(&chunkReader{chunks: chunks, free: free}, outPath)
	}()
	hashing := true
	own := make([]byte, 128<<10) // once the hashing stopped
	for {
		chunk := own
		if hashing {
			select {
			case chunk = <-free:
			case <-stopped:
				hashing = false
			}
		}
		n, err := in.Read(chunk)
		if n > 0 {
			if _, werr := out.Write(chunk[:n]); werr != nil {
				fatal("%s: writing the stream: %v", command, werr)
			}
			if hashing {
				select {
				case chunks <- chunk[:n]:
				case <-stopped:
					hashing = false
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			fatal("%s: reading the stream: %v", command, err)
		}
	}
	close(chunks)
	<-stopped
	if hashErr != nil {
		fmt.Fprintf(os.Stderr, "dumont-pack: %s: %v (the restore hashes from the disk instead)\n", command, hashErr)
	}
}

// hashMembers reads tar members from r and writes their sums to outPath once all are read. It
// stops at the end-of-archive; the copy goes on without it.
func hashMembers(r io.Reader, outPath string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reading the archive: %v", p)
		}
	}()
	partial := outPath + ".partial"
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(partial)
	defer f.Close()
	tr := tar.NewReader(r)
	// Every file's sum by member name, in the order first seen: a later member of the same name
	// replaces it (tar -x does), one this reader does not hash removes it (the disk tells).
	byName := map[string][md5.Size]byte{}
	var order []string
	h := md5.New()
	buf := make([]byte, 1<<20)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %v", err)
		}
		// A member named both by GNU long-name records and by pax records is one GNU tar and this
		// reader may name differently (each lets another win): its sum could be put on the wrong
		// file. Fail closed: no sums at all.
		if hdr.Format == tar.FormatUnknown {
			return fmt.Errorf("member %s mixes GNU and pax headers", quoteName(hdr.Name))
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
			h.Reset()
			if _, err := io.CopyBuffer(h, tr, buf); err != nil {
				return fmt.Errorf("reading %s from the archive: %v", quoteName(hdr.Name), err)
			}
			var sum [md5.Size]byte
			h.Sum(sum[:0])
			if _, seen := byName[hdr.Name]; !seen {
				order = append(order, hdr.Name)
			}
			byName[hdr.Name] = sum
		case tar.TypeLink:
			target, known := byName[hdr.Linkname]
			if !known {
				delete(byName, hdr.Name) // its target came in an earlier archive: the disk tells
				continue
			}
			if _, seen := byName[hdr.Name]; !seen {
				order = append(order, hdr.Name)
			}
			byName[hdr.Name] = target
		case tar.TypeDir, tar.TypeSymlink:
			delete(byName, hdr.Name)
		default:
			// GNU tar writes other kinds (contiguous files, old sparse members) as files: never
			// guess at what it made of them.
			return fmt.Errorf("member %s is of a kind it does not hash (%q)", quoteName(hdr.Name), hdr.Typeflag)
		}
	}
	out := bufio.NewWriterSize(f, 1<<16)
	for _, name := range order {
		if sum, ok := byName[name]; ok {
			fmt.Fprintf(out, "%s  %s\x00", hex.EncodeToString(sum[:]), name)
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(partial, outPath)
}

// chunkReader reads the chunks the copy hands over, in order, until the channel closes, and gives
// each buffer back once it is read.
type chunkReader struct {
	chunks <-chan []byte
	free   chan<- []byte
	chunk  []byte
	rest   []byte
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.rest) == 0 {
		if c.chunk != nil {
			c.free <- c.chunk[:cap(c.chunk)]
			c.chunk = nil
		}
		chunk, open := <-c.chunks
		if !open {
			return 0, io.EOF
		}
		c.chunk, c.rest = chunk, chunk
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	return n, nil
}
