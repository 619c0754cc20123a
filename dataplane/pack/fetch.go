package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pierrec/lz4/v4"
)

// fetch is `dumont-pack fetch SUMS` (SUMS "-": none): the restore's download, in one process. It
// reads a presigned GET URL of a snapshot archive from stdin (one line: never in the arguments),
// downloads the archive as byte ranges over several connections at once, decodes its LZ4 frames
// and writes the tar stream to stdout, on its way to tar -x. With SUMS, the MD5 of every file
// member goes there as stream-sums writes it (streamsums.go).
//
// It replaces `curl | lz4 -d | dumont-pack stream-sums`, for three reasons:
//   - one connection to an object store is slow (B2 and S3 serve each at a fraction of a host's
//     link; their guidance is parallel ranged GETs), and a restore's download is the RTO;
//   - a connection lost mid-archive costs one range again, not the whole download (curl cannot
//     retry once it has written to a pipe);
//   - every pipe between processes copies the whole archive once more (about 0.6 s of CPU per GiB
//     on the two-core hosts here), and decoding on several cores uses the cores a GPU host has.
//
// Ranges are fetched in order, at most fetchConnections at once, each held in memory until the
// stream reaches it (fetchConnections+1 buffers of fetchChunk bytes: 40 MiB). A range is tried
// again after a network error, an incomplete body, less than stallBytes in stallTimeout or a
// 5xx/429/408 answer, for up to fetchAttempts tries within fetchRetryWindow; any other answer (403
// for an expired URL, 404) fails at once. A store or proxy that ignores byte ranges (200 to the
// first) is read as one stream.
// Each range is a request of its own: the URL must stay valid for the whole download (12 h, see
// store.ts; a store signed with temporary credentials would cut that short). Every range after the first carries If-Match with the first
// one's ETag: an archive replaced during the download fails (412) instead of mixing two objects.
// LZ4's content checksum checks the result as curl | lz4 -d did. Exit status: 0, or 2 with the
// reason on stderr.
const (
	fetchConnections = 4
	fetchChunk       = 8 << 20
	fetchAttempts    = 6
	fetchRetryWindow = 60 * time.Second
	maxFetchDecoders = maxCompressors
)

func fetch(sumsPath string) {
	decoded := openDecodedArchive("fetch")
	growPipe(os.Stdout)
	if sumsPath != "-" {
		passThroughHashing(decoded, os.Stdout, sumsPath, "fetch")
		return
	}
	if _, err := io.Copy(os.Stdout, decoded); err != nil {
		fatal("fetch: %v", err)
	}
}

// openDecodedArchive reads the archive's URL from stdin and gives its decoded tar stream,
// downloaded by ranges and decoded on several cores; a failure to start ends the program.
func openDecodedArchive(command string) io.Reader {
	archiveURL, err := bufio.NewReader(io.LimitReader(os.Stdin, 64<<10)).ReadString('\n')
	archiveURL = strings.TrimRight(archiveURL, "\r\n")
	if (err != nil && err != io.EOF) || !(strings.HasPrefix(archiveURL, "https://") || strings.HasPrefix(archiveURL, "http://")) {
		fatal("%s: stdin must hold the archive's http(s) URL on one line", command)
	}
	if _, err := url.Parse(archiveURL); err != nil {
		fatal("%s: the archive's URL does not parse", command) // the URL itself is a credential: not shown
	}
	source := &rangedSource{client: transferClient(fetchConnections), url: archiveURL}
	archive, err := source.open(context.Background())
	if err != nil {
		fatal("%s: %v", command, err)
	}
	decoder := lz4.NewReader(archive)
	if err := decoder.Apply(lz4.ConcurrencyOption(min(runtime.NumCPU(), maxFetchDecoders))); err != nil {
		fatal("%s: setting up LZ4: %v", command, err)
	}
	return decoder
}

// growPipe makes the pipe to tar hold 1 MiB instead of 64 KiB (Linux's F_SETPIPE_SZ, up to
// /proc/sys/fs/pipe-max-size, 1 MiB by default), so that decoding and hashing run ahead of tar
// instead of taking turns with it: 1.1 GiB hashed as extracted took 6.3-6.8 s instead of
// 7.2-8.0 s on a two-core host (three runs each, .prof scratch script). Not a pipe, or a lower
// limit: nothing changes.
func growPipe(f *os.File) {
	const setPipeSize = 1031 // F_SETPIPE_SZ
	syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), setPipeSize, 1<<20)
}

type rangedSource struct {
	client *http.Client
	url    string
	total  int64
	etag   string
	// The object's whole body, when the store answered the first range with all of it.
	whole io.Reader
}

var errWholeObject = errors.New("the store answered with the whole object")

type rangeResult struct {
	data []byte
	err  error
}

// open fetches the first range (which tells the archive's size and ETag) and starts the rest.
func (s *rangedSource) open(ctx context.Context) (io.Reader, error) {
	buffers := make(chan []byte, fetchConnections+1)
	for range fetchConnections + 1 {
		buffers <- make([]byte, fetchChunk)
	}
	first, err := s.get(ctx, 0, <-buffers)
	if err == errWholeObject {
		fmt.Fprintln(os.Stderr, "dumont-pack: fetch: the store ignores byte ranges: one stream, nothing retried")
		return s.whole, nil
	}
	if err != nil {
		return nil, err
	}
	pending := make(chan chan rangeResult, fetchConnections+1)
	firstResult := make(chan rangeResult, 1)
	firstResult <- rangeResult{data: first}
	pending <- firstResult
	go func() {
		defer close(pending)
		slots := make(chan struct{}, fetchConnections)
		for from := int64(len(first)); from < s.total; from += fetchChunk {
			buffer := <-buffers
			result := make(chan rangeResult, 1)
			pending <- result
			slots <- struct{}{}
			go func(from int64) {
				data, err := s.get(ctx, from, buffer)
				<-slots
				result <- rangeResult{data: data, err: err}
			}(from)
		}
	}()
	return &inOrder{pending: pending, free: buffers, total: s.total}, nil
}

var contentRange = regexp.MustCompile(`^bytes (\d+)-(\d+)/(\d+)$`)

// get fetches the range starting at from into buffer (at most its length), trying again when
// the failure may pass.
func (s *rangedSource) get(ctx context.Context, from int64, buffer []byte) ([]byte, error) {
	started := time.Now()
	for attempt := 1; ; attempt++ {
		data, err, lasting := s.try(ctx, from, buffer)
		if err == nil {
			return data, nil
		}
		if err == errWholeObject {
			return nil, err
		}
		if lasting || attempt >= fetchAttempts || time.Since(started) >= fetchRetryWindow {
			return nil, fmt.Errorf("the archive's bytes from %d: %v (try %d)", from, err, attempt)
		}
		fmt.Fprintf(os.Stderr, "dumont-pack: fetch: the archive's bytes from %d: %v; trying again\n", from, err)
		select {
		case <-time.After(retryDelay(attempt)):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// try is one GET of a range. lasting: trying again would not help.
func (s *rangedSource) try(ctx context.Context, from int64, buffer []byte) (data []byte, err error, lasting bool) {
	ctx, cancel := context.WithCancel(ctx)
	kept := false // the whole object's answer stays open for open() to read
	defer func() {
		if !kept {
			cancel()
		}
	}()
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, withoutURL(err), true
	}
	request.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, from+int64(len(buffer))-1))
	if s.etag != "" {
		request.Header.Set("If-Match", s.etag)
	}
	response, err := s.client.Do(request)
	if err != nil {
		return nil, withoutURL(err), false
	}
	if response.StatusCode == http.StatusOK && from == 0 && s.total == 0 {
		// A store or proxy that ignores byte ranges: the whole object, read as one stream (no
		// range can be tried again), still given up when it brings too little.
		kept = true
		body := &countingReader{r: response.Body}
		watchRate(body, cancel)
		s.whole = body
		return nil, errWholeObject, true
	}
	defer response.Body.Close()
	switch code := response.StatusCode; {
	case code == http.StatusPartialContent:
	case code == http.StatusPreconditionFailed:
		return nil, errors.New("the archive was replaced while it downloaded (HTTP 412)"), true
	case retryableStatus(code):
		return nil, fmt.Errorf("HTTP %s", response.Status), false
	case code == http.StatusOK:
		return nil, errors.New("the store ignored the byte range (HTTP 200) after answering the first one"), true
	default:
		return nil, fmt.Errorf("HTTP %s", response.Status), true
	}
	match := contentRange.FindStringSubmatch(response.Header.Get("Content-Range"))
	if match == nil {
		return nil, fmt.Errorf("no usable Content-Range (%q)", response.Header.Get("Content-Range")), true
	}
	first, _ := strconv.ParseInt(match[1], 10, 64)
	last, _ := strconv.ParseInt(match[2], 10, 64)
	total, _ := strconv.ParseInt(match[3], 10, 64)
	if s.total == 0 && from == 0 {
		s.total, s.etag = total, response.Header.Get("ETag")
	}
	want := min(int64(len(buffer)), s.total-from)
	if first != from || last != from+want-1 || total != s.total {
		return nil, fmt.Errorf("asked for bytes %d-%d of %d, got %s", from, from+want-1, s.total, match[0]), true
	}
	// A body that brings less than stallBytes in stallTimeout is given up (and tried again), as
	// curl's --speed-limit 1024 --speed-time 30 did: a trickle must not hold the restore for hours.
	body := &countingReader{r: response.Body}
	watchdog := watchRate(body, cancel)
	defer watchdog.Stop()
	n, err := io.ReadFull(body, buffer[:want])
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("less than %d bytes in %s", stallBytes, stallTimeout), false
		}
		return nil, fmt.Errorf("after %d of %d bytes: %v", n, want, withoutURL(err)), false
	}
	return buffer[:want], nil, false
}

// inOrder reads the ranges in the order they were started, giving each buffer back once read.
type inOrder struct {
	pending <-chan chan rangeResult
	free    chan<- []byte
	held    []byte
	rest    []byte
	read    int64
	total   int64
}

func (o *inOrder) Read(p []byte) (int, error) {
	for len(o.rest) == 0 {
		if o.held != nil {
			o.free <- o.held[:cap(o.held)]
			o.held = nil
		}
		result, open := <-o.pending
		if !open {
			if o.read != o.total {
				return 0, fmt.Errorf("the download ended after %d of %d bytes", o.read, o.total)
			}
			return 0, io.EOF
		}
		r := <-result
		if r.err != nil {
			return 0, r.err
		}
		o.held, o.rest = r.data, r.data
		o.read += int64(len(r.data))
	}
	n := copy(p, o.rest)
	o.rest = o.rest[n:]
	return n, nil
}
