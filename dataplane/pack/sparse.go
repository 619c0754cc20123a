package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// A sparse file (a preallocated image, a database with holes) is archived as GNU tar's --sparse
// does in pax format (version 1.0): only its data, after a map of where that data goes, so a
// 1 GiB file with a few bytes in it is a few blocks, and `tar -x` makes it sparse again. Go's
// archive/tar reads that format but no longer writes it, so these two headers are written here.

const (
	seekData = 3 // SEEK_DATA, SEEK_HOLE: Linux's lseek(2)
	seekHole = 4
	block    = 512
)

type extent struct{ offset, length int64 }

// dataExtents is where f has data, when it has holes (st_blocks says it may; SEEK_DATA says where).
// A file system without SEEK_DATA, or a file without holes, is read whole.
func dataExtents(f *os.File, st *syscall.Stat_t) ([]extent, bool) {
	if st.Size == 0 || st.Blocks*512 >= st.Size {
		return nil, false
	}
	fd := int(f.Fd())
	var extents []extent
	var covered int64
	for offset := int64(0); offset < st.Size; {
		data, err := syscall.Seek(fd, offset, seekData)
		if err == syscall.ENXIO {
			break // only a hole from here to the end
		}
		if err != nil {
			return nil, false
		}
		hole, err := syscall.Seek(fd, data, seekHole)
		if err != nil {
			return nil, false
		}
		hole = min(hole, st.Size)
		if hole > data {
			extents = append(extents, extent{data, hole - data})
			covered += hole - data
		}
		offset = hole
	}
	if covered == st.Size {
		return nil, false
	}
	// tar sets a file's size from where its last piece of data ends: one that ends in a hole gets
	// an empty last piece at its end.
	if len(extents) == 0 || extents[len(extents)-1].offset+extents[len(extents)-1].length < st.Size {
		extents = append(extents, extent{st.Size, 0})
	}
	return extents, true
}

// sparseFile writes the pax header, the member's header, the map and then each piece of data;
// the hash covers the whole file, holes as zeros. Returns how many bytes f was short, as wholeFile.
func (p *packer) sparseFile(e *entry, f *os.File, st *syscall.Stat_t, extents []extent) (int64, error) {
	name := e.name
	var sparseMap strings.Builder
	fmt.Fprintf(&sparseMap, "%d\n", len(extents))
	var data int64
	for _, x := range extents {
		fmt.Fprintf(&sparseMap, "%d\n%d\n", x.offset, x.length)
		data += x.length
	}
	mapBlocks := padded(sparseMap.String())
	size := int64(len(mapBlocks)) + data
	records := map[string]string{
		"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": name,
		"GNU.sparse.realsize": strconv.FormatInt(st.Size, 10),
		"mtime":               paxTime(st.Mtim),
		"size":                strconv.FormatInt(size, 10),
		"uid":                 strconv.FormatUint(uint64(st.Uid), 10),
		"gid":                 strconv.FormatUint(uint64(st.Gid), 10),
	}
	// Whatever tar reads of the headers' own fields, the pax records above say it exactly.
	shortName := "./GNUSparseFile.0/" + asciiTail(name, 60)
	extended := paxRecords(records)
	if err := p.raw(ustarHeader("./PaxHeaders.0/"+asciiTail(name, 60), 'x', int64(len(extended)), st)); err != nil {
		return 0, err
	}
	if err := p.raw([]byte(padded(extended))); err != nil {
		return 0, err
	}
	if err := p.raw(ustarHeader(shortName, '0', size, st)); err != nil {
		return 0, err
	}
	if err := p.raw([]byte(mapBlocks)); err != nil {
		return 0, err
	}
	var at, short int64
	for _, x := range extents {
		if err := p.zeros(nil, x.offset-at); err != nil { // the hole before it, hashed only
			return 0, err
		}
		missing, err := p.copyRange(e, p.out, f, x.offset, x.length)
		if err != nil {
			return 0, err
		}
		short += missing
		at = x.offset + x.length
	}
	if err := p.zeros(nil, st.Size-at); err != nil {
		return 0, err
	}
	return short, p.raw(make([]byte, (block-size%block)%block))
}

// paxTime is a time as a pax record says it: seconds and a fraction, the sign in front of both
// (-1.5 is one and a half seconds before 1970, where the kernel says -2 s + 0.5e9 ns).
func paxTime(t syscall.Timespec) string {
	if t.Sec < 0 && t.Nsec != 0 {
		return fmt.Sprintf("-%d.%09d", -t.Sec-1, 1e9-t.Nsec)
	}
	return fmt.Sprintf("%d.%09d", t.Sec, t.Nsec)
}

func (p *packer) raw(b []byte) error {
	_, err := p.out.Write(b)
	return err
}

// paxRecords encodes records as "<length> <key>=<value>\n", the length counting itself.
func paxRecords(records map[string]string) string {
	keys := []string{"GNU.sparse.major", "GNU.sparse.minor", "GNU.sparse.name", "GNU.sparse.realsize", "gid", "mtime", "size", "uid"}
	var b strings.Builder
	for _, k := range keys {
		body := " " + k + "=" + records[k] + "\n"
		n := len(body) + 1
		for len(strconv.Itoa(n))+len(body) != n {
			n = len(strconv.Itoa(n)) + len(body)
		}
		b.WriteString(strconv.Itoa(n) + body)
	}
	return b.String()
}

// padded is s with zeros up to a whole number of blocks.
func padded(s string) string { return s + strings.Repeat("\x00", paddingOf(s)) }

func paddingOf(s string) int { return (block - len(s)%block) % block }

// asciiTail is a name's last bytes, printable ASCII only, for a header's name field (pax records
// carry the real one).
func asciiTail(name string, limit int) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 0x20 && c <= 0x7e && c != '/' {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	return s[max(0, len(s)-limit):]
}

// ustarHeader is a 512-byte ustar header. Fields too big for it are zero: a pax record carries them.
func ustarHeader(name string, kind byte, size int64, st *syscall.Stat_t) []byte {
	h := make([]byte, block)
	copy(h[0:100], name)
	octal := func(field []byte, v int64) {
		if s := strconv.FormatInt(v, 8); v >= 0 && len(s) < len(field) {
			copy(field, fmt.Sprintf("%0*s", len(field)-1, s))
		}
	}
	octal(h[100:108], int64(st.Mode&0o7777))
	octal(h[108:116], int64(st.Uid))
	octal(h[116:124], int64(st.Gid))
	octal(h[124:136], size)
	octal(h[136:148], st.Mtim.Sec)
	h[156] = kind
	copy(h[257:265], "ustar\x0000")
	copy(h[148:156], "        ")
	var sum int64
	for _, c := range h {
		sum += int64(c)
	}
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return h
}
