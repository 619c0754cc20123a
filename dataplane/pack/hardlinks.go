package main

import (
	"archive/tar"
	"syscall"
)

// A file with several names (a conda environment's packages linked into it, say) is stored once,
// as GNU tar stores it: its later names in the same round are link members to its first name, so
// `tar -x` makes them one file again and the restored workspace takes no more room than the
// original. A name whose file changed since its first name was read is stored whole.

type inode struct{ dev, ino uint64 }

// firstName is the name a file was first archived under this round, its MD5 and its state then
// (also a first copy's: duplicates.go).
type firstName struct {
	name string
	sum  string
	st   syscall.Stat_t
}

// linkedTo is the first name this round archived st's file under, when it has one and the file
// is as it was then.
func (p *packer) linkedTo(st *syscall.Stat_t) (firstName, bool) {
	if st.Nlink < 2 {
		return firstName{}, false
	}
	first, ok := p.links[inode{st.Dev, st.Ino}]
	return first, ok && first.st.Size == st.Size && first.st.Mtim == st.Mtim && first.st.Ctim == st.Ctim
}

// archived remembers the name a file with several names was archived under (read whole, at rest).
func (p *packer) archived(name, sum string, st *syscall.Stat_t) {
	if st.Nlink > 1 {
		if _, ok := p.links[inode{st.Dev, st.Ino}]; !ok {
			p.links[inode{st.Dev, st.Ino}] = firstName{name, sum, *st}
		}
	}
}

// putLink writes name as a link member to its file's first name, with that name's MD5 and the
// given pax records (copyRecords for a copy of it: duplicates.go).
func (p *packer) putLink(name string, first firstName, st *syscall.Stat_t, records map[string]string) error {
	h := header(name, tar.TypeLink, st)
	h.Linkname = first.name
	h.PAXRecords = records
	if err := p.tw.WriteHeader(h); err != nil {
		return err
	}
	p.writeSum(first.sum, name)
	p.sawEntry(name, st, "")
	return nil
}
