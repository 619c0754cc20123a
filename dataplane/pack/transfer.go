package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sync/atomic"
	"time"
)

// What fetch and upload share: one way to reach an object store through presigned URLs, and the
// same rules for a transfer that stalls and for trying again.
const (
	stallBytes     = 30 << 10
	connectTimeout = 20 * time.Second
)

// A body that moves less than stallBytes in stallTimeout is given up (and tried again), as curl's
// --speed-limit 1024 --speed-time 30 did: a trickle must not hold a transfer for hours. (A
// variable: the tests shorten it.)
var stallTimeout = 30 * time.Second

// transferClient keeps up to `connections` connections to the store open between requests.
func transferClient(connections int) *http.Client {
	dialer := &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment, // as curl honours https_proxy
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   connectTimeout,
		ResponseHeaderTimeout: stallTimeout,
		MaxIdleConnsPerHost:   connections,
		DisableCompression:    true,
	}}
}

// retryDelay is the wait before try attempt+1: 1, 2, 4, 8, 16 s…, each plus up to half of it, so
// that requests failed by one answer (503 SlowDown) do not all ask again at the same moment.
func retryDelay(attempt int) time.Duration {
	return time.Duration(float64(time.Second<<(attempt-1)) * (1 + rand.Float64()/2))
}

// retryableStatus: an answer that may pass (the store busy or failing for a while). Any other
// failure status (403 for an expired URL, 404, 400) would be the same on the next try.
func retryableStatus(code int) bool {
	return code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
}

var s3ErrorCodePattern = regexp.MustCompile(`<Code>([A-Za-z0-9.]{1,64})</Code>`)

// s3ErrorCode is the <Code> of an S3 error answer ("RequestTimeout", "SlowDown"), or "". Only the
// code is ever shown: some error bodies echo the request's signature and key id.
func s3ErrorCode(body io.Reader) string {
	head, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	if match := s3ErrorCodePattern.FindSubmatch(head); match != nil {
		return string(match[1])
	}
	return ""
}

// watchRate cancels when body moved less than stallBytes in the last stallTimeout.
func watchRate(body *countingReader, cancel context.CancelFunc) *time.Timer {
	var timer *time.Timer
	last := int64(0)
	timer = time.AfterFunc(stallTimeout, func() {
		now := body.count.Load()
		if now-last < stallBytes {
			cancel()
			return
		}
		last = now
		timer.Reset(stallTimeout)
	})
	return timer
}

// withoutURL keeps a presigned URL (a credential until it expires) out of messages.
func withoutURL(err error) error {
	var urlError *url.Error
	if errors.As(err, &urlError) {
		return fmt.Errorf("%s: %w", urlError.Op, urlError.Err)
	}
	return err
}

type countingReader struct {
	r     io.Reader
	count atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.count.Add(int64(n))
	return n, err
}
