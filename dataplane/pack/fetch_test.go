package main

// The ranged download (fetch.go) against servers that behave as stores do and as they should not:
// sizes at and around the range size, a store that ignores ranges, an object replaced during the
// download, ranges that fail once. Run by test/integration/snapshot/pack-helper.test.ts (go test).

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func object(t *testing.T, size int) []byte {
	t.Helper()
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	return data
}

// download reads the whole object through a rangedSource, as fetch does before decoding.
func download(t *testing.T, url string) ([]byte, error) {
	t.Helper()
	source := &rangedSource{client: transferClient(fetchConnections), url: url}
	reader, err := source.open(context.Background())
	if err != nil {
		return nil, err
	}
	return io.ReadAll(reader)
}

// expectObject downloads from server and fails the test unless it gets exactly data.
func expectObject(t *testing.T, server *httptest.Server, data []byte) {
	t.Helper()
	got, err := download(t, server.URL+"/archive?X-Amz-Signature=secret")
	if err != nil {
		t.Fatalf("object of %d bytes: %v", len(data), err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("object of %d bytes: got %d bytes, not the object", len(data), len(got))
	}
}

// store serves data with ranges and If-Match, as S3 does (http.ServeContent).
func store(data []byte, etag string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", etag)
		http.ServeContent(w, r, "archive", time.Time{}, bytes.NewReader(data))
	}
}

func TestEverySizeAroundTheRangeSizeComesWhole(t *testing.T) {
	for _, size := range []int{1, 100, fetchChunk - 1, fetchChunk, fetchChunk + 1, 2 * fetchChunk, 5*fetchChunk + 7} {
		data := object(t, size)
		server := httptest.NewServer(store(data, `"v1"`))
		expectObject(t, server, data)
		server.Close()
	}
}

func TestAStoreThatIgnoresRangesIsReadAsOneStream(t *testing.T) {
	data := object(t, 3*fetchChunk+5)
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(data) // 200, whatever the Range header asks
	}))
	defer server.Close()
	expectObject(t, server, data)
}

func TestAnObjectReplacedDuringTheDownloadFails(t *testing.T) {
	first, second := object(t, 3*fetchChunk), object(t, 3*fetchChunk)
	var mu sync.Mutex
	served := 0
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		served++
		replaced := served > 1
		mu.Unlock()
		if replaced {
			store(second, `"v2"`)(w, r)
		} else {
			store(first, `"v1"`)(w, r)
		}
	}))
	defer server.Close()
	_, err := download(t, server.URL)
	if err == nil || !strings.Contains(err.Error(), "replaced while it downloaded (HTTP 412)") {
		t.Fatalf("want the replacement named, got %v", err)
	}
}

func TestARangeThatFailsOnceIsFetchedAgain(t *testing.T) {
	data := object(t, 2*fetchChunk+10)
	var mu sync.Mutex
	failed := map[string]bool{}
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		first := !failed[r.Header.Get("Range")]
		failed[r.Header.Get("Range")] = true
		mu.Unlock()
		if first {
			http.Error(w, "SlowDown", http.StatusServiceUnavailable)
			return
		}
		store(data, `"v1"`)(w, r)
	}))
	defer server.Close()
	expectObject(t, server, data)
}

func TestARefusedURLFailsAtOnceWithoutShowingIt(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "AccessDenied", http.StatusForbidden)
	}))
	defer server.Close()
	started := time.Now()
	_, err := download(t, server.URL+"/archive?X-Amz-Signature=secret")
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("want a 403, got %v", err)
	}
	if strings.Contains(err.Error(), "secret") || time.Since(started) > 2*time.Second {
		t.Fatalf("the error shows the URL or was retried: %v", err)
	}
	// Nor when the store cannot be reached (Go's own error names the URL).
	reached := withoutURL(&url.Error{Op: "Get", URL: server.URL + "/archive?X-Amz-Signature=secret", Err: errors.New("connect: connection refused")})
	if strings.Contains(reached.Error(), "secret") || !strings.Contains(reached.Error(), "connection refused") {
		t.Fatalf("want the cause without the URL, got %v", reached)
	}
}
