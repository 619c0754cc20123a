package main

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// upload is `dumont-pack upload SPOOL PART_SIZE CONCURRENCY`: the snapshot's multipart upload, in
// one process. It cuts stdin (the archive, as the rounds of `members` write it) into parts of
// PART_SIZE bytes, the last one shorter, and PUTs each to its presigned URL, CONCURRENCY at a time.
// The URLs are in SPOOL/urls, one per line, part 1 first; the controller appends more (a rename) as
// the upload goes, and when the stream outgrows them this says "need-urls <part>" on stderr and
// waits for them, up to urlPatience.
//
// It replaces `split --filter` with a bash script, sed, curl and md5sum per part: at 8-64 MiB a part,
// a snapshot of a few GiB spawned hundreds of processes, wrote each part to the spool and read it
// back twice (curl, md5sum), and polled the spool with find. Here each part is written to the spool
// once, its MD5 made as it is written, and read once by the PUT. At most CONCURRENCY+1 parts exist
// at once (one being cut while the others upload), so the spool's size stays bounded.
//
// A part is tried again after a network error, a body that stalls (less than stallBytes in
// stallTimeout) or a 5xx/429/408 answer, up to uploadRetries more times within uploadRetryWindow
// (curl's --retry 8 --retry-max-time 90 did the same); any other answer fails it at once. Where the
// store reports a part's MD5 as its ETag (S3, MinIO), the two must match: a part damaged on its way
// fails. Once a part failed, the parts after it are not tried, no more of the stream is read,
// SPOOL/upload-failed tells the rounds writing the stream to stop, and the upload fails within one
// part's retry time.
//
// stderr: "progress <parts uploaded>" each second, "need-urls <part>", "upload-failed <reason>"
// as soon as a part failed, and each try that failed and is tried again.
// stdout, once every part is stored: "part <n> <etag> <bytes>" per part, in order. The controller
// checks the sequence (host-upload.ts: checkPartSequence) and completes the upload with it.
// Exit status: 0; 4 when a part failed or SPOOL/abort appeared (the controller gave up) or SPOOL
// went away; 2 when stdin could not be read.
const (
	uploadRetries     = 8
	uploadAttemptTime = 30 * time.Minute
	urlPatience       = 60 * time.Second
	maxPartSize       = 5 << 30 // S3's and B2's largest part
)

// No try of a part starts after this long (a variable: the tests shorten it).
var uploadRetryWindow = 90 * time.Second

type uploadedPart struct {
	number int
	etag   string
	bytes  int64
}

type uploader struct {
	spool  string
	client *http.Client
	urls   *urlBook
	ctx    context.Context
	stop   context.CancelFunc
	// Where the controller hears "progress", "need-urls", "upload-failed" and retries: stderr.
	events io.Writer
	// Called once the controller gave up: the process ends at once, instead of reading the rest
	// of a round it would drop (a read of stdin cannot be interrupted).
	onAbandon func()
	mu        sync.Mutex
	parts     []uploadedPart
	failure   []string // why parts failed, in the order they did
}

func upload(spool string, partSizeArg string, concurrencyArg string) {
	partSize, err := strconv.ParseInt(partSizeArg, 10, 64)
	if err != nil || partSize < 1 || partSize > maxPartSize {
		fatal("upload: PART_SIZE must be a number of bytes from 1 to %d, not %q", maxPartSize, partSizeArg)
	}
	concurrency, err := strconv.Atoi(concurrencyArg)
	if err != nil || concurrency < 1 || concurrency > 64 {
		fatal("upload: CONCURRENCY must be a number from 1 to 64, not %q", concurrencyArg)
	}
	growPipe(os.Stdin)
	u := newUploader(spool, concurrency, os.Stderr)
	u.onAbandon = func() {
		fmt.Fprintln(os.Stderr, "dumont-pack: upload: the controller abandoned the snapshot")
		os.Exit(4)
	}
	go u.reportProgress()
	if err := u.run(bufio.NewReaderSize(os.Stdin, 1<<20), partSize, concurrency); err != nil {
		fatal("upload: reading the archive: %v", err)
	}
	if u.abandoned() && len(u.failure) == 0 {
		u.onAbandon()
	}
	if len(u.failure) > 0 {
		os.Exit(4) // the reasons are on stderr already ("upload-failed")
	}
	out := bufio.NewWriter(os.Stdout)
	for _, p := range u.parts {
		fmt.Fprintf(out, "part %d %s %d\n", p.number, p.etag, p.bytes)
	}
	if err := out.Flush(); err != nil {
		fatal("upload: writing the report: %v", err)
	}
}

func newUploader(spool string, concurrency int, events io.Writer) *uploader {
	ctx, stop := context.WithCancel(context.Background())
	u := &uploader{spool: spool, client: transferClient(concurrency), ctx: ctx, stop: stop, events: &lineWriter{w: events}}
	u.urls = &urlBook{file: filepath.Join(spool, "urls"), abandoned: u.abandoned, events: u.events}
	return u
}

// run uploads the stream in parts; afterwards u.parts holds the stored ones, in order, and
// u.failure why any failed. An error: the stream itself could not be read.
func (u *uploader) run(in io.Reader, partSize int64, concurrency int) error {
	defer u.stop()
	finished := make(chan struct{})
	defer close(finished)
	go u.watchSpool(finished)
	slots := make(chan struct{}, concurrency)
	var uploads sync.WaitGroup
	defer uploads.Wait()
	for number := 1; !u.stopped(); number++ {
		file := filepath.Join(u.spool, fmt.Sprintf("p%d", number))
		size, sum, err := writePart(u.ctx, file, in, partSize)
		if errors.Is(err, errStopped) {
			break
		}
		if err != nil {
			var readErr *streamReadError
			if errors.As(err, &readErr) {
				u.stop()
				return readErr.err
			}
			if !u.abandoned() { // a spool removed under us is the controller giving up, not a full disk
				u.fail(fmt.Sprintf("part %d could not be written to %s (disk full?): %v", number, u.spool, err))
			}
			break
		}
		if size == 0 {
			if number == 1 {
				u.fail("the archive was empty: nothing to upload")
			}
			break
		}
		select {
		case slots <- struct{}{}:
		case <-u.ctx.Done():
		}
		if u.stopped() {
			os.Remove(file)
			break
		}
		uploads.Add(1)
		go func() {
			defer func() { <-slots; uploads.Done() }()
			defer os.Remove(file)
			u.put(number, file, size, sum)
		}()
		if size < partSize {
			break
		}
	}
	// Nothing more of the stream is read after a failure: the round writing it ends on a broken
	// pipe rather than reading the rest of the workspace for nothing, and the controller, which
	// heard "upload-failed", names this failure, not the pipe.
	uploads.Wait()
	sort.Slice(u.parts, func(i, j int) bool { return u.parts[i].number < u.parts[j].number })
	return nil
}

// streamReadError is a failure to read the archive itself (not to write a part).
type streamReadError struct{ err error }

func (e *streamReadError) Error() string { return e.err.Error() }

// writePart copies up to size bytes of in to a new file, making their MD5 on the way. A stream that
// ends writes a shorter part (0 bytes: the stream had ended).
func writePart(ctx context.Context, file string, in io.Reader, size int64) (int64, string, error) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, "", err
	}
	h := md5.New()
	written, err := io.CopyN(io.MultiWriter(f, h), &readErrorMarker{r: in, ctx: ctx}, size)
	if closeErr := f.Close(); err == nil || err == io.EOF {
		if closeErr != nil {
			err = closeErr
		} else {
			err = nil
		}
	}
	if err != nil || written == 0 {
		os.Remove(file)
		return 0, "", err
	}
	return written, hex.EncodeToString(h.Sum(nil)), nil
}

// errStopped: the upload stopped (a part failed, or the controller gave up) while a part was cut.
var errStopped = errors.New("the upload stopped")

// readErrorMarker tells a failing read of the stream from a failing write of the part, and stops
// reading once the upload stopped: no more of the workspace is read for nothing.
type readErrorMarker struct {
	r   io.Reader
	ctx context.Context
}

func (m *readErrorMarker) Read(p []byte) (int, error) {
	if m.ctx.Err() != nil {
		return 0, errStopped
	}
	n, err := m.r.Read(p)
	if err != nil && err != io.EOF {
		err = &streamReadError{err}
	}
	return n, err
}

var md5ETag = regexp.MustCompile(`^[0-9a-f]{32}$`)

// put uploads one part, trying again while the failure may pass.
func (u *uploader) put(number int, file string, size int64, sum string) {
	if u.stopped() {
		return
	}
	url, err := u.urls.urlFor(u.ctx, number)
	if err != nil {
		if u.ctx.Err() == nil && !u.abandoned() {
			u.fail(err.Error())
		}
		return
	}
	started := time.Now()
	for attempt := 1; ; attempt++ {
		etag, err, lasting := u.try(url, file, size)
		if u.ctx.Err() != nil {
			return // another part failed, or the controller gave up: that is the reason, not this
		}
		if err == nil {
			etag = strings.Trim(etag, `"`)
			switch {
			case etag == "" || strings.ContainsAny(etag, " \t\r\n"):
				u.fail(fmt.Sprintf("part %d: the store answered without a usable ETag", number))
			case md5ETag.MatchString(etag) && etag != sum:
				u.fail(fmt.Sprintf("part %d: stored ETag %s is not the part's MD5 %s", number, etag, sum))
			default:
				u.mu.Lock()
				u.parts = append(u.parts, uploadedPart{number: number, etag: etag, bytes: size})
				u.mu.Unlock()
			}
			return
		}
		if lasting || attempt > uploadRetries || time.Since(started) >= uploadRetryWindow {
			u.fail(fmt.Sprintf("part %d upload failed: %v (try %d)", number, err, attempt))
			return
		}
		fmt.Fprintf(u.events, "dumont-pack: upload: part %d: %v; trying again\n", number, err)
		select {
		case <-time.After(retryDelay(attempt)):
		case <-u.ctx.Done():
			return
		}
	}
}

// try is one PUT of a part. lasting: trying again would not help.
func (u *uploader) try(url, file string, size int64) (etag string, err error, lasting bool) {
	f, err := os.Open(file)
	if err != nil {
		return "", err, true
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(u.ctx, uploadAttemptTime)
	defer cancel()
	body := &countingReader{r: f}
	request, err := http.NewRequestWithContext(ctx, http.MethodPut, url, io.NopCloser(body))
	if err != nil {
		return "", withoutURL(err), true
	}
	request.ContentLength = size
	watchdog := watchRate(body, cancel)
	defer watchdog.Stop()
	response, err := u.client.Do(request)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", fmt.Errorf("timed out after %s", uploadAttemptTime), false
		}
		if ctx.Err() != nil && u.ctx.Err() == nil {
			return "", fmt.Errorf("stalled: less than %d bytes moved in %s", stallBytes, stallTimeout), false
		}
		var timeout net.Error
		if errors.As(err, &timeout) && timeout.Timeout() {
			return "", fmt.Errorf("stalled: the store did not connect or answer in time (%v)", withoutURL(err)), false
		}
		return "", withoutURL(err), false
	}
	defer response.Body.Close()
	if code := response.StatusCode; code >= 200 && code < 300 {
		io.Copy(io.Discard, io.LimitReader(response.Body, 64<<10))
		return response.Header.Get("ETag"), nil, false
	}
	reason := fmt.Sprintf("HTTP %s", response.Status)
	errorCode := s3ErrorCode(response.Body)
	if errorCode != "" {
		reason += " (" + errorCode + ")"
	}
	// S3 answers a body that came too slowly with 400 RequestTimeout, which its SDKs try again.
	lasting = !retryableStatus(response.StatusCode) && errorCode != "RequestTimeout"
	return "", errors.New(reason), lasting
}

// fail records why a part failed, says so at once ("upload-failed <reason>": the controller then
// gives up instead of sending more rounds), and stops every other part.
func (u *uploader) fail(reason string) {
	u.mu.Lock()
	u.failure = append(u.failure, reason)
	u.mu.Unlock()
	fmt.Fprintf(u.events, "upload-failed %s\n", reason)
	// The rounds (scripts.ts) stop waiting for the controller's next list on this file, also when
	// the controller is gone.
	os.WriteFile(filepath.Join(u.spool, "upload-failed"), nil, 0o600)
	u.stop()
}

func (u *uploader) stopped() bool { return u.ctx.Err() != nil }

// abandoned: the controller gave up (SPOOL/abort), or removed the spool under us.
func (u *uploader) abandoned() bool {
	if _, err := os.Lstat(filepath.Join(u.spool, "abort")); err == nil {
		return true
	}
	info, err := os.Stat(u.spool)
	return err != nil || !info.IsDir()
}

// watchSpool stops everything once the controller gave up: the PUTs in flight too. It watches
// until the upload is over, also after a part failed (an abort then still ends the process at once).
func (u *uploader) watchSpool(finished <-chan struct{}) {
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case <-finished:
			return
		case <-ticker.C:
			if u.abandoned() {
				u.stop()
				if u.onAbandon != nil {
					u.onAbandon()
				}
				return
			}
		}
	}
}

func (u *uploader) reportProgress() {
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-u.ctx.Done():
			return
		case <-ticker.C:
			u.mu.Lock()
			done := len(u.parts)
			u.mu.Unlock()
			fmt.Fprintf(u.events, "progress %d\n", done)
		}
	}
}

// urlBook is SPOOL/urls as the controller writes it: read again when a part's URL is not there yet.
type urlBook struct {
	file      string
	abandoned func() bool
	events    io.Writer
	mu        sync.Mutex
	urls      []string
	asked     int // the highest part "need-urls" was said for
}

func (b *urlBook) urlFor(ctx context.Context, number int) (string, error) {
	deadline := time.Now().Add(urlPatience)
	for {
		url, err := b.lookup(number)
		if url != "" || err != nil {
			return url, err
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no presigned URL for part %d within %s", number, urlPatience)
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// lookup is part number's URL, reading the file again when it is not known yet ("": not there,
// and the controller has been asked for it).
func (b *urlBook) lookup(number int) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if number > len(b.urls) {
		if err := b.reload(); err != nil {
			return "", err
		}
	}
	if number <= len(b.urls) {
		return b.urls[number-1], nil
	}
	if b.asked < number && !b.abandoned() {
		fmt.Fprintf(b.events, "need-urls %d\n", number)
		b.asked = number
	}
	return "", nil
}

func (b *urlBook) reload() error {
	content, err := os.ReadFile(b.file)
	if err != nil {
		return fmt.Errorf("cannot read the part URLs: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(content), "\n"), "\n")
	for _, line := range lines {
		if !(strings.HasPrefix(line, "https://") || strings.HasPrefix(line, "http://")) {
			return errors.New("the part URLs are not one http(s) URL per line") // the URL is a credential: not shown
		}
	}
	b.urls = lines
	return nil
}

// lineWriter writes each line in one write, from one goroutine at a time: lines from several
// goroutines never interleave on the controller's side.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
