package main

import (
	"archive/tar"
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// extract is `dumont-pack extract STAGE LISTING SUMS|- < URL`: fetch's download and decoding, and
// in the same process what `tar -x` did with them, into the folder STAGE, writing several files at
// once. tar writes every file from one thread: on the two-core hosts here that was 2-3 s of kernel
// time per GiB, and at 100,000 files a quarter of both cores stayed idle while tar created files.
// One pipe less also spares copying the whole archive once more.
//
// Everything is written beneath STAGE, by openat2 with RESOLVE_BENEATH for files and through an
// os.Root for the rest (stage_files.go): no member, hard link or folder can reach outside it,
// whatever the archive says, and, where openat2 works, no file is written through a symlink (GNU
// tar follows those that stay inside, and holds back those that leave their folder until the end;
// through os.Root, as through tar, one that stays inside the stage may be followed). A snapshot's
// archive never writes through a symlink, and the restore's check of the stage names a symlink
// where the manifest has a folder. A member whose name is not
// "./<path>" with plain parts (absolute, with '..' or '.' or empty parts) is not written at all.
// A device node, a FIFO or a member of a kind it does not know is not made, and the extraction
// ends with exit 3 and "the archive holds <name>, which is neither a file, a folder nor a symlink"
// (a snapshot holds none; the rest of the archive is still read and listed, so that the restore's
// check of the names also sees what such a member's size might hide).
//
// A copy member (a link member with the pax record DUMONT.copy: duplicates.go) becomes a file of
// its own holding the bytes of the earlier file member it names, with its own owner, mode and
// times, where tar makes a hard link; its sum is that file's.
//
// LISTING gets every member's name as the archive holds it, a line each, quoted as tar's listing
// is (quote.go: listedName); directories keep their trailing "/": the restore checks it against the names the
// manifest gives (restoreArchiveScript), and the folder STAGE holds after it, so a member skipped
// here for its name is refused there. With SUMS, the MD5 of every file member goes there as
// stream-sums writes it, made as the file is written.
//
// Owners (as root) and modes are set as `tar --numeric-owner -p` sets them, modification times to
// the nanosecond (access times too where the archive has them); folders get theirs at the end,
// deepest first, so a read-only folder is still filled. Symlinks keep the time of their making
// (tar sets theirs; the verification does not compare them, and the restore sets the times of the
// symlinks it holds back). A member whose data the archive marks
// sparse is written with its runs of zeros left as holes. A member that cannot be written is named
// on stderr and the others still are: exit 2 at the end, as tar's. The stream after the archive's
// end is read to its end, so that LZ4 checks the whole stream's checksum.
func extract(stage, listingPath, sumsPath string) {
	os.Exit(extractStream(openDecodedArchive("extract"), stage, listingPath, sumsPath, os.Stderr))
}

// extractStream extracts a decoded tar stream into stage (see extract) and gives the exit status.
func extractStream(decodedStream io.Reader, stage, listingPath, sumsPath string, messages io.Writer) int {
	files, err := openStageFiles(stage)
	if err != nil {
		fmt.Fprintf(messages, "dumont-pack: extract: cannot open the stage: %v\n", err)
		return 2
	}
	defer files.close()
	// Files are made with their modes exactly (stage_files.go).
	defer syscall.Umask(syscall.Umask(0))
	listingFile, err := os.OpenFile(listingPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		fmt.Fprintf(messages, "dumont-pack: extract: cannot create the listing: %v\n", err)
		return 2
	}
	listing := bufio.NewWriterSize(listingFile, 1<<16)
	decoded := bufio.NewReaderSize(decodedStream, 1<<20)
	x := newExtractor(files, sumsPath != "-", messages)
	streamErr := x.run(tar.NewReader(decoded), listing)
	if streamErr == nil {
		// The end-of-archive is not the end of the stream: the frames' checksums come after it.
		// (Read by Read: the LZ4 reader's WriteTo, which io.Copy would use, ends with io.EOF as an error.)
		if _, err := io.Copy(io.Discard, struct{ io.Reader }{decoded}); err != nil {
			streamErr = fmt.Errorf("reading the archive: %v", err)
		}
	}
	x.finish()
	err = listing.Flush()
	if closeErr := listingFile.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		fmt.Fprintf(messages, "dumont-pack: extract: writing the listing: %v\n", err)
		return 2
	}
	for _, name := range x.refused {
		fmt.Fprintf(messages, "dumont-pack: extract: the archive holds %s, which is neither a file, a folder nor a symlink\n", quoteName(name))
	}
	switch {
	case len(x.refused) > 0:
		return 3
	case streamErr != nil:
		fmt.Fprintf(messages, "dumont-pack: extract: %v\n", streamErr)
		return 2
	case x.failed:
		fmt.Fprintln(messages, "dumont-pack: extract: exiting with failure status due to previous errors")
		return 2
	}
	if sumsPath != "-" {
		if err := x.writeSums(sumsPath); err != nil {
			fmt.Fprintf(messages, "dumont-pack: extract: writing the sums: %v\n", err)
			return 2
		}
	}
	return 0
}

const (
	// Buffers of member data between the reader and the writers: 16 MiB at most in flight.
	extractChunk   = 256 << 10
	extractBuffers = 64
)

// extractWriters is how many files are written at once: writes wait on the disk as much as on a
// core, so twice the cores, within bounds.
func extractWriters() int { return min(max(2*runtime.NumCPU(), 4), 16) }

// fileTask is one file member on its way to a writer: its data comes in chunks, in order.
type fileTask struct {
	rel    string
	hdr    *tar.Header
	sparse bool
	chunks chan []byte
	// Set by the reader before chunks closes: the stream broke inside this member.
	broken bool
	// Set by the writer before done closes: the file is written whole, and (hashing) its sum.
	ok   bool
	sum  [md5.Size]byte
	done chan struct{}
	// A copy member's (copyMember): the file it copies, that file's task (its sum is the copy's),
	// and the task that held the file's name before the copy (a copy of the same file, say): done
	// only once both are, so a later member of that name waits for every read of it.
	copyFrom string
	first    *fileTask
	prev     *fileTask
}

type dirMeta struct {
	rel string
	hdr *tar.Header
}

type extractor struct {
	files    *stageFiles
	root     *os.Root // files.root: folders, links, symlinks and what is replaced
	hashing  bool
	asRoot   bool
	messages io.Writer
	free     chan []byte
	tasks    chan *fileTask
	writers  sync.WaitGroup
	// The reader's own bookkeeping (one goroutine).
	inFlight  map[string]*fileTask
	madeDirs  map[string]bool
	dirs      []dirMeta
	refused   []string
	sumByName map[string]*fileTask
	sumOrder  []string
	// Written by any goroutine, under mu.
	mu     sync.Mutex
	failed bool
}

func newExtractor(files *stageFiles, hashing bool, messages io.Writer) *extractor {
	x := &extractor{
		files: files, root: files.root, hashing: hashing, asRoot: os.Geteuid() == 0, messages: messages,
		free: make(chan []byte, extractBuffers), tasks: make(chan *fileTask),
		inFlight: map[string]*fileTask{}, madeDirs: map[string]bool{}, sumByName: map[string]*fileTask{},
	}
	for range extractBuffers {
		x.free <- make([]byte, extractChunk)
	}
	for range extractWriters() {
		x.writers.Add(1)
		go func() {
			defer x.writers.Done()
			for t := range x.tasks {
				x.write(t)
			}
		}()
	}
	return x
}

// fail names a member that could not be written; the extraction goes on.
func (x *extractor) fail(name, action string, err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.failed = true
	fmt.Fprintf(x.messages, "dumont-pack: extract: %s: %s: %s\n", quoteName(name), action, errorText(err))
}

// memberPath is the path inside the stage a member name stands for: "" for the archive's own
// folder ("." or "./"), and false for a name this extraction never writes.
func memberPath(name string) (string, bool) {
	name = strings.TrimSuffix(name, "/")
	if name == "." {
		return "", true
	}
	rel, ok := strings.CutPrefix(name, "./")
	if !ok {
		return "", false
	}
	for part := range strings.SplitSeq(rel, "/") {
		if part == "" || part == "." || part == ".." {
			return "", false
		}
	}
	return rel, true
}

// run reads every member and hands it on; it returns the stream's failure, if any.
func (x *extractor) run(tr *tar.Reader, listing io.Writer) error {
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the archive: %v", err)
		}
		if _, err := fmt.Fprintf(listing, "%s\n", listedName(hdr.Name)); err != nil {
			return fmt.Errorf("writing the listing: %v", err)
		}
		rel, ok := memberPath(hdr.Name)
		if !ok || rel == "" {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse:
			if err := x.file(tr, hdr, rel); err != nil {
				return err
			}
		case tar.TypeDir:
			delete(x.sumByName, rel)
			x.dir(hdr, rel)
		case tar.TypeSymlink:
			delete(x.sumByName, rel)
			x.symlink(hdr, rel)
		case tar.TypeLink:
			if _, isCopy := hdr.PAXRecords[copyRecord]; isCopy {
				x.copyMember(hdr, rel)
			} else {
				x.link(hdr, rel)
			}
		default:
			delete(x.sumByName, rel)
			x.refused = append(x.refused, hdr.Name)
		}
	}
}

// waitFor waits until no writer holds the path: members of one name are written in their order.
func (x *extractor) waitFor(rel string) {
	if t, ok := x.inFlight[rel]; ok {
		<-t.done
		delete(x.inFlight, rel)
	}
	if len(x.inFlight) > 4096 {
		for name, t := range x.inFlight {
			select {
			case <-t.done:
				delete(x.inFlight, name)
			default:
			}
		}
	}
}

// ensureParent makes the folders above a member that the archive has not made yet (tar makes them
// too; the restore checks each one against the manifest).
func (x *extractor) ensureParent(name, rel string) bool {
	parent := path.Dir(rel)
	if parent == "." || x.madeDirs[parent] {
		return true
	}
	if err := x.root.MkdirAll(parent, 0o755); err != nil {
		x.fail(name, "cannot make its folder", err)
		return false
	}
	for ; parent != "." && !x.madeDirs[parent]; parent = path.Dir(parent) {
		x.madeDirs[parent] = true
	}
	return true
}

// file hands a file member to a writer and streams its data to it.
func (x *extractor) file(tr io.Reader, hdr *tar.Header, rel string) error {
	x.waitFor(rel)
	if !x.ensureParent(hdr.Name, rel) {
		delete(x.sumByName, rel)
		return drain(tr)
	}
	x.replaceEmptyFolder(rel)
	t := &fileTask{rel: rel, hdr: hdr, sparse: isSparse(hdr), chunks: make(chan []byte, 4), done: make(chan struct{})}
	x.recordSum(rel, t)
	x.inFlight[rel] = t
	x.tasks <- t
	defer close(t.chunks)
	for {
		buf := <-x.free
		n, err := fill(tr, buf)
		if n > 0 {
			t.chunks <- buf[:n]
		} else {
			x.free <- buf
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			t.broken = true
			return fmt.Errorf("reading %s from the archive: %v", quoteName(hdr.Name), err)
		}
	}
}

// fill reads until buf is full or the member ends (io.EOF).
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func drain(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("reading the archive: %v", err)
	}
	return nil
}

// isSparse: the archive stored the member as data and holes (GNU's sparse formats).
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for key := range hdr.PAXRecords {
		if strings.HasPrefix(key, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// write is a writer's work on one file: make it, write (and hash) its data, set its owner, mode
// and times. The chunks are taken to the end whatever happens, so the reader never waits on a
// writer that gave up.
func (x *extractor) write(t *fileTask) {
	defer close(t.done)
	defer t.awaitReads()
	mode := uint32(t.hdr.Mode) & 0o7777
	fd, err := x.files.create(t.rel, mode&0o777)
	action := "cannot open"
	var sum hash.Hash
	if x.hashing {
		sum = md5.New()
	}
	var written int64
	if t.copyFrom != "" {
		sum = nil // its bytes are its first's, hashed as they were written
		if err == nil {
			action, err = "cannot copy "+quoteName(t.copyFrom), x.copyInto(fd, t)
		}
	}
	for chunk := range t.chunks {
		if err == nil {
			if sum != nil {
				sum.Write(chunk)
			}
			if t.sparse {
				err = writeLeavingHoles(fd, chunk)
			} else {
				err = writeAll(fd, chunk)
			}
			written += int64(len(chunk))
			action = "cannot write"
		}
		x.free <- chunk[:cap(chunk)]
	}
	if fd < 0 {
		x.fail(t.hdr.Name, action, err)
		return
	}
	closed := false
	defer func() {
		if !closed {
			syscall.Close(fd)
		}
	}()
	if err == nil && t.broken {
		return // the stream's failure is reported once, by the reader
	}
	if err == nil && t.sparse {
		action, err = "cannot set its size", syscall.Ftruncate(fd, written)
	}
	if err == nil && x.asRoot {
		action, err = "cannot change its owner", syscall.Fchown(fd, t.hdr.Uid, t.hdr.Gid)
	}
	// The mode was made with the file; setuid, setgid and sticky bits are set after the owner
	// (chown clears them).
	if err == nil && mode&0o7000 != 0 {
		action, err = "cannot change its mode", syscall.Fchmod(fd, mode)
	}
	if err == nil {
		action, err = "cannot set its times", setTimes(fd, timespec(t.hdr.AccessTime), timespec(t.hdr.ModTime), !t.hdr.AccessTime.IsZero())
	}
	if err == nil {
		closed = true
		action, err = "cannot close", syscall.Close(fd)
	}
	if err != nil {
		x.fail(t.hdr.Name, action, err)
		return
	}
	if sum != nil {
		sum.Sum(t.sum[:0])
	}
	if t.first != nil {
		t.sum = t.first.sum
	}
	t.ok = true
}

func timespec(t time.Time) syscall.Timespec {
	return syscall.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

func permissions(hdr *tar.Header) os.FileMode {
	return hdr.FileInfo().Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)
}

// dir makes a folder member now (its files come after it) and sets its owner, mode and times at
// the end.
func (x *extractor) dir(hdr *tar.Header, rel string) {
	x.waitFor(rel)
	if info, err := x.root.Lstat(rel); err == nil && !info.IsDir() {
		if err := x.root.Remove(rel); err != nil {
			x.fail(hdr.Name, "cannot replace what is there", err)
			return
		}
	}
	if !x.ensureParent(hdr.Name, rel) {
		return
	}
	// Made for its files now (0700: only its final mode, set at the end, counts); its missing
	// parents as tar makes them (ensureParent).
	if err := x.root.Mkdir(rel, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		x.fail(hdr.Name, "cannot make it", err)
		return
	}
	x.madeDirs[rel] = true
	x.dirs = append(x.dirs, dirMeta{rel, hdr})
}

// symlink makes a symlink member in its turn, replacing what an earlier member of its name left
// (not a folder). Nothing is ever written through it: files are made with RESOLVE_NO_SYMLINKS, and
// folders and links through the root, which keeps every path inside the stage.
func (x *extractor) symlink(hdr *tar.Header, rel string) {
	x.waitFor(rel)
	if !x.ensureParent(hdr.Name, rel) {
		return
	}
	x.replaceEmptyFolder(rel)
	if info, err := x.root.Lstat(rel); err == nil && !info.IsDir() {
		if err := x.root.Remove(rel); err != nil {
			x.fail(hdr.Name, "cannot replace what is there", err)
			return
		}
	}
	if err := x.root.Symlink(hdr.Linkname, rel); err != nil {
		x.fail(hdr.Name, "cannot make the symlink", err)
		return
	}
	if x.asRoot {
		if err := x.root.Lchown(rel, hdr.Uid, hdr.Gid); err != nil {
			x.fail(hdr.Name, "cannot change its owner", err)
			return
		}
	}
	// Its own time, as tar sets it: a snapshot compares symlinks' times to find what changed.
	if err := x.setTimesOf(rel, hdr); err != nil {
		x.fail(hdr.Name, "cannot set its times", err)
	}
}

// replaceEmptyFolder removes the folder an earlier member of this name made, when it is empty, as
// tar replaces one (a folder that became a file or a symlink while a snapshot read it is archived
// again in a later round); a folder with something in it stays, and the member then fails.
func (x *extractor) replaceEmptyFolder(rel string) {
	if !x.madeDirs[rel] {
		return
	}
	if err := x.root.Remove(rel); err != nil {
		return
	}
	for name := range x.madeDirs {
		if name == rel || strings.HasPrefix(name, rel+"/") {
			delete(x.madeDirs, name)
		}
	}
}

// recordSum makes t's sum the one of rel, in the order paths first came.
func (x *extractor) recordSum(rel string, t *fileTask) {
	if _, seen := x.sumByName[rel]; !seen {
		x.sumOrder = append(x.sumOrder, rel)
	}
	x.sumByName[rel] = t
}

// setTimesOf sets an entry's times without following it, through its folder's descriptor (Go's
// time conversions stop at the years 1678 and 2262; a timespec does not).
func (x *extractor) setTimesOf(rel string, hdr *tar.Header) error {
	parent, err := x.root.Open(path.Dir(rel))
	if err != nil {
		return err
	}
	defer parent.Close()
	return setTimesAt(int(parent.Fd()), path.Base(rel), timespec(hdr.AccessTime), timespec(hdr.ModTime), !hdr.AccessTime.IsZero())
}

// link makes a hard link member: another name of a file this archive already wrote.
func (x *extractor) link(hdr *tar.Header, rel string) {
	target, ok := memberPath(hdr.Linkname)
	if !ok || target == "" {
		delete(x.sumByName, rel)
		x.fail(hdr.Name, "cannot link", fmt.Errorf("its target %s is not a path in the archive", quoteName(hdr.Linkname)))
		return
	}
	x.waitFor(target)
	x.waitFor(rel)
	if target == rel {
		return // a link to itself: the file is there already (tar takes it as done)
	}
	if !x.ensureParent(hdr.Name, rel) {
		delete(x.sumByName, rel)
		return
	}
	x.replaceEmptyFolder(rel)
	err := x.root.Link(target, rel)
	if errors.Is(err, fs.ErrExist) {
		if err = x.root.Remove(rel); err == nil {
			err = x.root.Link(target, rel)
		}
	}
	if err != nil {
		delete(x.sumByName, rel)
		x.fail(hdr.Name, "cannot link", err)
		return
	}
	// The sum is its target's, once written; a target from an earlier archive has none here.
	if first, known := x.sumByName[target]; known {
		x.recordSum(rel, first)
	} else {
		delete(x.sumByName, rel)
	}
}

// copyMember makes a copy member (duplicates.go): a file of its own, with the bytes of the file its
// link names, which a writer copies once that file is written. Both names are held until then: a
// later member of either waits for the copy. The packer makes a copy only of a whole file it
// archived earlier in the same round, so any other first (none, a sparse one, a folder, a symlink)
// is a forged archive's, refused.
func (x *extractor) copyMember(hdr *tar.Header, rel string) {
	target, ok := memberPath(hdr.Linkname)
	first, known := x.sumByName[target]
	if !ok || target == "" || target == rel || !known || first.sparse {
		delete(x.sumByName, rel)
		x.fail(hdr.Name, "cannot copy", fmt.Errorf("its first copy %s is not a whole file the archive holds before it", quoteName(hdr.Linkname)))
		return
	}
	x.waitFor(rel)
	if !x.ensureParent(hdr.Name, rel) {
		delete(x.sumByName, rel)
		return
	}
	x.replaceEmptyFolder(rel)
	t := &fileTask{rel: rel, hdr: hdr, chunks: make(chan []byte), done: make(chan struct{}), copyFrom: target, first: first, prev: x.inFlight[target]}
	close(t.chunks)
	x.recordSum(rel, t)
	x.inFlight[rel] = t
	x.inFlight[target] = t
	x.tasks <- t
}

// awaitReads waits, for a copy, until its first is written and every earlier task on that name is
// done, whether or not the copy could be made.
func (t *fileTask) awaitReads() {
	if t.first != nil {
		<-t.first.done
	}
	if t.prev != nil {
		<-t.prev.done
	}
}

// copyInto copies t's first file into fd (Go's copy of one file into another: copy_file_range
// where the kernel can) once the writer of that file is done.
func (x *extractor) copyInto(fd int, t *fileTask) error {
	<-t.first.done
	if !t.first.ok {
		return fmt.Errorf("it was not written")
	}
	src, err := x.root.Open(t.copyFrom)
	if err != nil {
		return err
	}
	defer src.Close()
	if info, err := src.Stat(); err != nil || !info.Mode().IsRegular() {
		return fmt.Errorf("it is not a file")
	}
	dup, err := syscall.Dup(fd)
	if err != nil {
		return err
	}
	dst := os.NewFile(uintptr(dup), t.rel)
	defer dst.Close()
	_, err = io.Copy(dst, src)
	return err
}

// finish waits for the writers, then sets the folders' owners, modes and times, deepest first.
func (x *extractor) finish() {
	close(x.tasks)
	x.writers.Wait()
	sort.SliceStable(x.dirs, func(i, j int) bool { return strings.Count(x.dirs[i].rel, "/") > strings.Count(x.dirs[j].rel, "/") })
	for _, d := range x.dirs {
		// A folder a later member replaced (replaceEmptyFolder) is no longer this member's.
		if info, err := x.root.Lstat(d.rel); err != nil || !info.IsDir() {
			continue
		}
		if x.asRoot {
			if err := x.root.Lchown(d.rel, d.hdr.Uid, d.hdr.Gid); err != nil {
				x.fail(d.hdr.Name, "cannot change its owner", err)
				continue
			}
		}
		if err := x.root.Chmod(d.rel, permissions(d.hdr)); err != nil {
			x.fail(d.hdr.Name, "cannot change its mode", err)
			continue
		}
		if err := x.setTimesOf(d.rel, d.hdr); err != nil {
			x.fail(d.hdr.Name, "cannot set its times", err)
		}
	}
}

// writeSums writes every written file's MD5 as stream-sums does ("<md5>  <member name>\0", each
// name once, as its last member left it).
func (x *extractor) writeSums(sumsPath string) error {
	partial := sumsPath + ".partial"
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(partial)
	out := bufio.NewWriterSize(f, 1<<16)
	for _, rel := range x.sumOrder {
		if t, ok := x.sumByName[rel]; ok && t.ok {
			fmt.Fprintf(out, "%s  ./%s\x00", hex.EncodeToString(t.sum[:]), rel)
		}
	}
	if err := out.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(partial, sumsPath)
}
