// dumont-pack: the snapshot's reader on the GPU host, shipped there by the controller (a static
// binary, so a bare image needs nothing of its own for it). One pass over each file makes both its
// archive copy and its MD5: the shell pipeline it replaces read every file twice (tar, md5sum) and
// copied the whole stream three more times to cut each round's end-of-archive off.
//
//	dumont-pack members ROOT LIST SUMS SEEN
//	dumont-pack sums ROOT LIST
//	dumont-pack stream-sums OUT
//	dumont-pack fetch SUMS|- < URL
//	dumont-pack extract STAGE LISTING SUMS|- < URL
//	dumont-pack dir-times ROOT < RECORDS
//	dumont-pack symlinks ROOT < RECORDS
//	dumont-pack upload SPOOL PART_SIZE CONCURRENCY < ARCHIVE
//
// Writes POSIX (pax) tar members for the entries LIST names (NUL-terminated paths, relative to
// ROOT, "./"-prefixed), in that order, to stdout as one LZ4 frame (with its content checksum, as
// `lz4` writes them, its blocks compressed on several cores), and no end-of-archive: the caller
// appends rounds (more frames, which `lz4 -d` reads as one stream) and ends the archive once. A
// large file whose bytes equal a file archived earlier in the round is a copy member of it
// (duplicates.go). Writes "<md5>  <path>\0" to SUMS for every regular file, of exactly
// the bytes archived, and to SEEN each entry as it was when read, in the fields the snapshot's scan
// has (scripts.ts: scanScript), so the controller needs no second look at the files. Says what GNU tar would on stderr, in its escape quoting (the controller
// reads both alike), and exits as it does: 0, 1 when a file changed as it was read, 2 when an
// entry could not be archived.
//
// `sums` prints the MD5 of each file LIST names, as `md5sum -z` does, reading several at a time;
// the restore verifies with it what it did not hash as it extracted. `stream-sums` passes an
// archive through on its way to tar -x and writes the MD5 of every file in it to OUT
// (streamsums.go). `fetch` downloads an archive by byte ranges over several connections, decodes it
// and writes the tar stream to stdout, hashing its files as stream-sums does (fetch.go): a restore
// by hand (`fetch - | tar -x`). `extract` downloads and decodes as fetch does and extracts the
// archive itself into a stage folder, several files at once, hashing each as it is written
// (extract.go): the restore uses it. stream-sums stays for an archive that arrives another way
// (curl | lz4 -d by hand), its tests covering the hashing fetch shares. `dir-times` and `symlinks`
// are the restore's last steps, without a process per entry (finishing.go). `upload` cuts the snapshot's archive into
// parts and PUTs them to presigned URLs, making each part's MD5 as it goes (upload.go).
// A member named "../x" or "/x" is read as any other (GODEBUG's tarinsecurepath=0, or a later Go
// making it the default, would stop the reading there): extract never writes it, and lists it for
// the restore to refuse.
//
//go:debug tarinsecurepath=1
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = "usage: dumont-pack members ROOT LIST SUMS SEEN | dumont-pack sums ROOT LIST | dumont-pack stream-sums OUT | dumont-pack fetch SUMS|- < URL | dumont-pack extract STAGE LISTING SUMS|- < URL | dumont-pack dir-times ROOT < RECORDS | dumont-pack symlinks ROOT < RECORDS | dumont-pack upload SPOOL PART_SIZE CONCURRENCY < ARCHIVE"

func main() {
	switch {
	case len(os.Args) == 6 && os.Args[1] == "members":
		members(os.Args[2], readList(os.Args[3]), os.Args[4], os.Args[5])
	case len(os.Args) == 4 && os.Args[1] == "sums":
		sums(os.Args[2], readList(os.Args[3]))
	case len(os.Args) == 3 && os.Args[1] == "stream-sums":
		streamSums(os.Args[2])
	case len(os.Args) == 3 && os.Args[1] == "fetch":
		fetch(os.Args[2])
	case len(os.Args) == 5 && os.Args[1] == "extract":
		extract(os.Args[2], os.Args[3], os.Args[4])
	case len(os.Args) == 3 && os.Args[1] == "dir-times":
		dirTimes(os.Args[2])
	case len(os.Args) == 3 && os.Args[1] == "symlinks":
		placeSymlinks(os.Args[2])
	case len(os.Args) == 5 && os.Args[1] == "upload":
		upload(os.Args[2], os.Args[3], os.Args[4])
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(64)
	}
}

// readList is a file's NUL-terminated names ("-": stdin).
func readList(file string) []string {
	var list []byte
	var err error
	if file == "-" {
		list, err = io.ReadAll(os.Stdin)
	} else {
		list, err = os.ReadFile(file)
	}
	if err != nil {
		fatal("cannot read the list: %v", err)
	}
	names := strings.Split(string(list), "\x00")
	if names[len(names)-1] == "" {
		names = names[:len(names)-1]
	}
	return names
}

func members(root string, names []string, sumsPath, seenPath string) {
	sumsFile, sums := create(sumsPath)
	seenFile, seen := create(seenPath)
	if err := os.Chdir(root); err != nil {
		fatal("cannot enter %s: %v", root, err)
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	compressed := compressor(out)
	packer := newPacker(compressed, sums, seen, os.Stderr)
	packer.addAll(names)
	if err := packer.flush(); err != nil {
		fatal("writing the archive: %v", err)
	}
	if err := compressed.Close(); err != nil {
		fatal("writing the archive: %v", err)
	}
	if err := out.Flush(); err != nil {
		fatal("writing the archive: %v", err)
	}
	for _, f := range []struct {
		file *os.File
		w    *bufio.Writer
	}{{sumsFile, sums}, {seenFile, seen}} {
		if err := f.w.Flush(); err != nil || f.file.Close() != nil {
			fatal("writing %s: %v", f.file.Name(), err)
		}
	}
	if packer.status == 2 {
		fmt.Fprintln(os.Stderr, "tar: Exiting with failure status due to previous errors")
	}
	os.Exit(packer.status)
}

// create makes a new file for the caller's eyes only (absolute paths: made before the chdir).
func create(file string) (*os.File, *bufio.Writer) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		fatal("cannot create %s: %v", file, err)
	}
	return f, bufio.NewWriterSize(f, 1<<16)
}

// fatal ends the program on a failure of the stream itself (not of one entry): exit 2, as tar.
func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "dumont-pack: "+format+"\n", args...)
	os.Exit(2)
}
