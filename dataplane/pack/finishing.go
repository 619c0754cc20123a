package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// The restore's last two steps on the workspace, as scripts.ts's restoreSymlinksScript and
// directoryTimesScript do them in bash, without a process per entry: the bash loops forked `ln`
// and `touch` for every symlink and folder, about 7 ms each on the hosts here (0.7 s for the 100
// folders of the benchmark's small workspace; a Hugging Face cache holds thousands of symlinks).
// Same records on stdin, same guards, same exit statuses:
//
//	dumont-pack dir-times ROOT      "<mtime>\0<path>\0" records: each path that is a real folder below
//	                                real folders gets that modification time; a missing one, or one
//	                                of another type, is left for the verification to name.
//	dumont-pack symlinks ROOT       "<target>\0<mtime>\0<path>\0" records: a symlink made at each path
//	                                (never inside a folder or over anything already there), with
//	                                that modification time.
//
// Exit 7 (and "refusing <path>: <parent> is not a real directory") when a path's parent is a
// symlink or not a folder: nothing is ever reached through a symlink; for a symlink, also when its
// folder is missing. Exit 1 when a symlink cannot
// be made or a time cannot be set, 2 for a record that does not parse.
func dirTimes(root string) {
	finishing(root, 2, func(fields []string, parents *realParents) {
		mtime, path := fields[0], fields[1]
		if !parents.check(path) {
			return // missing: the verification names it
		}
		full := root + "/" + path
		var st syscall.Stat_t
		if syscall.Lstat(full, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
			return
		}
		setTimeNoFollow(full, mtime)
	})
}

func placeSymlinks(root string) {
	finishing(root, 3, func(fields []string, parents *realParents) {
		target, mtime, path := fields[0], fields[1], fields[2]
		if !parents.check(path) {
			fmt.Fprintf(os.Stderr, "refusing %s: its folder is missing\n", quoteName(path))
			os.Exit(7)
		}
		full := root + "/" + path
		if err := syscall.Symlink(target, full); err != nil {
			finishingFailed("cannot make the symlink %s: %s", quoteName(path), errorText(err))
		}
		setTimeNoFollow(full, mtime)
	})
}

// finishing reads records of n NUL-terminated fields from stdin and hands each to do.
func finishing(root string, n int, do func(fields []string, parents *realParents)) {
	in := bufio.NewReaderSize(os.Stdin, 1<<16)
	parents := &realParents{root: root, known: map[string]bool{}}
	for {
		fields := make([]string, 0, n)
		for len(fields) < n {
			field, err := in.ReadString(0)
			if err == io.EOF && field == "" && len(fields) == 0 {
				return
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "dumont-pack: a record is cut short")
				os.Exit(2)
			}
			fields = append(fields, strings.TrimSuffix(field, "\x00"))
		}
		do(fields, parents)
	}
}

func finishingFailed(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "dumont-pack: "+format+"\n", args...)
	os.Exit(1)
}

// realParents checks that every parent of a path is a real folder, remembering those it found.
type realParents struct {
	root  string
	known map[string]bool
}

// check is true when every parent is a real folder, false when one is missing; a parent that is
// a symlink or not a folder (or a path that is not plainly inside ROOT) ends the program, exit 7.
func (r *realParents) check(path string) bool {
	parts := strings.Split(path, "/")
	for _, part := range parts {
		if part == "" || part == "." || part == ".." {
			fmt.Fprintf(os.Stderr, "refusing %s: not a path inside the workspace\n", quoteName(path))
			os.Exit(7)
		}
	}
	for i := 1; i < len(parts); i++ {
		parent := strings.Join(parts[:i], "/")
		if r.known[parent] {
			continue
		}
		var st syscall.Stat_t
		err := syscall.Lstat(r.root+"/"+parent, &st)
		if errors.Is(err, syscall.ENOENT) {
			return false
		}
		if err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
			fmt.Fprintf(os.Stderr, "refusing %s: %s is not a real directory\n", quoteName(path), quoteName(parent))
			os.Exit(7)
		}
		r.known[parent] = true
	}
	return true
}

// setTimeNoFollow sets a path's modification time (the entry itself, never what a symlink points
// to) from the manifest's "<seconds>.<fraction>", leaving its access time.
func setTimeNoFollow(full, mtime string) {
	at, ok := parseMtime(mtime)
	if !ok {
		fmt.Fprintf(os.Stderr, "dumont-pack: %q is not a time\n", mtime)
		os.Exit(2)
	}
	const atFdcwd = -100 // an absolute path: no folder descriptor needed
	err := setTimesAt(atFdcwd, full, syscall.Timespec{}, at, false)
	if err != nil {
		finishingFailed("cannot set the time of %s: %s", quoteName(full), errorText(err))
	}
}

// parseMtime reads "[-]<seconds>[.<fraction>]" (find's %T@, as manifests hold it) to the nanosecond.
func parseMtime(s string) (syscall.Timespec, bool) {
	negative := strings.HasPrefix(s, "-")
	whole, fraction, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	sec, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || strings.Trim(whole, "0123456789") != "" || strings.Trim(fraction, "0123456789") != "" {
		return syscall.Timespec{}, false
	}
	fraction = (fraction + "000000000")[:9]
	nsec, _ := strconv.ParseInt(fraction, 10, 64)
	if negative {
		sec, nsec = -sec, -nsec
		if nsec < 0 {
			sec, nsec = sec-1, nsec+1e9
		}
	}
	return syscall.Timespec{Sec: sec, Nsec: nsec}, true
}
