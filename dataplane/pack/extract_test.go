package main

// The extraction (extract.go) against GNU tar -x on the same archives: a tree packed by the
// packer extracts into the same tree tar makes (modes, times, owners, symlinks, hard links, holes),
// with md5sum's sums and tar's listing; hostile names write nothing outside the stage; a broken
// stream, a member of a kind a snapshot never holds and a name given twice end as they must. Run
// by test/integration/snapshot/pack-helper.test.ts (go test).

import (
	"archive/tar"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pierrec/lz4/v4"
)

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// sourceTree makes a tree with what a workspace may hold, and gives its "./" names, parents first.
func sourceTree(t *testing.T) (string, []string) {
	dir := filepath.Join(t.TempDir(), "source")
	run(t, "bash", "-c", `set -e; mkdir "$1" && cd "$1"
mkdir -p models/big notes empty-dir locked
head -c 3000000 /dev/urandom > models/big/weights.bin
printf 'hello\n' > notes/a.txt && : > notes/empty
printf 'x' > locked/inside && chmod 555 locked
printf 'suid' > suid.bin && chmod 4755 suid.bin
printf 'ro' > read-only.txt && chmod 400 read-only.txt
truncate -s 8M sparse.img && printf data | dd of=sparse.img bs=1 seek=4000000 conv=notrunc status=none
ln models/big/weights.bin second-name.bin
ln -s notes/a.txt to-note && ln -s /etc/passwd absolute-link && ln -s ../outside leaving-link
printf 'odd' > "$(printf 'new\nline\\back:colon')"
touch -d '2001-02-03 04:05:06.123456789' notes/a.txt models && touch -h -d '1999-01-01' to-note`, "tree", dir)
	var names []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if p != dir {
			names = append(names, "./"+strings.TrimPrefix(p, dir+"/"))
		}
		return nil
	})
	return dir, names
}

// packed is the packer's archive of names under dir, with an end-of-archive.
func packed(t *testing.T, dir string, names []string) []byte {
	var out, sums, seen, messages bytes.Buffer
	t.Chdir(dir)
	p := newPacker(&out, &sums, &seen, &messages)
	p.addAll(names)
	if err := p.flush(); err != nil || p.status != 0 {
		t.Fatalf("packing: %v (status %d) %s", err, p.status, messages.String())
	}
	return append(out.Bytes(), make([]byte, 1024)...)
}

type extraction struct {
	code     int
	stage    string
	listing  string
	sums     map[string]string
	messages string
}

func extracted(t *testing.T, archive []byte) extraction {
	return extractedFrom(t, bytes.NewReader(archive))
}

func extractedFrom(t *testing.T, archive io.Reader) extraction {
	dir := t.TempDir()
	stage := filepath.Join(dir, "stage")
	if err := os.Mkdir(stage, 0o700); err != nil {
		t.Fatal(err)
	}
	var messages bytes.Buffer
	code := extractStream(archive, stage, filepath.Join(dir, "listing"), filepath.Join(dir, "sums"), &messages)
	listing, _ := os.ReadFile(filepath.Join(dir, "listing"))
	sums := map[string]string{}
	if raw, err := os.ReadFile(filepath.Join(dir, "sums")); err == nil {
		for _, record := range strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00") {
			if record != "" {
				sums[record[34:]] = record[:32]
			}
		}
	} else {
		sums = nil
	}
	return extraction{code, stage, string(listing), sums, messages.String()}
}

// described is every entry under root as the verification would compare it, and more: type,
// mode, size, content, modification time to the nanosecond, symlink target, owner.
func described(t *testing.T, root string) map[string]string {
	entries := map[string]string{}
	inodes := map[uint64]string{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(p, root)
		desc := fmt.Sprintf("mode %o uid %d gid %d", st.Mode, st.Uid, st.Gid)
		switch st.Mode & syscall.S_IFMT {
		case syscall.S_IFREG:
			data, _ := os.ReadFile(p)
			desc += fmt.Sprintf(" size %d md5 %x mtime %d.%09d", st.Size, md5.Sum(data), st.Mtim.Sec, st.Mtim.Nsec)
			if st.Nlink > 1 {
				if first, ok := inodes[st.Ino]; ok {
					desc += " same file as " + first
				} else {
					inodes[st.Ino] = rel
				}
			}
		case syscall.S_IFDIR:
			if rel != "" {
				desc += fmt.Sprintf(" mtime %d.%09d", st.Mtim.Sec, st.Mtim.Nsec)
			}
		case syscall.S_IFLNK:
			target, _ := os.Readlink(p)
			desc += " -> " + target
		}
		entries[rel] = desc
		return nil
	})
	return entries
}

// withoutOpenat2 runs body as on a host that refuses openat2 (the fallback through os.Root).
func withoutOpenat2(t *testing.T, body func()) {
	openat2Refused = true
	t.Cleanup(func() { openat2Refused = false })
	body()
}

func TestExtractMakesTheTreeTarMakes(t *testing.T) {
	t.Run("openat2", func(t *testing.T) { treeTarMakes(t, extracted) })
	t.Run("os.Root, where openat2 is refused", func(t *testing.T) { withoutOpenat2(t, func() { treeTarMakes(t, extracted) }) })
	// As the restore gets it: LZ4 frames, decoded, with data after the end-of-archive (the frames'
	// checksums).
	t.Run("from LZ4 frames", func(t *testing.T) {
		treeTarMakes(t, func(t *testing.T, archive []byte) extraction {
			var frames bytes.Buffer
			z := compressor(&frames)
			z.Write(archive)
			z.Close()
			return extractedFrom(t, lz4.NewReader(&frames))
		})
	})
}

func treeTarMakes(t *testing.T, extracted func(*testing.T, []byte) extraction) {
	dir, names := sourceTree(t)
	archive := packed(t, dir, names)
	got := extracted(t, archive)
	if got.code != 0 {
		t.Fatalf("exit %d: %s", got.code, got.messages)
	}
	byTar := filepath.Join(t.TempDir(), "by-tar")
	os.Mkdir(byTar, 0o700)
	tarX := exec.Command("tar", "--numeric-owner", "--sparse", "-xpf", "-", "-C", byTar)
	tarX.Stdin = bytes.NewReader(archive)
	if out, err := tarX.CombinedOutput(); err != nil {
		t.Fatalf("tar -x: %v %s", err, out)
	}
	want, have := described(t, byTar), described(t, got.stage)
	for path, desc := range want {
		if path == "" {
			continue // the stage folder itself
		}
		if have[path] != desc {
			t.Errorf("%q: %s, tar made %s", path, have[path], desc)
		}
	}
	for path := range have {
		if _, ok := want[path]; !ok {
			t.Errorf("%q made, not by tar", path)
		}
	}
	// Holes stay holes: the 8 MB image holds one block of data.
	var st syscall.Stat_t
	syscall.Stat(filepath.Join(got.stage, "sparse.img"), &st)
	if st.Blocks*512 > 64<<10 {
		t.Errorf("sparse.img takes %d bytes on the disk", st.Blocks*512)
	}
	// The listing is tar's, name for name.
	list := exec.Command("tar", "--quoting-style=escape", "-tf", "-")
	list.Stdin = bytes.NewReader(archive)
	list.Env = append(os.Environ(), "LC_ALL=C")
	tarListing, err := list.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got.listing != string(tarListing) {
		t.Errorf("listing:\n%s\ntar lists:\n%s", got.listing, tarListing)
	}
	// Every file's MD5, as md5sum gives it, under its member name (both names of the linked file).
	files := 0
	for _, name := range names {
		info, _ := os.Lstat(filepath.Join(dir, name))
		if !info.Mode().IsRegular() {
			continue
		}
		files++
		data, _ := os.ReadFile(filepath.Join(dir, name))
		if sum := md5.Sum(data); got.sums[name] != hex.EncodeToString(sum[:]) {
			t.Errorf("sum of %q: %q", name, got.sums[name])
		}
	}
	if len(got.sums) != files {
		t.Errorf("%d sums for %d files", len(got.sums), files)
	}
}

// crafted is a tar stream of the given members (data for files), as a hostile host could make it.
func crafted(t *testing.T, members ...tar.Header) []byte {
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, h := range members {
		data := []byte{}
		if h.Typeflag == tar.TypeReg {
			data = []byte("evil " + h.Name)
			h.Size = int64(len(data))
		}
		h.ModTime = time.Unix(1e9, 0)
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	return out.Bytes()
}

func TestExtractWritesNothingOutsideTheStage(t *testing.T) {
	t.Run("openat2", func(t *testing.T) { nothingOutside(t, false) })
	t.Run("os.Root, where openat2 is refused", func(t *testing.T) { withoutOpenat2(t, func() { nothingOutside(t, true) }) })
}

func nothingOutside(t *testing.T, throughRoot bool) {
	archive := crafted(t,
		tar.Header{Name: "./ok.txt", Typeflag: tar.TypeReg},
		tar.Header{Name: "../escape.txt", Typeflag: tar.TypeReg},
		tar.Header{Name: "/absolute.txt", Typeflag: tar.TypeReg},
		tar.Header{Name: "./sub/../../up.txt", Typeflag: tar.TypeReg},
		tar.Header{Name: "no-dot-slash.txt", Typeflag: tar.TypeReg},
		tar.Header{Name: "./up", Typeflag: tar.TypeSymlink, Linkname: ".."},
		tar.Header{Name: "./up/through.txt", Typeflag: tar.TypeReg},
		tar.Header{Name: "./hard", Typeflag: tar.TypeLink, Linkname: "../sibling.txt"},
		tar.Header{Name: "./fifo", Typeflag: tar.TypeFifo},
		tar.Header{Name: "./real/", Typeflag: tar.TypeDir, Mode: 0o755},
		tar.Header{Name: "./alias", Typeflag: tar.TypeSymlink, Linkname: "real"},
		tar.Header{Name: "./alias/x.txt", Typeflag: tar.TypeReg},
	)
	got := extracted(t, archive)
	if got.code != 3 || !strings.Contains(got.messages, "the archive holds ./fifo, which is neither a file, a folder nor a symlink") {
		t.Fatalf("exit %d: %s", got.code, got.messages)
	}
	// Every name is listed as the archive has it, so that the restore's check refuses it.
	for _, name := range []string{"../escape.txt", "/absolute.txt", "./sub/../../up.txt", "no-dot-slash.txt", "./up/through.txt", "./fifo"} {
		if !strings.Contains(got.listing, name+"\n") {
			t.Errorf("%s not listed: %s", name, got.listing)
		}
	}
	// Next to the stage: only what the test put there.
	siblings, _ := os.ReadDir(filepath.Dir(got.stage))
	var names []string
	for _, s := range siblings {
		names = append(names, s.Name())
	}
	if strings.Join(names, " ") != "listing stage" {
		t.Errorf("beside the stage: %v", names)
	}
	// Inside: ok.txt, the symlinks "up" (through.txt, below it, named as not written) and "alias"
	// (no file written through it, not even into the stage's own folder "real"); no FIFO.
	inside := described(t, got.stage)
	var paths []string
	for p := range inside {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	// (Through os.Root, as through tar, the symlink inside the stage is followed.)
	want, refusedThroughAlias := " /alias /ok.txt /real /up", "./alias/x.txt: cannot open: Too many levels of symbolic links"
	if throughRoot {
		want, refusedThroughAlias = " /alias /ok.txt /real /real/x.txt /up", "./hard: cannot link"
	}
	if strings.Join(paths, " ") != want {
		t.Errorf("in the stage: %q", paths)
	}
	for _, named := range []string{"./hard: cannot link", "./up/through.txt: cannot make its folder", refusedThroughAlias} {
		if !strings.Contains(got.messages, named) {
			t.Errorf("%q is not said: %s", named, got.messages)
		}
	}
}

func TestExtractStreamCutShortFailsWithoutSums(t *testing.T) {
	dir, names := sourceTree(t)
	archive := packed(t, dir, names)
	got := extracted(t, archive[:len(archive)/2])
	if got.code != 2 || !strings.Contains(got.messages, "unexpected EOF") {
		t.Fatalf("exit %d: %s", got.code, got.messages)
	}
	if got.sums != nil {
		t.Errorf("sums written for a broken stream: %v", got.sums)
	}
}

func TestExtractLaterMemberOfANameWins(t *testing.T) {
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, content := range []string{"first, longer than the second", "second"} {
		tw.WriteHeader(&tar.Header{Name: "./twice.txt", Typeflag: tar.TypeReg, Size: int64(len(content)), Mode: 0o644, ModTime: time.Unix(1e9, 0)})
		tw.Write([]byte(content))
	}
	// A symlink, then a file of its name (symlinks are made last: the file must still win), and a
	// file, then a symlink of its name.
	tw.WriteHeader(&tar.Header{Name: "./was-link", Typeflag: tar.TypeSymlink, Linkname: "twice.txt", ModTime: time.Unix(1e9, 0)})
	tw.WriteHeader(&tar.Header{Name: "./was-link", Typeflag: tar.TypeReg, Size: 4, Mode: 0o644, ModTime: time.Unix(1e9, 0)})
	tw.Write([]byte("file"))
	tw.WriteHeader(&tar.Header{Name: "./now-link", Typeflag: tar.TypeReg, Size: 4, Mode: 0o644, ModTime: time.Unix(1e9, 0)})
	tw.Write([]byte("file"))
	tw.WriteHeader(&tar.Header{Name: "./now-link", Typeflag: tar.TypeSymlink, Linkname: "twice.txt", ModTime: time.Unix(1e9, 0)})
	tw.Close()
	got := extracted(t, out.Bytes())
	if got.code != 0 {
		t.Fatalf("exit %d: %s", got.code, got.messages)
	}
	data, _ := os.ReadFile(filepath.Join(got.stage, "twice.txt"))
	sum, fileSum := md5.Sum([]byte("second")), md5.Sum([]byte("file"))
	if string(data) != "second" || got.sums["./twice.txt"] != hex.EncodeToString(sum[:]) {
		t.Errorf("content %q, sums %v", data, got.sums)
	}
	if info, err := os.Lstat(filepath.Join(got.stage, "was-link")); err != nil || !info.Mode().IsRegular() || got.sums["./was-link"] != hex.EncodeToString(fileSum[:]) {
		t.Errorf("was-link: %v %v, sums %v", info, err, got.sums)
	}
	if target, err := os.Readlink(filepath.Join(got.stage, "now-link")); err != nil || target != "twice.txt" {
		t.Errorf("now-link: %q %v", target, err)
	}
	if _, ok := got.sums["./now-link"]; ok || len(got.sums) != 2 {
		t.Errorf("sums: %v", got.sums)
	}
}

// A folder that became a file or a symlink while the snapshot read it is archived again in a later
// round: the later member replaces the (empty) folder, as tar's does, and keeps its own mode and
// time; a symlink keeps its time; a link to itself changes nothing.
func TestExtractFolderThatChangedTypeAndSymlinkTimes(t *testing.T) {
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	at := time.Unix(1e9, 123456789)
	for _, name := range []string{"./became-file/", "./became-link/"} {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0o555, ModTime: at, Format: tar.FormatPAX})
	}
	tw.WriteHeader(&tar.Header{Name: "./became-file", Typeflag: tar.TypeReg, Size: 4, Mode: 0o640, ModTime: at, Format: tar.FormatPAX})
	tw.Write([]byte("file"))
	tw.WriteHeader(&tar.Header{Name: "./became-link", Typeflag: tar.TypeSymlink, Linkname: "became-file", ModTime: at, Format: tar.FormatPAX})
	tw.WriteHeader(&tar.Header{Name: "./became-file", Typeflag: tar.TypeLink, Linkname: "./became-file", ModTime: at, Format: tar.FormatPAX})
	tw.WriteHeader(&tar.Header{Name: "./far-future", Typeflag: tar.TypeSymlink, Linkname: "x", ModTime: time.Unix(10413792000, 5), Format: tar.FormatPAX})
	tw.Close()
	got := extracted(t, out.Bytes())
	if got.code != 0 {
		t.Fatalf("exit %d: %s", got.code, got.messages)
	}
	inside := described(t, got.stage)
	var st syscall.Stat_t
	syscall.Lstat(filepath.Join(got.stage, "became-link"), &st)
	if !strings.HasPrefix(inside["/became-file"], "mode 100640") || inside["/became-link"] == "" || st.Mtim.Sec != 1e9 || st.Mtim.Nsec != 123456789 {
		t.Errorf("became-file %q, became-link %q (mtime %v)", inside["/became-file"], inside["/became-link"], st.Mtim)
	}
	syscall.Lstat(filepath.Join(got.stage, "far-future"), &st)
	if st.Mtim.Sec != 10413792000 || st.Mtim.Nsec != 5 {
		t.Errorf("a time past 2262 (the year 2300): %v", st.Mtim)
	}
}
