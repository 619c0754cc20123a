package main

// Large files with equal bytes (duplicates.go): the archive carries the bytes once, Dumont's
// extraction makes each name a file of its own with its own mode and time, GNU tar -x still
// restores the same bytes, and no file is taken for a copy of one that differs or changed.

import (
	"archive/tar"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// members is each member's type and pax records, by name.
func membersOf(t *testing.T, archive []byte) map[string]*tar.Header {
	headers := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return headers
		}
		if err != nil {
			t.Fatal(err)
		}
		headers[h.Name] = h
	}
}

func duplicatesTree(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "source")
	run(t, "bash", "-c", `set -e; mkdir -p "$1/runs/best" && cd "$1"
head -c 3000000 /dev/urandom > checkpoint.bin
cp checkpoint.bin runs/best/checkpoint.bin && chmod 600 runs/best/checkpoint.bin && touch -d '2001-02-03' runs/best/checkpoint.bin
cp checkpoint.bin again.bin
ln again.bin again-linked.bin
{ head -c 2999999 checkpoint.bin; printf 'Z'; } > last-byte-differs.bin
head -c 100 /dev/urandom > small-a && cp small-a small-b`, "tree", dir)
	return dir
}

func TestEqualLargeFilesAreArchivedOnceAndRestoredApart(t *testing.T) {
	dir := duplicatesTree(t)
	names := []string{"./checkpoint.bin", "./runs", "./runs/best", "./runs/best/checkpoint.bin", "./again.bin", "./again-linked.bin", "./last-byte-differs.bin", "./small-a", "./small-b"}
	archive := packed(t, dir, names)
	headers := membersOf(t, archive)
	for _, name := range []string{"./runs/best/checkpoint.bin", "./again.bin"} {
		if h := headers[name]; h.Typeflag != tar.TypeLink || h.Linkname != "./checkpoint.bin" || h.PAXRecords[copyRecord] != "1" {
			t.Errorf("%s: type %c, link %q, records %v: want a copy member of ./checkpoint.bin", name, h.Typeflag, h.Linkname, h.PAXRecords)
		}
	}
	if h := headers["./again-linked.bin"]; h.Typeflag != tar.TypeLink || h.PAXRecords[copyRecord] != "" {
		t.Errorf("the second name of again.bin: type %c, records %v: want a hard link member", h.Typeflag, h.PAXRecords)
	}
	for _, name := range []string{"./last-byte-differs.bin", "./small-b"} {
		if headers[name].Typeflag != tar.TypeReg {
			t.Errorf("%s is archived as type %c: want its own bytes", name, headers[name].Typeflag)
		}
	}
	if len(archive) > 6_100_000 {
		t.Errorf("the archive is %d bytes: the 3 MB checkpoint's bytes are in it more than once", len(archive))
	}

	got := extracted(t, archive)
	if got.code != 0 {
		t.Fatalf("exit %d: %s", got.code, got.messages)
	}
	want := described(t, dir)
	have := described(t, got.stage)
	for name, desc := range want {
		if name != "" && have[name] != desc {
			t.Errorf("%q: %s, the source has %s", name, have[name], desc)
		}
	}
	inode := func(root, name string) uint64 {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(root, name), &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	if inode(got.stage, "checkpoint.bin") == inode(got.stage, "again.bin") || inode(got.stage, "again.bin") == inode(got.stage, "runs/best/checkpoint.bin") {
		t.Error("a copy was restored as a second name of its first file: writing one would change the other")
	}
	if inode(got.stage, "again.bin") != inode(got.stage, "again-linked.bin") {
		t.Error("the hard link of a copy was restored as a file of its own")
	}
	for _, name := range names {
		info, _ := os.Lstat(filepath.Join(dir, name))
		if !info.Mode().IsRegular() {
			continue
		}
		data, _ := os.ReadFile(filepath.Join(dir, name))
		if sum := md5.Sum(data); got.sums[name] != hex.EncodeToString(sum[:]) {
			t.Errorf("sum of %q: %q, want %x", name, got.sums[name], sum)
		}
	}

	// By hand: GNU tar ignores the record (a warning, exit 0) and makes hard links of the same bytes.
	byTar := filepath.Join(t.TempDir(), "by-tar")
	os.Mkdir(byTar, 0o700)
	tarX := exec.Command("tar", "--numeric-owner", "-xpf", "-", "-C", byTar)
	tarX.Stdin = bytes.NewReader(archive)
	if out, err := tarX.CombinedOutput(); err != nil {
		t.Fatalf("tar -x: %v %s", err, out)
	}
	for _, name := range []string{"runs/best/checkpoint.bin", "again.bin"} {
		a, _ := os.ReadFile(filepath.Join(byTar, name))
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if !bytes.Equal(a, b) {
			t.Errorf("tar -x restored other bytes for %s", name)
		}
	}
}

func TestAFileChangedSinceArchivedIsNoFirstCopy(t *testing.T) {
	dir := duplicatesTree(t)
	var out, sums, seen, messages bytes.Buffer
	t.Chdir(dir)
	p := newPacker(&out, &sums, &seen, &messages)
	p.addAll([]string{"./checkpoint.bin"})
	// Rewritten in place after it was archived, then copied: the archive holds what it was.
	run(t, "bash", "-c", `head -c 3000000 /dev/urandom | dd of=checkpoint.bin conv=notrunc status=none && cp checkpoint.bin again.bin`)
	p.addAll([]string{"./again.bin"})
	if err := p.flush(); err != nil {
		t.Fatal(err)
	}
	if h := membersOf(t, append(out.Bytes(), make([]byte, 1024)...))["./again.bin"]; h.Typeflag != tar.TypeReg {
		t.Errorf("again.bin is archived as type %c, a copy of what checkpoint.bin no longer holds", h.Typeflag)
	}
}

// member is one member of a hand-made archive: a file with data, or any other header.
type member struct {
	hdr  tar.Header
	data string
}

func archiveOf(t *testing.T, members ...member) []byte {
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, m := range members {
		h := m.hdr
		h.Format = tar.FormatPAX
		h.ModTime = time.Unix(1e9, 0)
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(m.data))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(m.data))
	}
	tw.Close()
	return out.Bytes()
}

func copyOfMember(name, first string) member {
	return member{hdr: tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: first, PAXRecords: map[string]string{copyRecord: "1"}}}
}

func sumOf(text string) string {
	sum := md5.Sum([]byte(text))
	return hex.EncodeToString(sum[:])
}

func TestCopiesHoldTheBytesTheirFirstHadWhenTheyCameInTheArchive(t *testing.T) {
	first, later := strings.Repeat("first ", 300_000), strings.Repeat("later ", 300_000)
	archive := archiveOf(t,
		member{hdr: tar.Header{Name: "./a", Typeflag: tar.TypeReg}, data: first},
		copyOfMember("./c", "./a"), copyOfMember("./d", "./a"), copyOfMember("./e", "./d"),
		// The first's name written again after its copies (a later round's): they keep what it was.
		member{hdr: tar.Header{Name: "./a", Typeflag: tar.TypeReg}, data: later},
	)
	for run := 0; run < 20; run++ {
		got := extracted(t, archive)
		if got.code != 0 {
			t.Fatalf("exit %d: %s", got.code, got.messages)
		}
		for name, want := range map[string]string{"a": later, "c": first, "d": first, "e": first} {
			data, _ := os.ReadFile(filepath.Join(got.stage, name))
			if string(data) != want {
				t.Fatalf("run %d: %s holds %d bytes starting %q", run, name, len(data), string(data[:min(len(data), 12)]))
			}
			if got.sums["./"+name] != sumOf(want) {
				t.Fatalf("run %d: the sum of %s is %s", run, name, got.sums["./"+name])
			}
		}
	}
}

func TestACopyOfWhatTheArchiveHoldsNoFileOfIsRefused(t *testing.T) {
	for label, members := range map[string][]member{
		"a name never written": {copyOfMember("./c", "./nowhere")},
		"a folder":             {{hdr: tar.Header{Name: "./dir/", Typeflag: tar.TypeDir, Mode: 0o755}}, copyOfMember("./c", "./dir")},
		"a symlink":            {{hdr: tar.Header{Name: "./link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}}, copyOfMember("./c", "./link")},
		"itself":               {copyOfMember("./c", "./c")},
		"outside":              {copyOfMember("./c", "../../etc/passwd")},
	} {
		got := extracted(t, archiveOf(t, members...))
		if _, err := os.Lstat(filepath.Join(got.stage, "c")); got.code != 2 || !strings.Contains(got.messages, "./c: cannot copy") || err == nil {
			t.Errorf("a copy of %s: exit %d, %q, c made: %v", label, got.code, got.messages, err == nil)
		}
		if _, listed := got.sums["./c"]; listed {
			t.Errorf("a copy of %s has a sum", label)
		}
	}
}
