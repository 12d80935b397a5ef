package automate

import (
	"strings"
	"testing"
)

// naiveGroups is what gate.scan must return: for each group, whether the
// text with ASCII letters lowered contains one of its keywords.
func naiveGroups(text string) uint8 {
	lower := string(lowerASCII(nil, text))
	var found uint8
	groups := make([][]string, 0, len(urgentKinds)+1)
	for _, u := range urgentKinds {
		groups = append(groups, u.keys)
	}
	groups = append(groups, partnershipKeys)
	for i, keys := range groups {
		for _, k := range keys {
			if strings.Contains(lower, k) {
				found |= 1 << i
			}
		}
	}
	return found
}

var gateSeeds = []string{
	"payment deducted but no order", "Mera ORDER cancel kar do", "आग लग गई charger में", "\xff\xfe",
	"caught fire", "Brand Deal?", "PR PACKAGE pls", "सहयोग करें", "स्पॉन्सर", "kat ga", "ka", "",
	"i want to die", "change my address", "love this colour, so pretty", "पैसे कट गए ऑर्डर नहीं",
	"partnerpartner", "xxsponsorxx", "BURN", "itchy rash", "co", "colla", "collab",
}

// TestKeyGateMatchesContains: the one-pass gate finds exactly the groups
// a search for each keyword finds.
func TestKeyGateMatchesContains(t *testing.T) {
	for _, s := range gateSeeds {
		if got, want := gate.scan(s), naiveGroups(s); got != want {
			t.Errorf("scan(%q) = %08b, want %08b", s, got, want)
		}
	}
}

func FuzzKeyGate(f *testing.F) {
	for _, s := range gateSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := gate.scan(s), naiveGroups(s); got != want {
			t.Fatalf("scan(%q) = %08b, want %08b", s, got, want)
		}
	})
}
