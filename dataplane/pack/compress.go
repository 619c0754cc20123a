package main

import (
	"io"
	"runtime"

	"github.com/pierrec/lz4/v4"
)

// Cores compressing at once, at most: each holds a 4 MB block in and out, so a GPU host with
// dozens of cores spends at most ~64 MB on it.
const maxCompressors = 8

// compressor is an LZ4 frame writer over w: lz4 -1's format (4 MB independent blocks, a content
// checksum the restore's `lz4 -d` checks), its blocks compressed in parallel. Incompressible blocks
// (a checkpoint's random weights) are stored as they are, which costs next to nothing.
func compressor(w io.Writer) *lz4.Writer {
	z := lz4.NewWriter(w)
	err := z.Apply(
		lz4.ConcurrencyOption(min(runtime.NumCPU(), maxCompressors)),
		lz4.CompressionLevelOption(lz4.Fast),
		lz4.BlockSizeOption(lz4.Block4Mb),
		lz4.ChecksumOption(true),
	)
	if err != nil {
		fatal("setting up LZ4: %v", err)
	}
	return z
}
