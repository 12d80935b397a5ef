package words

// Ones and Highs are a byte repeated in each of a uint64's eight: a
// constant times Ones repeats it, and Highs selects each byte's high bit.
const (
	Ones  = 0x0101010101010101
	Highs = 0x8080808080808080
)

// Load returns s[i:i+8] as a little-endian uint64 (one load).
func Load(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// ASCII reports whether s is all ASCII.
func ASCII(s string) bool {
	var acc uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		acc |= Load(s, i)
	}
	for ; i < len(s); i++ {
		acc |= uint64(s[i])
	}
	return acc&Highs == 0
}

// Scan reports whether s has no control character (a byte below 0x20:
// JSON forbids them unescaped in a string) and whether it is all ASCII.
func Scan(s string) (printable, ascii bool) {
	var acc, ctl uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := Load(s, i)
		acc |= x
		ctl |= (x - 0x20*Ones) &^ x // exact: a borrow starts only at a byte below 0x20
	}
	for ; i < len(s); i++ {
		acc |= uint64(s[i])
		if s[i] < 0x20 {
			ctl = Highs
		}
	}
	return ctl&Highs == 0, acc&Highs == 0
}
