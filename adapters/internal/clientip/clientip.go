// Package clientip names the client behind an HTTP request for per-client
// limits (the web chat's, the admin's brake): its address, read from proxy
// headers only when the connection comes from a proxy the operator trusts.
package clientip

import (
	"net/http"
	"net/netip"
	"strings"
)

// Key names the client of r: its IP address, or for IPv6 its /64 (one
// subscriber's prefix), as a string fit for a map key.
func Key(r *http.Request, trusted []netip.Prefix) string {
	ip := IP(r, trusted)
	if !ip.IsValid() {
		return r.RemoteAddr
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// IP is the address of the client behind r. It is the connection's address
// unless that is a trusted proxy: then the rightmost address of
// X-Forwarded-For that is not a trusted proxy (everything left of it was
// written by the client and may be made up), or else X-Real-IP.
func IP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := ap.Addr().Unmap().WithZone("")
	if !isTrusted(addr, trusted) {
		return addr
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	if len(hops) == 0 {
		if v := r.Header.Get("X-Real-IP"); v != "" {
			if a, err := netip.ParseAddr(strings.TrimSpace(v)); err == nil {
				return a.Unmap().WithZone("")
			}
		}
		return addr
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			// Our proxies write addresses: garbage came from the client.
			return addr
		}
		a = a.Unmap().WithZone("")
		if !isTrusted(a, trusted) {
			return a
		}
		addr = a
	}
	return addr
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
