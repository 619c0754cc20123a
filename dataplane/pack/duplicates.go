package main

import (
	"bytes"
	"io"
	"os"
	"syscall"
)

// A large file whose bytes are those of a file this round already archived at rest (a checkpoint
// copied to checkpoint-best.pt, a dataset unpacked twice, the same log kept under two names) is
// stored once, when the other file was archived earlier in the same round and is one of the first
// copyCandidates of its size. Its member is a link member to the first name with the pax record copyRecord:
// Dumont's extraction makes it a file of its own holding a copy of the first (extract.go,
// copyMember), so the restored workspace is what it was, two files, and the archive carries, the
// upload sends and the restore downloads the bytes once. restic and borg find repeated chunks by
// hash; this finds only whole files, and only among files of one size, compared byte for byte:
// no hash can collide. GNU tar -x (a restore by hand) warns that it ignores the record and makes
// a hard link: the same bytes under both names, one file.
const copyRecord = "DUMONT.copy"

// Files of one size a large file is compared with, at most. Each comparison reads the first and
// the last chunk of both files before the rest: equal-sized files that differ (shards of a dataset,
// checkpoints of one model) nearly always differ there, and cost those two reads a candidate.
// Files that differ only in their middle are read whole, and then again to be archived.
const copyCandidates = 4

// rememberWhole keeps a large file archived whole and at rest (not sparse, not changed as it was
// read) as a file later ones of its size may be copies of.
func (p *packer) rememberWhole(name, sum string, st *syscall.Stat_t) {
	if len(p.bySize[st.Size]) < copyCandidates {
		p.bySize[st.Size] = append(p.bySize[st.Size], firstName{name, sum, *st})
	}
}

// copyOf is a file this round archived whose bytes are f's, when there is one and f and it are
// both as they were (size, mtime and ctime, tar's test) after the comparison.
func (p *packer) copyOf(f *os.File, st *syscall.Stat_t) (firstName, bool) {
	for _, first := range p.bySize[st.Size] {
		if p.sameBytes(f, st, &first) {
			return first, true
		}
	}
	return firstName{}, false
}

func (p *packer) sameBytes(f *os.File, st *syscall.Stat_t, first *firstName) bool {
	if first.st.Dev == st.Dev && first.st.Ino == st.Ino {
		return false // one file (linkedTo's case): a copy of itself would be a second one
	}
	g, err := openToRead(first.name)
	if err != nil {
		return false
	}
	defer g.Close()
	var now syscall.Stat_t
	if syscall.Fstat(int(g.Fd()), &now) != nil || now.Dev != first.st.Dev || now.Ino != first.st.Ino || statAfter(g, &first.st) != &first.st {
		return false // changed since it was archived: the archive holds what it was
	}
	if p.other == nil {
		p.other = make([]byte, len(p.buf))
	}
	chunk := int64(len(p.buf))
	last := (st.Size - 1) / chunk * chunk
	if !p.sameChunk(f, g, 0, st.Size) || (last > 0 && !p.sameChunk(f, g, last, st.Size)) {
		return false
	}
	for offset := chunk; offset < last; offset += chunk {
		if !p.sameChunk(f, g, offset, st.Size) {
			return false
		}
	}
	return statAfter(f, st) == st && statAfter(g, &first.st) == &first.st
}

// sameChunk: f and g hold the same bytes in the buffer-sized chunk at offset (of files size long).
func (p *packer) sameChunk(f, g *os.File, offset, size int64) bool {
	want := min(int64(len(p.buf)), size-offset)
	if _, err := io.ReadFull(io.NewSectionReader(f, offset, want), p.buf[:want]); err != nil {
		return false
	}
	if _, err := io.ReadFull(io.NewSectionReader(g, offset, want), p.other[:want]); err != nil {
		return false
	}
	return bytes.Equal(p.buf[:want], p.other[:want])
}

// copyRecords mark a link member as a copy (putLink's records).
var copyRecords = map[string]string{copyRecord: "1"}
