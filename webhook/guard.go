// Package webhook owns outbound HTTP to the firm's other systems: the
// guarded client every outgoing call goes through, and the worker that
// delivers the store's webhook queue with signatures and retries.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Refusal reasons: why the guard will not connect to an address. They are
// stable words so the store can translate them and tests can check them.
const (
	ReasonLoopback    = "loopback"
	ReasonLinkLocal   = "link_local"
	ReasonPrivate     = "private"
	ReasonUnspecified = "unspecified"
	ReasonMulticast   = "multicast"
	ReasonReserved    = "reserved"
	ReasonScheme      = "scheme"
	ReasonHost        = "host"
	ReasonResolve     = "resolve"
	ReasonRedirects   = "redirects"
)

// Refused is the guard's refusal to reach a target, with the reason and
// the host and address that caused it, so the person who typed the URL
// learns what is wrong with it.
type Refused struct {
	Reason string
	Host   string
	Addr   netip.Addr
}

// Error describes the refusal for logs and the deliveries log.
func (e *Refused) Error() string {
	what := map[string]string{
		ReasonLoopback:    "a loopback address",
		ReasonLinkLocal:   "a link-local address (such as 169.254.169.254, cloud metadata)",
		ReasonPrivate:     "a private network address",
		ReasonUnspecified: "an unspecified address",
		ReasonMulticast:   "a multicast address",
		ReasonReserved:    "a reserved address",
		ReasonScheme:      "not an http:// or https:// address",
		ReasonHost:        "an address without a host name",
		ReasonResolve:     "a host name that does not resolve",
		ReasonRedirects:   "a chain of too many redirects",
	}[e.Reason]
	s := "refused: " + e.Host + " is " + what
	if e.Addr.IsValid() && e.Addr.String() != e.Host {
		s = "refused: " + e.Host + " resolves to " + e.Addr.String() + ", " + what
	}
	if e.Reason == ReasonLoopback || e.Reason == ReasonPrivate || e.Reason == ReasonLinkLocal {
		s += " (allow it in [webhooks] allow if it is a system on the office network)"
	}
	return s
}

// RefusalReason is the reason word; the store reads it through an
// interface so it needs no import of this package.
func (e *Refused) RefusalReason() string { return e.Reason }

// reserved are ranges no firm system lives on that the standard library's
// predicates do not cover: "this network", carrier-grade NAT, IETF
// protocol assignments, benchmarking, class E and broadcast, and the IPv6
// translation and site-local prefixes that can embed an internal address.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("fec0::/10"),
}

// Classify returns why an address is not for outgoing calls, or "" for a
// public unicast address.
func Classify(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return ReasonHost
	case ip.IsUnspecified():
		return ReasonUnspecified
	case ip.IsLoopback():
		return ReasonLoopback
	case ip.IsLinkLocalUnicast():
		return ReasonLinkLocal
	case ip.IsMulticast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return ReasonMulticast
	case ip.IsPrivate():
		return ReasonPrivate
	}
	for _, p := range reserved {
		if p.Contains(ip) {
			return ReasonReserved
		}
	}
	return ""
}

// Guard decides which hosts outgoing calls may reach and makes the HTTP
// client that enforces it at dial time, after DNS resolution, so neither a
// name pointing at an internal address nor DNS rebinding nor a redirect can
// reach the server's own network.
type Guard struct {
	allowNets  []netip.Prefix
	allowHosts map[string]bool
	// LookupIP resolves a host name; default net.DefaultResolver. Tests
	// replace it to make a name resolve to a private address.
	LookupIP func(ctx context.Context, host string) ([]netip.Addr, error)
	// Timeout bounds a whole call, redirects and body included (default 10s).
	Timeout time.Duration
	// MaxResponse is how much of a response body is read (default 64 KiB).
	MaxResponse int64
	// MaxRedirects is how many redirects a call follows (default 3).
	MaxRedirects int
}

// NewGuard returns a guard whose allow-list holds the given IP addresses,
// CIDR prefixes and host names (the admin's LAN systems); everything else
// must be a public address.
func NewGuard(allow []string) (*Guard, error) {
	g := &Guard{allowHosts: map[string]bool{}}
	for _, a := range allow {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		if p, err := netip.ParsePrefix(a); err == nil {
			g.allowNets = append(g.allowNets, p.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(a); err == nil {
			g.allowNets = append(g.allowNets, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		h := strings.ToLower(strings.TrimSuffix(a, "."))
		if strings.ContainsAny(h, "/:@ ") {
			return nil, fmt.Errorf("%q is not an IP address, a CIDR prefix or a host name", a)
		}
		g.allowHosts[h] = true
	}
	return g, nil
}

// check decides one resolved address of host.
func (g *Guard) check(host string, ip netip.Addr) error {
	ip = ip.Unmap()
	if g.allowHosts[normHost(host)] {
		return nil
	}
	for _, p := range g.allowNets {
		if p.Contains(ip) {
			return nil
		}
	}
	if r := Classify(ip); r != "" {
		return &Refused{Reason: r, Host: host, Addr: ip}
	}
	return nil
}

func normHost(h string) string { return strings.ToLower(strings.TrimSuffix(h, ".")) }

func (g *Guard) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{ip}, nil
	}
	if g.LookupIP != nil {
		return g.LookupIP(ctx, host)
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// resolve returns the addresses of host the guard lets a call reach, or
// the refusal of the first one when none is allowed.
func (g *Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	ips, err := g.lookup(ctx, host)
	if err != nil || len(ips) == 0 {
		return nil, &Refused{Reason: ReasonResolve, Host: host}
	}
	var ok []netip.Addr
	var first error
	for _, ip := range ips {
		if err := g.check(host, ip); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		ok = append(ok, ip.Unmap())
	}
	if len(ok) == 0 {
		return nil, first
	}
	if first != nil {
		// A name with one internal address among public ones is a
		// rebinding trick or a mistake: refuse it whole.
		return nil, first
	}
	return ok, nil
}

// CheckURL says whether a URL is one the guard would call: http or https,
// with a host whose every address is allowed. It resolves the name, so it
// is for the moment an admin saves a URL; the dial checks again each time.
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return &Refused{Reason: ReasonHost, Host: raw}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return &Refused{Reason: ReasonScheme, Host: raw}
	}
	host := u.Hostname()
	if host == "" {
		return &Refused{Reason: ReasonHost, Host: raw}
	}
	_, err = g.resolve(ctx, host)
	return err
}

// dial connects to host:port through one of its allowed addresses; the
// dialer's Control hook checks the very address the socket connects to.
func (g *Guard) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	ips, err := g.resolve(ctx, host)
	if err != nil {
		return nil, err
	}
	d := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &Refused{Reason: ReasonHost, Host: address}
			}
			return g.check(host, ap.Addr())
		},
	}
	var last error
	for _, ip := range ips {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, last
}

// Client returns an HTTP client that reaches only what the guard allows:
// no proxy from the environment, every dial checked, every redirect
// checked, a bounded number of redirects and an overall timeout.
func (g *Guard) Client() *http.Client {
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	maxRedirects := g.MaxRedirects
	if maxRedirects <= 0 {
		maxRedirects = 3
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           g.dial,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return &Refused{Reason: ReasonRedirects, Host: req.URL.Host}
			}
			return g.CheckURL(req.Context(), req.URL.String())
		},
	}
}

// Result is the outcome of one call: the HTTP status (0 when there was no
// answer), how long it took, the start of the response body and the error.
type Result struct {
	Status   int
	Duration time.Duration
	Body     []byte
	Err      error
}

// OK reports a 2xx answer.
func (r Result) OK() bool { return r.Err == nil && r.Status >= 200 && r.Status < 300 }

// Refusal returns the guard's refusal behind a failed call, if that is
// what it was.
func (r Result) Refusal() *Refused {
	var rf *Refused
	if errors.As(r.Err, &rf) {
		return rf
	}
	return nil
}

// Post sends body to url with the headers through client and reads at
// most MaxResponse bytes of the answer.
func (g *Guard) Post(ctx context.Context, client *http.Client, target string, header http.Header, body []byte) Result {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Result{Err: &Refused{Reason: ReasonHost, Host: target}}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if err := g.CheckURL(ctx, target); err != nil {
		return Result{Err: err, Duration: time.Since(start)}
	}
	resp, err := client.Do(req)
	if err != nil {
		return Result{Err: err, Duration: time.Since(start)}
	}
	defer resp.Body.Close()
	limit := g.MaxResponse
	if limit <= 0 {
		limit = 64 << 10
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	// Drain a little more so the connection can be reused, never much.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	return Result{Status: resp.StatusCode, Duration: time.Since(start), Body: b, Err: err}
}
