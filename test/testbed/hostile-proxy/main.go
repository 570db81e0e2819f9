// Command hostile-proxy is the "hostile remote" of the controller's fault
// tests. It is a misbehaving network element, not a fake API server: a TLS
// reverse proxy on 127.0.0.1 in front of a real kube-apiserver of the test
// bed that forwards everything until the test tells it, over a plain-HTTP
// control port, to rewrite the answers: JSON of the wrong shape, non-UTF-8
// errors, endless or huge lists, hostile endpoint addresses, stalled or
// never-answered requests. Whatever it does not rewrite is the real server's
// answer, so between faults the controller sees real resourceVersions,
// watches and errors.
//
// Usage:
//
//	hostile-proxy --upstream-kubeconfig FILE --state-dir DIR [--claim-network NET]
//
// It writes DIR/ca.crt (the CA of its serving certificate for 127.0.0.1),
// then DIR/ports ("proxy=<port>\ncontrol=<port>\n"). Control API:
//
//	POST /mode?name=<mode>[&match=<substring>]   200 "ok"; 400 for an unknown mode
//	GET  /stats                                  {"<mode>": <requests seen>, ...}
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	hugeListItems  = 3200     // × 64 KiB of padding: about 200 MiB
	paddingSize    = 64 << 10 // per huge-list item
	manyObjects    = 100000
	flushThreshold = 64 << 10    // generated bodies go out in pieces of this size
	writeGrace     = time.Minute // a client that stops reading is given up on after this
	maxRewriteBody = 256 << 20   // an upstream answer decoded to be rewritten
	epoch          = "1970-01-01T00:00:00Z"
	networkLabel   = "topology.istio.io/network"
	stalledPrefix  = 10 // bytes of the upstream answer a stalled request gets
	drainLimit     = 16 << 20
)

// handler answers one request under a mode; it may forward it untouched.
type handler func(p *proxy, x *exchange)

var modes = map[string]handler{
	"pass":              (*proxy).pass,
	"wrong-types":       (*proxy).wrongTypes,
	"latin1-error":      (*proxy).latin1Error,
	"latin1-status":     (*proxy).latin1Status,
	"retry-after":       (*proxy).retryAfter,
	"endless-continue":  (*proxy).endlessContinue,
	"huge-list":         (*proxy).hugeList,
	"many-objects":      (*proxy).manyObjects,
	"hostile-addresses": (*proxy).hostileAddresses,
	"stall":             (*proxy).stall,
	"blackhole":         (*proxy).blackhole,
}

// Valid JSON, wrong shape: each probes a different assumption of a decoder
// (top-level type, items type, metadata field types, item field types).
var wrongLists = []string{
	`[]`,
	`{"kind":"List","metadata":{"resourceVersion":"1"},"items":{}}`,
	`{"metadata":[],"items":[]}`,
	`{"metadata":{"resourceVersion":12,"continue":7},"items":[1,"x",null,{"metadata":"oops"},{"metadata":{"name":5,"namespace":[],"labels":"x","resourceVersion":{}}}]}`,
	`"text"`,
	`null`,
	`{"metadata":{"resourceVersion":"1"},"items":[{"metadata":{"name":"a","namespace":"b"},"spec":[],"endpoints":{},"ports":"x","addressType":7}]}`,
}

var wrongEvents = []string{
	`{"type":"ADDED","object":[]}`,
	`{"type":7,"object":{}}`,
	`[]`,
	`{"type":"ADDED","object":{"metadata":{"name":[],"resourceVersion":5}}}`,
	`{"type":"ERROR","object":{"code":"x","message":5}}`,
	`{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":{}}}}`,
}

// Addresses no endpoint of a remote cluster may ever be routed to: loopback,
// the cloud metadata service, unspecified, multicast, link-local (and IPv6
// ones in IPv4 slices).
var hostileIPs = []string{"127.0.0.1", "169.254.169.254", "0.0.0.0", "224.0.0.1", "::1", "fe80::1"}

// Raw Latin-1 bytes (0xE9, 0xAB, 0xBB), as a misconfigured front end sends them.
const latin1Page = "<html><body>Service indisponible : d\xe9faillance du proxy \xab amont \xbb</body></html>\n"

// Invalid UTF-8 inside a JSON string, and a reason that is not a string.
const latin1Status = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",` +
	"\"message\":\"erreur interne : donn\xe9es \xff illisibles\",\"reason\":500,\"code\":500}\n"

const tooManyRequests = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",` +
	`"message":"Too many requests, please try again later.","reason":"TooManyRequests",` +
	`"details":{"retryAfterSeconds":999999999},"code":429}` + "\n"

var errModeChanged = errors.New("mode changed")

func main() {
	kubeconfig := flag.String("upstream-kubeconfig", "", "admin kubeconfig of the API server to front (data embedded)")
	stateDir := flag.String("state-dir", "", "folder for ca.crt and ports")
	claim := flag.String("claim-network", "cluster1-network", "network the hostile-addresses mode claims for istio-system")
	idle := flag.Duration("idle-timeout", 2*time.Minute, "how long a client's connection may sit idle before the proxy closes it")
	flag.Parse()
	log.SetPrefix("hostile-proxy: ")
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	if *kubeconfig == "" || *stateDir == "" {
		log.Fatal("--upstream-kubeconfig and --state-dir are required")
	}
	if err := run(*kubeconfig, *stateDir, *claim, *idle); err != nil {
		log.Fatal(err)
	}
}

func run(kubeconfig, stateDir, claim string, idleTimeout time.Duration) error {
	upstream, transport, err := upstreamClient(kubeconfig)
	if err != nil {
		return err
	}
	serving, caPEM, err := servingCertificate()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(stateDir, "ca.crt"), caPEM, 0o644); err != nil {
		return err
	}

	p := newProxy(upstream, transport, claim)
	proxyListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	controlListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	proxyServer := &http.Server{
		Handler:   p,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{serving}, MinVersion: tls.VersionTLS12},
		// HTTP/1.1 only, as the controller's client speaks it: a stall or a
		// cut then holds or drops a whole connection, not one stream.
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       idleTimeout,
	}
	controlServer := &http.Server{Handler: p.controlHandler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 2)
	go func() { served <- proxyServer.ServeTLS(proxyListener, "", "") }()
	go func() { served <- controlServer.Serve(controlListener) }()

	proxyPort := proxyListener.Addr().(*net.TCPAddr).Port
	controlPort := controlListener.Addr().(*net.TCPAddr).Port
	ports := fmt.Sprintf("proxy=%d\ncontrol=%d\n", proxyPort, controlPort)
	// Renamed into place so a reader polling for the file never sees half of it.
	tmp := filepath.Join(stateDir, ".ports.tmp")
	if err := os.WriteFile(tmp, []byte(ports), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(stateDir, "ports")); err != nil {
		return err
	}
	log.Printf("proxy https://127.0.0.1:%d -> %s, control http://127.0.0.1:%d, mode pass",
		proxyPort, upstream, controlPort)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	select {
	case <-ctx.Done():
		log.Printf("signal: stopping")
	case err := <-served:
		return err
	}
	// Close, not Shutdown: stalled and black-holed requests would never drain.
	proxyServer.Close()
	controlServer.Close()
	return nil
}

// ---------------------------------------------------------------------------
// Upstream: the test bed's admin kubeconfig, parsed just enough.

func upstreamClient(path string) (*url.URL, *http.Transport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		key, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch key {
		case "server", "certificate-authority-data", "client-certificate-data", "client-key-data":
			if _, seen := fields[key]; !seen { // the first cluster and user
				fields[key] = strings.Trim(strings.TrimSpace(value), `"'`)
			}
		}
	}
	decoded := map[string][]byte{}
	for _, key := range []string{"certificate-authority-data", "client-certificate-data", "client-key-data"} {
		if fields[key] == "" {
			return nil, nil, fmt.Errorf("%s: no %s (the certificates must be embedded)", path, key)
		}
		if decoded[key], err = base64.StdEncoding.DecodeString(fields[key]); err != nil {
			return nil, nil, fmt.Errorf("%s: %s: %v", path, key, err)
		}
	}
	server, err := url.Parse(fields["server"])
	if err != nil || server.Scheme != "https" || server.Host == "" {
		return nil, nil, fmt.Errorf("%s: server %q is not an https URL", path, fields["server"])
	}
	// Loopback only: this tool must never become a relay to anything else.
	if ip := net.ParseIP(server.Hostname()); server.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, nil, fmt.Errorf("%s: server %s is not on loopback", path, server)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(decoded["certificate-authority-data"]) {
		return nil, nil, fmt.Errorf("%s: no certificate in certificate-authority-data", path)
	}
	identity, err := tls.X509KeyPair(decoded["client-certificate-data"], decoded["client-key-data"])
	if err != nil {
		return nil, nil, fmt.Errorf("%s: client certificate: %v", path, err)
	}
	transport := &http.Transport{
		// The API server is verified against the test bed's CA; the proxy
		// acts upstream as itself (the kubeconfig's admin).
		TLSClientConfig:     &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{identity}, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}
	return server, transport, nil
}

// servingCertificate makes a fresh CA and a certificate for 127.0.0.1 it
// signs; the CA's PEM is what the test puts in its kubeconfig.
func servingCertificate() (tls.Certificate, []byte, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caTemplate := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "hostile-proxy-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	template := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "hostile-proxy"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(30 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caPEM, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err)
	}
	return n
}

// ---------------------------------------------------------------------------
// Mode and control API.

type setting struct{ mode, match string }

type control struct {
	mu      sync.Mutex
	current setting
	changed chan struct{} // closed (and replaced) at every change: ends older streams
	seen    map[string]int64
}

// begin counts a request under the current mode and returns the mode and the
// channel that says it is over.
func (c *control) begin() (setting, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[c.current.mode]++
	return c.current, c.changed
}

func (c *control) set(s setting) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s == c.current {
		return
	}
	log.Printf("mode %s (match %q) -> %s (match %q)", c.current.mode, c.current.match, s.mode, s.match)
	close(c.changed)
	c.changed = make(chan struct{})
	c.current = s
}

func (p *proxy) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /mode", func(w http.ResponseWriter, r *http.Request) {
		name := r.FormValue("name")
		if _, ok := modes[name]; !ok {
			http.Error(w, fmt.Sprintf("unknown mode %q", name), http.StatusBadRequest)
			return
		}
		p.control.set(setting{mode: name, match: r.FormValue("match")})
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		p.control.mu.Lock()
		body, err := json.Marshal(p.control.seen)
		p.control.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(append(body, '\n'))
	})
	return mux
}

// ---------------------------------------------------------------------------
// Requests.

type proxy struct {
	upstream *url.URL
	client   *http.Client
	reverse  *httputil.ReverseProxy
	claim    string
	control  control
	padding  []byte
	// Rotations across requests.
	wrongList, addressTurn, continueTurn atomic.Uint64
}

func newProxy(upstream *url.URL, transport *http.Transport, claim string) *proxy {
	p := &proxy{
		upstream: upstream,
		// Redirects are answers too: they go back to the client as they are.
		client: &http.Client{Transport: transport, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		claim:   claim,
		control: control{current: setting{mode: "pass"}, changed: make(chan struct{}), seen: map[string]int64{}},
		padding: bytes.Repeat([]byte("x"), paddingSize),
	}
	for name := range modes {
		p.control.seen[name] = 0
	}
	p.reverse = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.Out.Header.Del("Authorization") // upstream, the proxy is its own identity
		},
		Transport:     transport,
		FlushInterval: -1, // watch events go out as they come
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				panic(http.ErrAbortHandler) // cut by a mode change, or the client left
			}
			log.Printf("upstream: %s %s: %v", r.Method, r.URL.Path, err)
			http.Error(w, "hostile-proxy: upstream: "+err.Error(), http.StatusBadGateway)
		},
	}
	return p
}

// exchange is one request being answered.
type exchange struct {
	w   http.ResponseWriter
	r   *http.Request
	ctx context.Context // cancelled when the client leaves or the mode changes
	cut *cutter
	buf []byte // a generated body not yet written
}

// cutter owns the connection's write deadline: a mode change sets it in the
// past so that a write blocked on a client that does not read fails too. It
// is put back before the connection can serve another request.
type cutter struct {
	mu            sync.Mutex
	rc            *http.ResponseController
	done, touched bool
	cut           bool
}

func (c *cutter) now() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done {
		c.cut, c.touched = true, true
		c.rc.SetWriteDeadline(time.Now())
	}
}

func (c *cutter) extend() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done && !c.cut {
		c.touched = true
		c.rc.SetWriteDeadline(time.Now().Add(writeGrace))
	}
}

func (c *cutter) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done = true
	if c.touched {
		c.rc.SetWriteDeadline(time.Time{})
	}
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s, changed := p.control.begin()
	ctx, cancel := context.WithCancelCause(r.Context())
	cut := &cutter{rc: http.NewResponseController(w)}
	defer cut.finish()
	defer cancel(nil)
	go func() {
		select {
		case <-changed:
			cancel(errModeChanged)
			cut.now()
		case <-ctx.Done():
		}
	}()
	x := &exchange{w: w, r: r.WithContext(ctx), ctx: ctx, cut: cut}
	if s.mode == "pass" || isDiscovery(r.URL.Path) || !strings.Contains(r.URL.Path, s.match) {
		p.pass(x)
		return
	}
	log.Printf("%s: %s %s", s.mode, r.Method, r.URL.RequestURI())
	modes[s.mode](p, x)
}

// fail ends a response that cannot be completed: the connection is dropped
// mid-answer, as when a network element goes away (a no-op for a client
// that already left).
func (x *exchange) fail() {
	panic(http.ErrAbortHandler)
}

func (p *proxy) pass(x *exchange) { p.reverse.ServeHTTP(x.w, x.r) }

func (p *proxy) wrongTypes(x *exchange) {
	switch {
	case isWatch(x.r):
		x.begin(http.StatusOK, "application/json")
		for _, event := range wrongEvents {
			if !x.write([]byte(event+"\n")) || !x.flush() {
				x.fail()
			}
		}
	case isList(x.r):
		body := wrongLists[(p.wrongList.Add(1)-1)%uint64(len(wrongLists))]
		x.answer(http.StatusOK, "application/json", body+"\n")
	default:
		p.pass(x)
	}
}

func (p *proxy) latin1Error(x *exchange) {
	drain(x.r)
	x.answer(http.StatusServiceUnavailable, "text/html; charset=iso-8859-1", latin1Page)
}

func (p *proxy) latin1Status(x *exchange) {
	if !isList(x.r) {
		p.pass(x)
		return
	}
	x.answer(http.StatusInternalServerError, "application/json", latin1Status)
}

func (p *proxy) retryAfter(x *exchange) {
	drain(x.r)
	x.w.Header().Set("Retry-After", "999999999")
	x.answer(http.StatusTooManyRequests, "application/json", tooManyRequests)
}

func (p *proxy) endlessContinue(x *exchange) {
	if !isList(x.r) {
		p.pass(x)
		return
	}
	query := x.r.URL.Query()
	query.Del("continue") // every page is the first page again
	p.rewriteList(x, query, func(list map[string]any) {
		if meta, ok := list["metadata"].(map[string]any); ok {
			n := p.continueTurn.Add(1)
			token := fmt.Sprintf(`{"v":"meta.k8s.io/v1","rv":%d,"start":"hostile-%d\u0000"}`, n, n)
			meta["continue"] = base64.RawURLEncoding.EncodeToString([]byte(token))
		}
	})
}

func (p *proxy) hugeList(x *exchange) {
	if !isList(x.r) {
		p.pass(x)
		return
	}
	// Generated piece by piece: the proxy never holds more than one item.
	x.begin(http.StatusOK, "application/json")
	ok := x.write([]byte(`{"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[`))
	var item []byte
	for i := 0; ok && i < hugeListItems; i++ {
		item = item[:0]
		if i > 0 {
			item = append(item, ',')
		}
		item = fmt.Appendf(item, `{"metadata":{"name":"big-%d","namespace":"hostile"},"spec":{"padding":"`, i)
		ok = x.write(item) && x.write(p.padding) && x.write([]byte(`"}}`))
	}
	if !ok || !x.write([]byte("]}\n")) || !x.flush() {
		x.fail()
	}
}

func (p *proxy) manyObjects(x *exchange) {
	t := parsePath(x.r.URL.Path)
	if !isList(x.r) || t.namespace != "" {
		p.pass(x)
		return
	}
	var head string
	var item func(b []byte, n int) []byte
	switch {
	case t.group == "" && t.resource == "services":
		head = `{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"%s"},"items":[`
		item = func(b []byte, n int) []byte {
			return fmt.Appendf(b, `{"metadata":{"name":"svc-%d","namespace":"hostile-%d","resourceVersion":"1",`+
				`"labels":{"solo.io/service-scope":"global"}},"spec":{"selector":{"app":"x"},`+
				`"ports":[{"name":"http","port":80}]}}`, n, n%100)
		}
	case t.group == "discovery.k8s.io" && t.resource == "endpointslices":
		head = `{"kind":"EndpointSliceList","apiVersion":"discovery.k8s.io/v1","metadata":{"resourceVersion":"%s"},"items":[`
		item = func(b []byte, n int) []byte {
			// From 10.200.0.1 on: 10.200.0.0/16 holds 65,536 addresses, the
			// rest go on into 10.201, so no two slices share one.
			return fmt.Appendf(b, `{"metadata":{"name":"svc-%d-hostile","namespace":"hostile-%d","resourceVersion":"1",`+
				`"labels":{"kubernetes.io/service-name":"svc-%d","endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io"}},`+
				`"addressType":"IPv4","endpoints":[{"addresses":["10.%d.%d.%d"],"conditions":{"ready":true},"nodeName":"node-us-west-2a-0"}],`+
				`"ports":[{"name":"http","port":8080,"protocol":"TCP"}]}`,
				n, n%100, n, 200+(n+1)>>16, (n+1)>>8&255, (n+1)&255)
		}
	default:
		p.pass(x)
		return
	}
	// The list's resourceVersion is the server's current one, so the watch
	// that follows (which passes) starts from a version the server knows.
	x.begin(http.StatusOK, "application/json")
	ok := x.write(fmt.Appendf(nil, head, p.currentVersion(x)))
	var b []byte
	for n := 0; ok && n < manyObjects; n++ {
		b = b[:0]
		if n > 0 {
			b = append(b, ',')
		}
		ok = x.write(item(b, n))
	}
	if !ok || !x.write([]byte("]}\n")) || !x.flush() {
		x.fail()
	}
}

func (p *proxy) hostileAddresses(x *exchange) {
	t := parsePath(x.r.URL.Path)
	var rewrite func(object map[string]any)
	switch {
	case t.group == "discovery.k8s.io" && t.resource == "endpointslices":
		rewrite = p.rewriteSlice
	case t.group == "" && t.resource == "namespaces":
		rewrite = p.claimNetwork
	}
	switch {
	case rewrite != nil && isList(x.r):
		p.rewriteList(x, x.r.URL.Query(), func(list map[string]any) {
			items, _ := list["items"].([]any)
			for _, item := range items {
				if object, ok := item.(map[string]any); ok {
					rewrite(object)
				}
			}
		})
	case rewrite != nil && isWatch(x.r):
		p.rewriteWatch(x, rewrite)
	default:
		p.pass(x)
	}
}

func (p *proxy) rewriteSlice(slice map[string]any) {
	stampEpoch(slice)
	endpoints, _ := slice["endpoints"].([]any)
	for _, e := range endpoints {
		endpoint, _ := e.(map[string]any)
		addresses, _ := endpoint["addresses"].([]any)
		for i := range addresses {
			addresses[i] = hostileIPs[(p.addressTurn.Add(1)-1)%uint64(len(hostileIPs))]
		}
	}
}

// claimNetwork makes the remote claim the local cluster's network, so its
// endpoints would look reachable without a gateway.
func (p *proxy) claimNetwork(namespace map[string]any) {
	stampEpoch(namespace)
	meta, _ := namespace["metadata"].(map[string]any)
	if meta == nil || meta["name"] != "istio-system" {
		return
	}
	labels, _ := meta["labels"].(map[string]any)
	if labels == nil {
		labels = map[string]any{}
		meta["labels"] = labels
	}
	labels[networkLabel] = p.claim
}

func stampEpoch(object map[string]any) {
	if meta, ok := object["metadata"].(map[string]any); ok {
		meta["creationTimestamp"] = epoch
	}
}

func (p *proxy) stall(x *exchange) {
	resp, err := p.forward(x, x.r.URL.RawQuery, false)
	if err == nil {
		copyHeaders(x.w.Header(), resp.Header, false)
	}
	x.w.WriteHeader(http.StatusOK)
	x.cut.rc.Flush()
	if err == nil {
		head := make([]byte, stalledPrefix)
		n, _ := io.ReadFull(resp.Body, head)
		resp.Body.Close()
		x.w.Write(head[:n])
		x.cut.rc.Flush()
	}
	<-x.ctx.Done()
	x.fail()
}

func (p *proxy) blackhole(x *exchange) {
	drain(x.r) // else the server does not notice the client leaving
	<-x.ctx.Done()
	x.fail()
}

// ---------------------------------------------------------------------------
// Forwarding with rewrites.

// forward sends the request upstream as the proxy; decodable asks for an
// answer this proxy can decode (JSON, not protobuf; not compressed).
func (p *proxy) forward(x *exchange, rawQuery string, decodable bool) (*http.Response, error) {
	target := *p.upstream
	target.Path, target.RawPath, target.RawQuery = x.r.URL.Path, x.r.URL.RawPath, rawQuery
	body := io.Reader(x.r.Body)
	if x.r.ContentLength == 0 {
		body = http.NoBody
	}
	out, err := http.NewRequestWithContext(x.ctx, x.r.Method, target.String(), body)
	if err != nil {
		return nil, err
	}
	out.ContentLength = x.r.ContentLength
	copyHeaders(out.Header, x.r.Header, false)
	out.Header.Del("Authorization")
	if decodable {
		out.Header.Set("Accept", "application/json")
		out.Header.Del("Accept-Encoding")
	}
	return p.client.Do(out)
}

func (p *proxy) rewriteList(x *exchange, query url.Values, rewrite func(list map[string]any)) {
	resp, err := p.forward(x, query.Encode(), true)
	if err != nil {
		p.upstreamFailed(x, err)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRewriteBody+1))
	if err != nil || len(body) > maxRewriteBody {
		p.upstreamFailed(x, fmt.Errorf("reading the answer: %v (%d bytes)", err, len(body)))
		return
	}
	var list map[string]any
	if resp.StatusCode == http.StatusOK && decode(body, &list) == nil {
		rewrite(list)
		body = encode(list)
	}
	copyHeaders(x.w.Header(), resp.Header, true)
	x.w.WriteHeader(resp.StatusCode)
	x.w.Write(body)
}

// rewriteWatch rewrites a watch stream event by event (one JSON object a
// line, as the API server frames them).
func (p *proxy) rewriteWatch(x *exchange, rewrite func(object map[string]any)) {
	resp, err := p.forward(x, x.r.URL.RawQuery, true)
	if err != nil {
		p.upstreamFailed(x, err)
		return
	}
	defer resp.Body.Close()
	copyHeaders(x.w.Header(), resp.Header, true)
	x.w.WriteHeader(resp.StatusCode)
	x.buf = x.buf[:0]
	if !x.flush() {
		x.fail()
	}
	lines := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		line, err := lines.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var event map[string]any
			if resp.StatusCode == http.StatusOK && decode(line, &event) == nil {
				object, _ := event["object"].(map[string]any)
				if t := event["type"]; object != nil && (t == "ADDED" || t == "MODIFIED" || t == "DELETED") {
					rewrite(object)
				}
				line = encode(event)
			}
			if !x.write(line) || !x.flush() {
				x.fail()
			}
		}
		if err == io.EOF {
			return // the server ended the watch: so does the proxy
		}
		if err != nil {
			x.fail()
		}
	}
}

// currentVersion is the server's resourceVersion for the listed resource
// ("1" when it cannot be had).
func (p *proxy) currentVersion(x *exchange) string {
	resp, err := p.forward(x, "limit=1", true)
	if err != nil {
		return "1"
	}
	defer resp.Body.Close()
	var list struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&list) != nil ||
		list.Metadata.ResourceVersion == "" {
		return "1"
	}
	return list.Metadata.ResourceVersion
}

func (p *proxy) upstreamFailed(x *exchange, err error) {
	if x.ctx.Err() != nil {
		x.fail() // cut by a mode change, or the client left
	}
	log.Printf("upstream: %s %s: %v", x.r.Method, x.r.URL.Path, err)
	http.Error(x.w, "hostile-proxy: upstream: "+err.Error(), http.StatusBadGateway)
}

// ---------------------------------------------------------------------------
// Generated answers.

func (x *exchange) answer(status int, contentType, body string) {
	x.w.Header().Set("Content-Type", contentType)
	x.w.WriteHeader(status)
	io.WriteString(x.w, body)
}

func (x *exchange) begin(status int, contentType string) {
	x.w.Header().Set("Content-Type", contentType)
	x.w.WriteHeader(status)
	x.buf = x.buf[:0]
}

// write adds to the body and sends it on once a piece is full; false when
// the client left or the mode changed.
func (x *exchange) write(b []byte) bool {
	x.buf = append(x.buf, b...)
	if len(x.buf) >= flushThreshold {
		return x.flush()
	}
	return true
}

func (x *exchange) flush() bool {
	if x.ctx.Err() != nil {
		return false
	}
	x.cut.extend()
	if _, err := x.w.Write(x.buf); err != nil {
		return false
	}
	x.buf = x.buf[:0]
	return x.cut.rc.Flush() == nil
}

// ---------------------------------------------------------------------------
// Helpers.

// A list is a GET of a collection without watch; a watch is a GET with
// watch=1 or watch=true.
func isWatch(r *http.Request) bool {
	w := r.URL.Query().Get("watch")
	return r.Method == http.MethodGet && (w == "1" || w == "true")
}

func isList(r *http.Request) bool {
	return r.Method == http.MethodGet && !isWatch(r) && parsePath(r.URL.Path).collection
}

// isDiscovery: the documents clients read to learn what the server offers
// always pass, so that a fault hits the resources, not the client's setup.
func isDiscovery(path string) bool {
	segments := strings.Split(strings.Trim(path, "/"), "/")
	switch segments[0] {
	case "version", "openapi":
		return true
	case "api":
		return len(segments) <= 2 // /api, /api/v1
	case "apis":
		return len(segments) <= 3 // /apis, /apis/<group>, /apis/<group>/<version>
	}
	return false
}

type target struct {
	group, namespace, resource string
	collection                 bool
}

func parsePath(path string) target {
	segments := strings.Split(strings.Trim(path, "/"), "/")
	var t target
	var rest []string
	switch {
	case len(segments) >= 2 && segments[0] == "api":
		rest = segments[2:]
	case len(segments) >= 3 && segments[0] == "apis":
		t.group, rest = segments[1], segments[3:]
	default:
		return t
	}
	switch {
	case len(rest) == 1:
		t.resource, t.collection = rest[0], true
	case len(rest) == 3 && rest[0] == "namespaces":
		t.namespace, t.resource, t.collection = rest[1], rest[2], true
	}
	return t
}

var hopByHop = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Proxy-Connection": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// copyHeaders copies end-to-end headers; rewritten bodies drop the length
// (and the encoding, which the transport already undid).
func copyHeaders(dst, src http.Header, rewritten bool) {
	for key, values := range src {
		if hopByHop[key] || (rewritten && (key == "Content-Length" || key == "Content-Encoding")) {
			continue
		}
		dst[key] = append([]string(nil), values...)
	}
}

func decode(data []byte, v any) error {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber() // resourceVersions and ports come back as they were
	return decoder.Decode(v)
}

// encode ends with a newline, as the API server's watch framing does.
func encode(v any) []byte {
	var out bytes.Buffer
	encoder := json.NewEncoder(&out)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(v); err != nil {
		panic(err) // decoded JSON always encodes
	}
	return out.Bytes()
}

// drain reads a request body the proxy does not forward (bounded).
func drain(r *http.Request) {
	io.Copy(io.Discard, io.LimitReader(r.Body, drainLimit))
}
