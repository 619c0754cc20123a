package main

// The multipart upload (upload.go) against a store that behaves as S3 does and as it should not:
// parts cut at the size asked, a store that fails a while, one that refuses, one that reports a
// wrong ETag, URLs that come late, a controller that gives up. Run by
// test/integration/snapshot/pack-helper.test.ts (go test).

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// partStore keeps what each part's PUT brought; misbehave may answer instead (true: answered).
type partStore struct {
	mu        sync.Mutex
	parts     map[int][]byte
	requests  int
	misbehave func(part int, try int, w http.ResponseWriter) bool
	tries     map[int]int
}

func newPartStore() *partStore {
	return &partStore{parts: map[int][]byte{}, tries: map[int]int{}}
}

func (s *partStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	part, _ := strconv.Atoi(r.URL.Query().Get("partNumber"))
	body, err := io.ReadAll(r.Body)
	if r.Method != http.MethodPut || err != nil || int64(len(body)) != r.ContentLength {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests++
	s.tries[part]++
	try := s.tries[part]
	s.mu.Unlock()
	if s.misbehave != nil && s.misbehave(part, try, w) {
		return
	}
	sum := md5.Sum(body)
	s.mu.Lock()
	s.parts[part] = body
	s.mu.Unlock()
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
}

// answering makes every request get this status, and nothing stored.
func answering(status int) func(part, try int, w http.ResponseWriter) bool {
	return func(part, try int, w http.ResponseWriter) bool {
		w.WriteHeader(status)
		return true
	}
}

// spoolWithURLs makes a spool folder whose urls file holds the first `count` parts' URLs.
func spoolWithURLs(t *testing.T, server *httptest.Server, count int) string {
	t.Helper()
	spool := t.TempDir()
	if err := writeURLs(spool, server, count); err != nil {
		t.Fatal(err)
	}
	return spool
}

func writeURLs(spool string, server *httptest.Server, count int) error {
	var urls strings.Builder
	for n := 1; n <= count; n++ {
		fmt.Fprintf(&urls, "%s/archive?partNumber=%d&X-Amz-Signature=secret%d\n", server.URL, n, n)
	}
	if err := os.WriteFile(filepath.Join(spool, ".urls"), []byte(urls.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(filepath.Join(spool, ".urls"), filepath.Join(spool, "urls"))
}

// events collects what the uploader says to the controller.
type events struct {
	mu    sync.Mutex
	lines strings.Builder
	heard func(line string)
}

func (e *events) Write(p []byte) (int, error) {
	e.mu.Lock()
	e.lines.Write(p)
	heard := e.heard
	e.mu.Unlock()
	if heard != nil {
		heard(string(p))
	}
	return len(p), nil
}

func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lines.String()
}

func runUpload(t *testing.T, spool string, data []byte, partSize int64, concurrency int) (*uploader, *events) {
	t.Helper()
	said := &events{}
	u := newUploader(spool, concurrency, said)
	return u, finishUpload(t, u, said, spool, bytes.NewReader(data), partSize, concurrency)
}

func finishUpload(t *testing.T, u *uploader, said *events, spool string, in io.Reader, partSize int64, concurrency int) *events {
	t.Helper()
	if err := u.run(in, partSize, concurrency); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(said.String()+strings.Join(u.failure, "\n"), "secret") {
		t.Fatalf("a message shows a presigned URL or a signature: %s", said.String())
	}
	if left, _ := filepath.Glob(filepath.Join(spool, "p*")); len(left) > 0 {
		t.Fatalf("parts left in the spool: %v", left)
	}
	return said
}

// expectStored checks that the parts reported, in order, are the data cut at partSize and are
// what the store holds.
func expectStored(t *testing.T, u *uploader, s *partStore, data []byte, partSize int64) {
	t.Helper()
	if len(u.failure) > 0 {
		t.Fatalf("failed: %v", u.failure)
	}
	want := (int64(len(data)) + partSize - 1) / partSize
	if int64(len(u.parts)) != want {
		t.Fatalf("%d bytes in parts of %d: %d parts reported, want %d", len(data), partSize, len(u.parts), want)
	}
	var joined []byte
	for i, p := range u.parts {
		sum := md5.Sum(s.parts[p.number])
		if p.number != i+1 || p.bytes != int64(len(s.parts[p.number])) || p.etag != hex.EncodeToString(sum[:]) {
			t.Fatalf("part %d reported as %+v, stored %d bytes", i+1, p, len(s.parts[p.number]))
		}
		joined = append(joined, s.parts[p.number]...)
	}
	if !bytes.Equal(joined, data) {
		t.Fatal("the stored parts are not the stream")
	}
}

func TestUploadCutsTheStreamIntoParts(t *testing.T) {
	const partSize = 1 << 20
	for _, size := range []int{1, partSize - 1, partSize, partSize + 1, 5*partSize + 12345} {
		s := newPartStore()
		server := httptest.NewServer(s)
		data := object(t, size)
		u, _ := runUpload(t, spoolWithURLs(t, server, 10), data, partSize, 3)
		expectStored(t, u, s, data, partSize)
		server.Close()
	}
}

// Answers that may pass: the store failing a while (503), and S3's answer to a body that came too
// slowly (400 RequestTimeout), which its SDKs try again.
func TestUploadTriesAgainAnAnswerThatMayPass(t *testing.T) {
	for _, first := range []struct {
		status     int
		body, said string
	}{
		{http.StatusServiceUnavailable, "", "HTTP 503 Service Unavailable; trying again"},
		{http.StatusBadRequest, "<Error><Code>RequestTimeout</Code><Message>Your socket connection to the server was not read from or written to within the timeout period.</Message></Error>", "HTTP 400 Bad Request (RequestTimeout); trying again"},
	} {
		s := newPartStore()
		s.misbehave = func(part, try int, w http.ResponseWriter) bool {
			if try > 1 {
				return false
			}
			w.WriteHeader(first.status)
			io.WriteString(w, first.body)
			return true
		}
		server := httptest.NewServer(s)
		data := object(t, 3<<20)
		u, said := runUpload(t, spoolWithURLs(t, server, 10), data, 1<<20, 2)
		server.Close()
		expectStored(t, u, s, data, 1<<20)
		if !strings.Contains(said.String(), first.said) {
			t.Fatalf("said: %s", said.String())
		}
		s.mu.Lock()
		if s.requests != 6 {
			t.Fatalf("%d requests for 3 parts failed once each, want 6", s.requests)
		}
		s.mu.Unlock()
	}
}

func TestUploadFailsAtOnceOnARefusalAndTriesNoFurtherPart(t *testing.T) {
	s := newPartStore()
	s.misbehave = func(part, try int, w http.ResponseWriter) bool {
		if part == 2 {
			// S3's answer echoes what was signed: never shown.
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, "<Error><Code>SignatureDoesNotMatch</Code><SignatureProvided>secret</SignatureProvided></Error>")
			return true
		}
		return false
	}
	server := httptest.NewServer(s)
	defer server.Close()
	started := time.Now()
	u, said := runUpload(t, spoolWithURLs(t, server, 20), object(t, 12<<20), 1<<20, 1)
	if len(u.failure) != 1 || !strings.Contains(u.failure[0], "part 2 upload failed: HTTP 403 Forbidden (SignatureDoesNotMatch) (try 1)") {
		t.Fatalf("failure: %v", u.failure)
	}
	if !strings.Contains(said.String(), "upload-failed part 2 upload failed") || time.Since(started) > 15*time.Second {
		t.Fatalf("after %s, said: %s", time.Since(started), said.String())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tries[2] != 1 || len(s.tries) > 2 {
		t.Fatalf("tries by part after a refusal of part 2: %v", s.tries)
	}
}

func TestUploadFailsAPartWhoseETagIsNotItsMD5(t *testing.T) {
	s := newPartStore()
	s.misbehave = func(part, try int, w http.ResponseWriter) bool {
		w.Header().Set("ETag", `"00000000000000000000000000000000"`)
		return true
	}
	server := httptest.NewServer(s)
	defer server.Close()
	u, _ := runUpload(t, spoolWithURLs(t, server, 10), object(t, 1000), 1<<20, 2)
	if len(u.failure) != 1 || !strings.Contains(u.failure[0], "part 1: stored ETag 00000000000000000000000000000000 is not the part's MD5") {
		t.Fatalf("failure: %v", u.failure)
	}
	if len(u.parts) != 0 {
		t.Fatalf("parts reported: %v", u.parts)
	}
}

func TestUploadAsksForURLsItLacksAndWaitsForThem(t *testing.T) {
	s := newPartStore()
	server := httptest.NewServer(s)
	defer server.Close()
	spool := spoolWithURLs(t, server, 1)
	said := &events{}
	said.heard = func(line string) {
		if line == "need-urls 2\n" {
			go func() {
				if err := writeURLs(spool, server, 4); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	data := object(t, 3<<20+1)
	u := newUploader(spool, 2, said)
	finishUpload(t, u, said, spool, bytes.NewReader(data), 1<<20, 2)
	expectStored(t, u, s, data, 1<<20)
	// Part 2's URL was asked for once; a later part may have asked too before the URLs came, but
	// never twice, and never part 1.
	asked := strings.Count(said.String(), "need-urls")
	if !strings.Contains(said.String(), "need-urls 2\n") || strings.Count(said.String(), "need-urls 2\n") != 1 || asked > 3 || strings.Contains(said.String(), "need-urls 1\n") {
		t.Fatalf("said: %s", said.String())
	}
}

func TestUploadFailsAPartTheStoreAcceptsWithoutAnETag(t *testing.T) {
	s := newPartStore()
	s.misbehave = answering(http.StatusOK)
	server := httptest.NewServer(s)
	defer server.Close()
	u, _ := runUpload(t, spoolWithURLs(t, server, 10), object(t, 1000), 1<<20, 2)
	if len(u.failure) != 1 || u.failure[0] != "part 1: the store answered without a usable ETag" || len(u.parts) != 0 {
		t.Fatalf("failure %v, parts %v", u.failure, u.parts)
	}
}

func TestUploadGivesUpOnAStoreThatStalls(t *testing.T) {
	// A second try starts (after 1-1.5 s) and a third does not: the window closes at 1 s.
	stallTimeout, uploadRetryWindow = 200*time.Millisecond, time.Second
	defer func() { stallTimeout, uploadRetryWindow = 30*time.Second, 90*time.Second }()
	s := newPartStore()
	release := make(chan struct{})
	s.misbehave = func(part, try int, w http.ResponseWriter) bool {
		<-release // the body was read; no answer comes
		return true
	}
	server := httptest.NewServer(s)
	defer server.Close()
	defer close(release)
	started := time.Now()
	u, said := runUpload(t, spoolWithURLs(t, server, 10), object(t, 1000), 1<<20, 2)
	// The chaos scenario stalled-transfer looks for these words in the snapshot's error.
	if len(u.failure) != 1 || !strings.Contains(u.failure[0], "part 1 upload failed: stalled") || !strings.Contains(said.String(), "trying again") {
		t.Fatalf("failure %v; said %s", u.failure, said.String())
	}
	if elapsed := time.Since(started); elapsed > 15*time.Second {
		t.Fatalf("gave up after %s", elapsed)
	}
}

func TestUploadEndsAtOnceWhenTheControllerGivesUpMidStream(t *testing.T) {
	s := newPartStore()
	server := httptest.NewServer(s)
	defer server.Close()
	spool := spoolWithURLs(t, server, 10)
	said := &events{}
	u := newUploader(spool, 2, said)
	abandoned := make(chan struct{})
	u.onAbandon = func() { close(abandoned) }
	// The rounds are still writing: stdin stays open, a part half cut.
	reader, writer := io.Pipe()
	go writer.Write(object(t, 1<<19))
	ran := make(chan error, 1)
	go func() { ran <- u.run(reader, 1<<20, 2) }()
	time.Sleep(200 * time.Millisecond)
	os.WriteFile(filepath.Join(spool, "abort"), nil, 0o600)
	select {
	case <-abandoned:
	case <-time.After(10 * time.Second):
		t.Fatal("the upload did not give up within 10 s of the abort")
	}
	writer.Close()
	if err := <-ran; err != nil || len(u.parts) != 0 || len(u.failure) != 0 {
		t.Fatalf("after the abort: %v, parts %v, failure %v", err, u.parts, u.failure)
	}
}

func TestUploadStopsReadingTheStreamOnceAPartFailed(t *testing.T) {
	s := newPartStore()
	s.misbehave = answering(http.StatusForbidden)
	server := httptest.NewServer(s)
	defer server.Close()
	spool := spoolWithURLs(t, server, 10)
	said := &events{}
	u := newUploader(spool, 1, said)
	// A round that would go on for ever: the stream stays open and full.
	reader, writer := io.Pipe()
	defer reader.Close()
	go func() {
		chunk := make([]byte, 64<<10)
		for {
			if _, err := writer.Write(chunk); err != nil {
				return
			}
		}
	}()
	ran := make(chan error, 1)
	go func() { ran <- u.run(reader, 1<<20, 1) }()
	select {
	case err := <-ran:
		if err != nil || len(u.failure) != 1 || !strings.Contains(u.failure[0], "part 1 upload failed: HTTP 403") {
			t.Fatalf("run: %v, failure %v", err, u.failure)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the upload still reads the stream 15 s after its first part failed")
	}
	if _, err := os.Stat(filepath.Join(spool, "upload-failed")); err != nil {
		t.Fatalf("no upload-failed in the spool for the rounds to stop on: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(spool, "p*")); len(left) > 0 {
		t.Fatalf("parts left in the spool: %v", left)
	}
}
