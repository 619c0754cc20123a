package main

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
)

// hashAll prints "<md5>  <name>\0" for every file named, as `md5sum -z` does, reading several
// files at a time (the restore's verification of many small files waits on the disk and the
// kernel, not on MD5). Order is not kept: the reader keys the sums by name. A file that cannot be
// read is named on stderr and left out, and the exit status is 1, after all the others are printed.
func hashAll(names []string, out io.Writer, messages io.Writer) int {
	jobs := make(chan string, window)
	var lock sync.Mutex
	status := 0
	var workers sync.WaitGroup
	for range readers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			buf := make([]byte, 256<<10)
			for name := range jobs {
				sum, err := hashFile(name, buf)
				lock.Lock()
				if err != nil {
					fmt.Fprintf(messages, "dumont-pack: %s: %s\n", quoteName(name), errorText(err))
					status = 1
				} else {
					fmt.Fprintf(out, "%s  %s\x00", hex.EncodeToString(sum), name)
				}
				lock.Unlock()
			}
		}()
	}
	for _, name := range names {
		jobs <- name
	}
	close(jobs)
	workers.Wait()
	return status
}

func hashFile(name string, buf []byte) ([]byte, error) {
	f, err := openToRead(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return nil, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, errors.New("not a regular file")
	}
	h := md5.New()
	// Not io.CopyBuffer: *os.File's WriteTo would take over and allocate a buffer per file.
	for {
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			return h.Sum(nil), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// sums is `dumont-pack sums ROOT LIST`: the MD5 of each file LIST names, relative to ROOT.
func sums(root string, names []string) {
	if err := os.Chdir(root); err != nil {
		fatal("cannot enter %s: %v", root, err)
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	status := hashAll(names, out, os.Stderr)
	if err := out.Flush(); err != nil {
		fatal("writing the sums: %v", err)
	}
	os.Exit(status)
}
