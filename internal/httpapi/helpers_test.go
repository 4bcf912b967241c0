package httpapi

import (
	"net/netip"
	"testing"
)

func mustPrefixes(tb testing.TB, cidrs ...string) []netip.Prefix {
	tb.Helper()
	out := make([]netip.Prefix, len(cidrs))
	for i, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = p
	}
	return out
}
