// The local cloud's S3 endpoint: an HTTP relay between hosts (and the controller) and MinIO.
//
// It is Go, not the daemon's Node, because the relay carries every byte of every snapshot: Node's
// relay took about 4 s of CPU per GiB on this machine (and capped a download at ~280 MB/s), on
// the same two cores the tools being measured run on. A real store costs the client nothing
// like that. This one takes under 1 s per GiB.
//
// It decides nothing itself: for each request it asks the daemon (local-cloud/s3-fault-proxy.ts),
// which holds the armed faults, what to do, and the daemon may take as long as a fault lasts to
// answer. Answers: relay the request to MinIO, close the client's connection, or answer with an
// S3 error. When the client goes away, its question is withdrawn (the request's context ends).
//
//	s3-relay -listen ADDRESS:0 -target 127.0.0.1:PORT -decide http://127.0.0.1:PORT/decide
//
// The decision server's token comes in DUMONT_S3_RELAY_TOKEN (never in the arguments). The first
// line on stdout is "listening ADDRESS:PORT". The relay exits when its stdin closes (the daemon
// that started it is gone), so it never outlives its cloud.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"sync"
	"time"
)

type decision struct {
	Action string `json:"action"` // "relay", "close" or "error"
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// Buffers of 256 KiB: a part is 8 MiB or more, and fewer, larger writes cost less CPU.
type bufferPool struct{ pool sync.Pool }

func (b *bufferPool) Get() []byte  { return *(b.pool.Get().(*[]byte)) }
func (b *bufferPool) Put(p []byte) { b.pool.Put(&p) }

func main() {
	listen := flag.String("listen", "", "address to listen on (port 0: any)")
	target := flag.String("target", "", "MinIO's address")
	decideURL := flag.String("decide", "", "the daemon's decision URL")
	flag.Parse()
	token := os.Getenv("DUMONT_S3_RELAY_TOKEN")
	if *listen == "" || *target == "" || *decideURL == "" || token == "" {
		fmt.Fprintln(os.Stderr, "usage: s3-relay -listen ADDRESS -target ADDRESS -decide URL (DUMONT_S3_RELAY_TOKEN set)")
		os.Exit(2)
	}
	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3-relay:", err)
		os.Exit(1)
	}
	fmt.Printf("listening %s\n", listener.Addr())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()

	// Questions to the daemon go over kept-alive connections, never through a proxy, and are GETs:
	// the transport asks again on a fresh connection when a kept one turns out closed. Idle ones
	// are closed here first (the daemon keeps them for ten minutes).
	ask := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}}
	pool := &bufferPool{pool: sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}}
	relay := &httputil.ReverseProxy{
		// The path, the query and the Host header pass untouched: presigned URLs and SigV4
		// signatures are computed over them.
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = *target
			r.Out.URL.RawQuery = r.In.URL.RawQuery // as received: ReverseProxy would re-encode a query it finds odd
			r.Out.Host = r.In.Host
		},
		Transport:  &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 256, DisableCompression: true},
		BufferPool: pool,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the client went away
			}
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "relay: %v", err)
		},
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		d, err := decide(r.Context(), ask, *decideURL, token, host, r.UserAgent())
		if err != nil {
			if r.Context().Err() != nil {
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "relay: no decision from the local cloud: %v", err)
			return
		}
		switch d.Action {
		case "relay":
			relay.ServeHTTP(w, r)
		case "error":
			w.Header().Set("Content-Type", "application/xml")
			w.Header().Set("Connection", "close")
			w.WriteHeader(d.Status)
			io.WriteString(w, d.Body)
		default: // "close": the connection ends without an answer
			if hijacker, ok := w.(http.Hijacker); ok {
				if conn, _, err := hijacker.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
	})
	server := &http.Server{Handler: handler, ReadHeaderTimeout: time.Minute, IdleTimeout: 5 * time.Minute}
	if err := server.Serve(listener); err != nil {
		fmt.Fprintln(os.Stderr, "s3-relay:", err)
		os.Exit(1)
	}
}

func decide(ctx context.Context, client *http.Client, url, token, remote, userAgent string) (decision, error) {
	var d decision
	request, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return d, err
	}
	request.Header.Set("Authorization", "Bearer "+token)
	request.Header.Set("X-Remote-Address", remote)
	request.Header.Set("X-Client-User-Agent", userAgent)
	response, err := client.Do(request)
	if err != nil {
		return d, err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return d, fmt.Errorf("decision server answered %s", response.Status)
	}
	if err := json.NewDecoder(io.LimitReader(response.Body, 1<<20)).Decode(&d); err != nil {
		return d, err
	}
	return d, nil
}
