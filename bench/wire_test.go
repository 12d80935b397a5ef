package bench

import (
	"slices"
	"testing"
)

func TestTopLevelID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ line, want string }{
		{`{"id":"b1-0-7","stream":"s"}`, "b1-0-7"},
		{`{"user":{"id":"u-7","name":"a"},"id":"b1-2-9"}`, "b1-2-9"},
		{`{"text":"say \"id\":\"x\" {","labels":["a","b"],"n":3,"ok":true,"id":"m-1"}`, "m-1"},
		{` { "id" : "sp" } `, "sp"},
		{`{"user":{"id":"u-7"}}`, ""},
		{`not json`, ""},
		{`{"id":"unterminated`, ""},
	} {
		if got := string(topLevelID([]byte(tc.line))); got != tc.want {
			t.Errorf("topLevelID(%s) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestParseServerFrame(t *testing.T) {
	t.Parallel()
	f := parseServerFrame([]byte(`{"type":"ack","upto":"m-42","n":128}`))
	if !f.isAck || string(f.upto) != "m-42" || f.n != 128 {
		t.Errorf("ack parsed as %+v", f)
	}
	f = parseServerFrame([]byte(`{"type":"error","id":"m-43","error":"text: empty"}`))
	if !f.isError || string(f.id) != "m-43" || string(f.errText) != "text: empty" {
		t.Errorf("error parsed as %+v", f)
	}
}

func TestSendTimes(t *testing.T) {
	t.Parallel()
	var st sendTimes
	for _, seq := range []uint64{0, 1023, 1024, 3071, 3072, 1 << 20} {
		st.store(seq, int64(seq)+5)
		if got := st.take(seq); got != int64(seq)+5 {
			t.Fatalf("take(%d) = %d", seq, got)
		}
		if got := st.take(seq); got != -1 {
			t.Fatalf("second take(%d) = %d, want -1", seq, got)
		}
	}
	if got := st.take(5000); got != 0 {
		t.Fatalf("take of an unsent seq = %d, want 0", got)
	}
}

func BenchmarkTopLevelID(b *testing.B) {
	line := []byte(`{"id":"bk3x9-3-123456","stream":"bench","user":{"id":"u-7","name":"asha"},"text":"how much is the blue jacket?","ts":1795000000000,"labels":["question"],"action":"allow","reasons":[],"faq":null,"handoff":null}`)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		topLevelID(line)
	}
}

func TestEachLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{"a\n", []string{"a"}},
		{"a\nbc\n\n  \n d \nlast", []string{"a", "bc", "d", "last"}},
		{"\n\n", nil},
	} {
		var got []string
		eachLine([]byte(tc.in), func(l []byte) { got = append(got, string(l)) })
		if !slices.Equal(got, tc.want) {
			t.Errorf("eachLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
