package classify

import (
	"testing"
	"unsafe"
)

// A kept message or user must not point into the line it was decoded
// from: a ticket would keep the whole frame alive.
func TestKeepOwnsItsStrings(t *testing.T) {
	frame := []byte(`xxstream-1u-42asham-7hello there`)
	str := func(i, j int) string { return unsafe.String(&frame[i], j-i) }
	inFrame := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		lo := uintptr(unsafe.Pointer(&frame[0]))
		return p >= lo && p < lo+uintptr(len(frame))
	}
	m := &Message{ID: str(18, 21), Stream: str(2, 10), User: User{ID: str(10, 14), Name: str(14, 18)}, Text: str(21, 32), TS: 5}

	stream, u := KeepUser(m.Stream, m.User)
	if stream != "stream-1" || u.ID != "u-42" || u.Name != "asha" {
		t.Fatalf("KeepUser = %q %+v", stream, u)
	}
	km := KeepMessage(m)
	if km.ID != "m-7" || km.Text != "hello there" || km.TS != 5 {
		t.Fatalf("KeepMessage = %+v", km)
	}
	for _, s := range []string{stream, u.ID, u.Name, km.ID, km.Text} {
		if inFrame(s) {
			t.Errorf("%q points into the decoded frame", s)
		}
	}
	if s, u := KeepUser("", User{}); s != "" || u.ID != "" || u.Name != "" {
		t.Errorf("KeepUser of nothing = %q %+v", s, u)
	}
	if s, u := KeepUser("s", User{ID: "", Name: "n"}); s != "s" || u.ID != "" || u.Name != "n" {
		t.Errorf("KeepUser(s, {\"\", n}) = %q %+v", s, u)
	}
}
