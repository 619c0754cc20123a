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

// spoolWithURLs makes a spool folder whose urls file holds the first `count` parts' URLs.
func spoolWithURLs(t *testing.T, server *httptest.Server, count int) string {
	t.Helper()
	spool := t.TempDir()
	writeURLs(t, spool, server, count)
	return spool
}

func writeURLs(t *testing.T, spool string, server *httptest.Server, count int) {
	t.Helper()
	var urls strings.Builder
	for n := 1; n <= count; n++ {
		fmt.Fprintf(&urls, "%s/archive?partNumber=%d&X-Amz-Signature=secret%d\n", server.URL, n, n)
	}
	if err := os.WriteFile(filepath.Join(spool, ".urls"), []byte(urls.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(spool, ".urls"), filepath.Join(spool, "urls")); err != nil {
		t.Fatal(err)
	}
}

func runUpload(t *testing.T, spool string, data []byte, partSize int64, concurrency int) *uploader {
	t.Helper()
	u := newUploader(spool, concurrency)
	if err := u.run(bytes.NewReader(data), partSize, concurrency); err != nil {
		t.Fatal(err)
	}
	for _, reason := range u.failure {
		if strings.Contains(reason, "secret") {
			t.Fatalf("a failure shows the presigned URL: %s", reason)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(spool, "p*")); len(left) > 0 {
		t.Fatalf("parts left in the spool: %v", left)
	}
	return u
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
		u := runUpload(t, spoolWithURLs(t, server, 10), data, partSize, 3)
		expectStored(t, u, s, data, partSize)
		server.Close()
	}
}

func TestUploadTriesAgainWhileTheStoreFails(t *testing.T) {
	s := newPartStore()
	s.misbehave = func(part, try int, w http.ResponseWriter) bool {
		if try == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	server := httptest.NewServer(s)
	defer server.Close()
	data := object(t, 3<<20)
	u := runUpload(t, spoolWithURLs(t, server, 10), data, 1<<20, 2)
	expectStored(t, u, s, data, 1<<20)
	if s.requests != 6 {
		t.Fatalf("%d requests for 3 parts failed once each, want 6", s.requests)
	}
}

func TestUploadFailsAtOnceOnARefusalAndTriesNoFurtherPart(t *testing.T) {
	s := newPartStore()
	s.misbehave = func(part, try int, w http.ResponseWriter) bool {
		if part == 2 {
			w.WriteHeader(http.StatusForbidden)
			return true
		}
		return false
	}
	server := httptest.NewServer(s)
	defer server.Close()
	u := runUpload(t, spoolWithURLs(t, server, 20), object(t, 12<<20), 1<<20, 1)
	if len(u.failure) != 1 || !strings.Contains(u.failure[0], "part 2 upload failed: HTTP 403") {
		t.Fatalf("failure: %v", u.failure)
	}
	if s.tries[2] != 1 || len(s.tries) > 3 {
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
	u := runUpload(t, spoolWithURLs(t, server, 10), object(t, 1000), 1<<20, 2)
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
	asked := make(chan string, 10)
	needURLs = writerFunc(func(p []byte) { asked <- string(p) })
	defer func() { needURLs = os.Stderr }()
	go func() {
		if line := <-asked; line == "need-urls 2\n" {
			writeURLs(t, spool, server, 4)
		}
	}()
	data := object(t, 3<<20+1)
	u := runUpload(t, spool, data, 1<<20, 2)
	expectStored(t, u, s, data, 1<<20)
}

func TestUploadStopsWhenTheControllerGivesUp(t *testing.T) {
	s := newPartStore()
	release := make(chan struct{})
	s.misbehave = func(part, try int, w http.ResponseWriter) bool {
		<-release
		return false
	}
	server := httptest.NewServer(s)
	defer server.Close()
	defer close(release)
	spool := spoolWithURLs(t, server, 10)
	go func() {
		time.Sleep(300 * time.Millisecond)
		os.WriteFile(filepath.Join(spool, "abort"), nil, 0o600)
	}()
	started := time.Now()
	u := runUpload(t, spool, object(t, 4<<20), 1<<20, 2)
	if !u.abandoned() || len(u.parts) != 0 || time.Since(started) > 5*time.Second {
		t.Fatalf("after abort: abandoned %v, parts %v, after %s", u.abandoned(), u.parts, time.Since(started))
	}
}

type writerFunc func(p []byte)

func (f writerFunc) Write(p []byte) (int, error) {
	f(p)
	return len(p), nil
}
