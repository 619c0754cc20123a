// dumont-pack: the snapshot's reader on the GPU host, shipped there by the controller (a static
// binary, so a bare image needs nothing of its own for it). One pass over each file makes both its
// archive copy and its MD5: the shell pipeline it replaces read every file twice (tar, md5sum) and
// copied the whole stream three more times to cut each round's end-of-archive off.
//
//	dumont-pack members ROOT LIST SUMS
//
// Writes POSIX (pax) tar members for the entries LIST names (NUL-terminated paths, relative to
// ROOT, "./"-prefixed), in that order, to stdout, and no end-of-archive: the caller appends rounds
// and ends the archive once. Writes "<md5>  <path>\0" to SUMS for every regular file, of exactly
// the bytes archived. Says what GNU tar would on stderr, in its escape quoting (the controller
// reads both alike), and exits as it does: 0, 1 when a file changed as it was read, 2 when an
// entry could not be archived.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

const usage = "usage: dumont-pack members ROOT LIST SUMS"

func main() {
	if len(os.Args) != 5 || os.Args[1] != "members" {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(64)
	}
	root, listPath, sumsPath := os.Args[2], os.Args[3], os.Args[4]
	list, err := os.ReadFile(listPath)
	if err != nil {
		fatal("cannot read the list: %v", err)
	}
	sumsFile, err := os.OpenFile(sumsPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		fatal("cannot create the sums file: %v", err)
	}
	if err := os.Chdir(root); err != nil {
		fatal("cannot enter %s: %v", root, err)
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	sums := bufio.NewWriterSize(sumsFile, 1<<16)
	packer := newPacker(out, sums, os.Stderr)
	names := strings.Split(string(list), "\x00")
	if names[len(names)-1] == "" {
		names = names[:len(names)-1]
	}
	packer.addAll(names)
	if err := packer.flush(); err != nil {
		fatal("writing the archive: %v", err)
	}
	if err := out.Flush(); err != nil {
		fatal("writing the archive: %v", err)
	}
	if err := sums.Flush(); err != nil || sumsFile.Close() != nil {
		fatal("writing the sums: %v", err)
	}
	if packer.status == 2 {
		fmt.Fprintln(os.Stderr, "tar: Exiting with failure status due to previous errors")
	}
	os.Exit(packer.status)
}

// fatal ends the program on a failure of the stream itself (not of one entry): exit 2, as tar.
func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "dumont-pack: "+format+"\n", args...)
	os.Exit(2)
}
