package words

import "testing"

// TestScan: the word-at-a-time tests find a control character or a
// non-ASCII byte wherever it is, and nothing in a string without one.
func TestScan(t *testing.T) {
	base := "abcdefghijklmnopqrstuvw "
	if p, a := Scan(base); !p || !a || !ASCII(base) {
		t.Fatalf("Scan(%q) = %v, %v, ASCII %v; want all true", base, p, a, ASCII(base))
	}
	for n := range len(base) + 1 {
		for pos := range n {
			for _, c := range []byte{0, '\n', 0x1f, 0x80, 0xa0, 0xe0, 0xff} {
				s := []byte(base[:n])
				s[pos] = c
				p, a := Scan(string(s))
				if p != (c >= 0x20) || a != (c < 0x80) || ASCII(string(s)) != a {
					t.Fatalf("Scan(%q) = printable %v, ascii %v; ASCII %v", s, p, a, ASCII(string(s)))
				}
			}
		}
	}
}

func TestLoad(t *testing.T) {
	if got := Load("xx\x01\x02\x03\x04\x05\x06\x07\x08yy", 2); got != 0x0807060504030201 {
		t.Fatalf("Load = %#x", got)
	}
}
