package policy

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	"github.com/livemod/livemod/internal/publicsuffix"
)

// A link is found in the plain form of a message (lower case, homoglyphs
// mapped) after undoing the usual ways of writing one out: "shop dot
// com", "shop(dot)com", "shop[.]com", "shop . com". A host is a link if
// it is a bare IPv4 address (with or without port and path) or a name
// under a public suffix that ICANN manages (publicsuffix), so that
// "e.g" and "node.js" are not links. Letters spaced out to spell an
// address ("w w w . x . c o m") are joined by the normalizer and also
// count as a link.

// link is one link of a message.
type link struct {
	host   string // as written, lower case
	domain string // registrable domain (eTLD+1), or the IP
}

// maxLinks bounds the links looked at in one message.
const maxLinks = 16

// mayHaveLink is the cheap test in front of findLinks: most chat has no
// dot at all.
func mayHaveLink(plain []byte) bool {
	return bytes.IndexByte(plain, '.') >= 0 || bytes.Contains(plain, []byte("dot"))
}

// obfuscations are rewritten to a dot before hosts are looked for.
var obfuscations = [][]byte{
	[]byte(" dot "), []byte("(dot)"), []byte("[dot]"), []byte("{dot}"), []byte("<dot>"),
	[]byte(" (dot) "), []byte(" [dot] "), []byte("[.]"), []byte("(.)"), []byte(" [.] "), []byte(" (.) "), []byte(" . "),
}

// deobfuscate appends plain with the written-out dots undone to dst.
func deobfuscate(dst, plain []byte) []byte {
	for i := 0; i < len(plain); {
		matched := false
		if c := plain[i]; c == ' ' || c == '(' || c == '[' || c == '{' || c == '<' {
			for _, o := range obfuscations {
				if bytes.HasPrefix(plain[i:], o) {
					dst = append(dst, '.')
					i += len(o)
					matched = true
					break
				}
			}
		}
		if !matched {
			dst = append(dst, plain[i])
			i++
		}
	}
	return dst
}

func isHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-'
}

// findLinks appends the links of plain to out. buf is scratch.
func findLinks(out []link, buf *[]byte, plain []byte) []link {
	text := plain
	if bytes.Contains(plain, []byte("dot")) || bytes.Contains(plain, []byte("[.]")) || bytes.Contains(plain, []byte("(.)")) || bytes.Contains(plain, []byte(" . ")) {
		*buf = deobfuscate((*buf)[:0], plain)
		text = *buf
	}
	for i := 0; i < len(text) && len(out) < maxLinks; {
		if !isHostByte(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isHostByte(text[j]) {
			j++
		}
		run := text[i:j]
		prev := byte(0)
		if i > 0 {
			prev = text[i-1]
		}
		i = j
		if prev == '@' || bytes.IndexByte(run, '.') < 0 {
			continue // an email's domain is contact spam's business; a word without a dot is no host
		}
		if j+2 < len(text) && text[j] == ':' && text[j+1] == '/' && text[j+2] == '/' {
			continue // a scheme; the host follows
		}
		host := bytes.Trim(run, ".-")
		if len(host) > 253 {
			continue // longer than any DNS name
		}
		if l, ok := hostLinkCached(host); ok {
			out = append(out, l)
		}
	}
	return out
}

// hostCache remembers the last answers of hostLink: the public suffix
// list is a large table, and looking a host up in it on every message
// of a link spam wave would push the engine's own tables out of the
// cache. A fixed array of slots (by the host's hash), each replaced as a
// whole: its size is its bound.
var hostCache [1024]atomic.Pointer[hostEntry]

type hostEntry struct {
	host string
	l    link
	ok   bool
}

// hostLinkCached is hostLink through hostCache; a host it has seen
// costs no allocation.
func hostLinkCached(host []byte) (link, bool) {
	slot := &hostCache[xxhash.Sum64(host)&1023]
	if e := slot.Load(); e != nil && e.host == string(host) {
		return e.l, e.ok
	}
	h := string(host)
	l, ok := hostLink(h)
	slot.Store(&hostEntry{host: h, l: l, ok: ok})
	return l, ok
}

// hostLink reports whether host names a link, and its domain.
func hostLink(host string) (link, bool) {
	if strings.Count(host, ".") == 3 {
		if ip, err := netip.ParseAddr(host); err == nil && ip.Is4() {
			return link{host: host, domain: host}, true
		}
	}
	dot := strings.LastIndexByte(host, '.')
	if dot < 0 || strings.Contains(host, "..") {
		return link{}, false
	}
	tld := host[dot+1:]
	if len(tld) < 2 || !isLetters(tld) {
		return link{}, false
	}
	if _, icann := publicsuffix.PublicSuffix(host); !icann {
		return link{}, false
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return link{}, false
	}
	return link{host: host, domain: d}, true
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// domainOf returns the registrable domain of a configured allow or block
// entry ("https://www.Shop.in/x" → "shop.in").
func domainOf(entry string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(entry))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/:?#"); i >= 0 {
		s = s[:i]
	}
	s = strings.Trim(s, ".")
	if ip, err := netip.ParseAddr(s); err == nil && ip.Is4() {
		return s, nil
	}
	l, ok := hostLink(s)
	if !ok {
		return "", fmt.Errorf("%q is not a domain under a public suffix (e.g. shopname.in) or an IPv4 address", entry)
	}
	return l.domain, nil
}

func checkDomain(entry string) error {
	_, err := domainOf(entry)
	return err
}
