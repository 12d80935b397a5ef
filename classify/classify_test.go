package classify

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/livemod/livemod/chat"
)

var testTS atomic.Int64

// decide classifies text from a fresh user, far apart in time from every
// other test message so that dedup does not interfere.
func decide(t testing.TB, e *Engine, text string, badges ...string) chat.Decision {
	t.Helper()
	n := testTS.Add(1)
	return e.Decide(&chat.Message{
		ID: "m" + strconv.FormatInt(n, 10), Stream: "s",
		User: chat.User{ID: "u" + strconv.FormatInt(n, 10), Name: "n", Badges: badges},
		Text: text, TS: n * 3_600_000,
	})
}

// rulesOnly are the options of the rule tests: they test the rules, so
// the learned model, when there is one, stays out.
func rulesOnly() Options { return Options{NoModel: true} }

func newEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := New(rulesOnly())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func labelsOf(names ...string) chat.Labels {
	var s chat.Labels
	for _, n := range names {
		l, err := chat.ParseLabel(n)
		if err != nil {
			panic(err)
		}
		s.Add(l)
	}
	return s
}

func TestLabels(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	tests := []struct {
		label string
		texts []string
	}{
		{"spam", []string{
			"check out my channel!!", "Subscribe to my channel pls", "sub 4 sub anyone?",
			"mere channel ko subscribe karo", "मेरे चैनल को सब्सक्राइब करो", "earn ₹5000 daily from home",
			"Earn $500 per day, whatsapp me", "ghar baithe paise kamao", "घर बैठे पैसे कमाएं",
			"whatsapp me for deals", "join my telegram", "call me 98765 43210", "+91 98765-43210",
			"visit bit.ly/abc", "w w w . x . c o m", "cheapdeals dot com", "free bitcoin giveaway",
			"please like my comment", "ch3ck 0ut my ch4nnel", "ＣＨＥＣＫ ＯＵＴ ＭＹ ＣＨＡＮＮＥＬ",
		}},
		{"link", []string{
			"go to https://example.org/x", "www.deals.in", "youtube.com/watch?v=1", "visit bit.ly/abc",
			"w w w . x . c o m",
		}},
		{"profanity", []string{
			"f u c k", "fuuuuck", "Ｆｕｃｋ", "fцck", "f\u200bu\u200bc\u200bk", "sh1t show",
			"fucking love this song", "saala kya match tha", "kamina dost hai mera",
		}},
		{"toxic", []string{
			"fuck you", "f.u.c.k you", "f u c k you", "fuuuuck u", "Ｆｕｃｋ you", "fцck you", "f\u200bu\u200bc\u200bk you",
			"sh1t hai tu", "you are a b!tch", "a$$hole", "what an asshole", "chutiya hai tu", "ch00tiya",
			"madarchod", "bhosdike", "behen ke laude", "teri maa ki chut", "चूतिया है", "मादरचोद",
			"भोसड़ीके", "stfu idiot", "kys",
		}},
		{"threat", []string{
			"I will kill you", "i'll kill u", "ill find where you live", "you're dead", "ur dead meat",
			"jaan se maar dunga", "jaan se maaar dungaa", "जान से मार दूंगा", "जान से मार दूँगा",
			"ghar aa ke maarunga", "tujhe maar dalunga", "I WILL KILL YOU",
		}},
		{"question", []string{
			"how much is the blue jacket?", "is there a discount", "can I pay with upi", "what sizes",
			"kitne ka hai", "कितने का है", "kab tak aayega", "ye kya hai", "kaise order kare",
			"kahan milega", "kyun nahi", "क्या ये मिलेगा", "कब आएगा", "कैसे लें", "available in XL?",
		}},
		{"purchase_intent", []string{
			"I want to buy this", "how to order", "price?", "add to cart done", "kitne ka hai",
			"mujhe chahiye", "lena hai", "खरीदना है", "link do", "कितने का है", "how much",
		}},
		{"support", []string{
			"I want a refund", "got the wrong item", "order not delivered", "it arrived damaged",
			"want to return this", "order nahi aaya", "paisa wapas karo", "galat item aaya",
			"टूटा हुआ आया", "रिफंड चाहिए", "ऑर्डर नहीं आया", "ऑर्डर 5521 नहीं आया", "cancel my order",
		}},
		{"agent_request", []string{
			"agent please", "talk to a human", "customer care number?", "I need a real person",
			"agent se baat karni hai", "एजेंट से बात करनी है", "agent", "can I speak to an agent",
		}},
		{"optout", []string{"STOP", "stop", "Stop!", "UNSUBSCRIBE", "रुकें", "रुको"}},
	}
	for _, tt := range tests {
		l, err := chat.ParseLabel(tt.label)
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range tt.texts {
			t.Run(tt.label+"/"+text, func(t *testing.T) {
				d := decide(t, e, text)
				if !d.Labels.Has(l) {
					t.Errorf("%q: labels %s, want %s (normalized %q, skeleton %q)",
						text, d.Labels.AppendJSON(nil), tt.label, Normalize(text), skeleton(text))
				}
				if d.Action != chat.Allow && len(d.Reasons) == 0 {
					t.Errorf("%q: action %s without reasons", text, d.Action)
				}
			})
		}
	}
}

func TestActions(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	tests := []struct {
		text   string
		badges []string
		action chat.Action
		rule   string
	}{
		{"visit bit.ly/abc", nil, chat.Hide, "spam.link"},
		{"see www.deals.in", nil, chat.Hide, "link.url"},
		{"see www.deals.in", []string{"moderator"}, chat.Allow, "link.url"},
		{"subscribe to my channel", []string{"broadcaster"}, chat.Allow, "spam.promo"},
		// Mild profanity keeps the toxic label but is held only when aimed
		// at someone; slurs, harassment and gaalis are always held.
		{"fuck this", nil, chat.Allow, "profanity"},
		{"fucking love this song", nil, chat.Allow, "profanity"},
		{"holy shit that was fast", nil, chat.Allow, "profanity"},
		{"fuck you", nil, chat.Hold, "toxic.insult"},
		{"you are a stupid idiot", nil, chat.Hold, "toxic.lexicon"},
		{"you are a fucking joke", nil, chat.Hold, "toxic.insult"},
		{"I love you so fucking much", nil, chat.Allow, "profanity"},
		{"u fucking clown", nil, chat.Hold, "toxic.insult"},
		{"fuck off", nil, chat.Hold, "toxic.insult"},
		{"shit hai tu", nil, chat.Hold, "toxic.insult"},
		{"idiot hai tu", nil, chat.Hold, "toxic.lexicon"},
		{"you whore", nil, chat.Hold, "toxic.lexicon"},
		{"chutiya", nil, chat.Hold, "toxic.lexicon"},
		{"बहुत मादरचोद", nil, chat.Hold, "toxic.lexicon"},
		{"I will kill you", nil, chat.Hold, "threat.violence"},
		{"I will kill you", []string{"vip"}, chat.Hold, "threat.violence"},
		{"how much is it?", nil, chat.Allow, "question.price"},
		{"STOP", nil, chat.Allow, "optout.stop"},
		{"START", nil, chat.Allow, "optout.start"},
		{"refund for order #A-7781 please", nil, chat.Allow, "support.refund"},
	}
	for _, tt := range tests {
		d := decide(t, e, tt.text, tt.badges...)
		if d.Action != tt.action {
			t.Errorf("%q %v: action %s, want %s (%v)", tt.text, tt.badges, d.Action, tt.action, d.Reasons)
		}
		if len(d.Reasons) == 0 || d.Reasons[0].Rule != tt.rule {
			t.Errorf("%q: reasons %v, want first %s", tt.text, d.Reasons, tt.rule)
		}
	}
	d := decide(t, e, "START")
	if d.Labels != 0 {
		t.Errorf("START: labels %s, want none", d.Labels.AppendJSON(nil))
	}
	d = decide(t, e, "refund for order #A-7781 please")
	if got := d.Reasons[0].Detail; !strings.Contains(got, "order A-7781") {
		t.Errorf("support detail %q lacks the order number", got)
	}
}

// TestClean holds messages that must stay clean: ordinary chat and words
// that contain or resemble lexicon entries.
func TestClean(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	texts := []string{
		"hello everyone", "hi from Pune!", "love this", "great stream today", "nice class today",
		"the assassin's creed game", "Scunthorpe United", "a cocktail dress", "classic look",
		"my therapist said hi", "my order arrived and I love it", "नमस्ते", "bahut badhiya",
		"😍😍😍", "🔥🔥", "lol", "gg", "so cute", "that jacket is a classic", "passed my exam",
		"maal kab aayega", "kya baat hai!", "chota wala", "land in Goa", "pakki baat", "mast hai",
		"bhai aap great ho", "the grape shirt", "shiitake recipe", "cumin and cucumber",
		"analysis of the canal", "sit and watch", "chhutti ka din", "glass bottle", "bass drop",
		"wow amazing", "thank you so much", "अच्छा है", "बहुत बढ़िया", "शुक्रिया", "hello from Delhi",
		"I am a big fan", "Hitchcock films", "peacock blue", "Sussex", "pass the ball",
		"I paid 1200 for it", "the 2nd one", "size 42 please", "order 5521 arrived, thanks",
		"that's killing it", "you killed it!", "ye dress bahut sundar hai", "samajh nahi aaya",
		"chod do yaar", "choot milegi?", "dogs are cute, mera kutta bhi",
		"return policy kya hai?", "what is your return policy?", "I'll return the favour",
		"he will return the next year", "replace it with canvas", "who is his replacement?",
	}
	for _, text := range texts {
		d := decide(t, e, text)
		bad := d.Labels & chat.Labels(chat.LabelSpam|chat.LabelToxic|chat.LabelThreat|chat.LabelFlood|chat.LabelLink|chat.LabelSupport|chat.LabelAgentRequest|chat.LabelOptout)
		if bad != 0 || d.Action != chat.Allow {
			t.Errorf("%q: labels %s action %s reasons %v (skeleton %q)", text, d.Labels.AppendJSON(nil), d.Action, d.Reasons, skeleton(text))
		}
	}
	// No word of the innocent list is flagged, alone or in a sentence.
	for _, line := range readList("livemod_safe.txt") {
		for _, w := range strings.Fields(line) {
			if d := decide(t, e, "the "+w+" here"); d.Labels.Has(chat.LabelToxic) {
				t.Errorf("innocent word %q flagged: %v", w, d.Reasons)
			}
		}
	}
}

func TestFlood(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	m := chat.Message{Stream: "s", User: chat.User{ID: "u1"}, Text: "buy now buy now", TS: 1_000_000}
	var d chat.Decision
	for i := range 3 {
		m.TS += 1000
		m.ID = strconv.Itoa(i)
		d = e.Decide(&m)
	}
	if !d.Labels.Has(chat.LabelFlood) || d.Action != chat.Hide || d.Dup.Count != 3 || d.Reasons[0].Rule != "flood.repeat" {
		t.Errorf("third repeat: %+v", d)
	}
	// Outside the window the count starts again.
	m.TS += 31_000
	if d = e.Decide(&m); d.Dup.Count != 1 || d.Labels.Has(chat.LabelFlood) {
		t.Errorf("after the window: %+v", d)
	}

	// Copypasta: four users, evasions of one long text.
	texts := []string{"this stream is fake lol, everyone report it and leave now",
		"THIS STREAM IS FAKE LOL, EVERYONE REPORT IT AND LEAVE NOW",
		"this strеam is fake lоl, everyone report it and leave now",
		"this stream is faaake lol, everyone report it and leave now"}
	for i, text := range texts {
		m := chat.Message{Stream: "s", User: chat.User{ID: "c" + strconv.Itoa(i)}, Text: text, TS: 5_000_000 + int64(i)*1000}
		d = e.Decide(&m)
	}
	if !d.Labels.Has(chat.LabelFlood) || d.Dup.Count != 4 || d.Reasons[0].Rule != "flood.copypasta" {
		t.Errorf("copypasta: %+v", d)
	}
	// The same short line from many is a crowd: counted, not hidden.
	for i := range 6 {
		m := chat.Message{Stream: "s", User: chat.User{ID: "r" + strconv.Itoa(i)}, Text: "this stream is fake lol", TS: 7_000_000 + int64(i)}
		if d = e.Decide(&m); d.Labels.Has(chat.LabelFlood) || d.Action != chat.Allow {
			t.Errorf("short line from viewer %d: %v %v", i, d.Labels.Slice(), d.Reasons)
		}
	}
	if d.Dup.Count != 6 {
		t.Errorf("short chorus: dup count %d, want 6", d.Dup.Count)
	}
	// Another stream does not share the count.
	m2 := chat.Message{Stream: "other", User: chat.User{ID: "c9"}, Text: texts[0], TS: 5_004_000}
	if d = e.Decide(&m2); d.Dup.Count != 1 {
		t.Errorf("other stream: dup %d", d.Dup.Count)
	}
	// Short greetings from many users are not copypasta.
	for i := range 6 {
		m := chat.Message{Stream: "s", User: chat.User{ID: "g" + strconv.Itoa(i)}, Text: "hi", TS: 9_000_000 + int64(i)}
		if d = e.Decide(&m); d.Labels.Has(chat.LabelFlood) {
			t.Errorf("greeting %d flagged as flood", i)
		}
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Hello  World", "hello  world"}, // a wide gap stays two spaces: it ends a word spelt out
		{"Hello \t\n World", "hello  world"},
		{"Hello World", "hello world"},
		{"ＦＵＬＬ width", "full width"},
		{"𝐛𝐨𝐥𝐝 𝓼𝓬𝓻𝓲𝓹𝓽", "bold script"},
		{"café naïve", "cafe naive"},
		{"z\u0335a\u0336l\u0337g\u0338o", "zalgo"},
		{"in\u200bvis\u00adible\u200d", "invisible"},
		{"fuuuuuck", "fuuck"},
		{"order 5555 for ₹1000", "order 5555 for ₹1000"},
		{"раураl", "paypal"},
		{"ज़रूर", "जरूर"},      // composed nukta letter
		{"ज\u093cरूर", "जरूर"}, // decomposed
		{"नमस्ते", "नमस्ते"},   // virama kept
		{"हँसी", "हंसी"},
		{"क\u200dष", "कष"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	sk := []struct{ in, want string }{
		{"f.u.c.k", "fuck"}, {"f-u-c-k", "fuck"}, {"5h1t", "shit"}, {"a$$", "as"},
		{"stop!", "stop"}, {"order 5521", "order 5521"}, {"u r a", "ura"}, {"i am ok", "i am ok"},
	}
	for _, tt := range sk {
		if got := skeleton(tt.in); got != tt.want {
			t.Errorf("skeleton(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExtractOrderID(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"order 5521 not delivered", "5521"},
		{"refund for order #A-7781 please", "A-7781"},
		{"my order is #99812", "99812"},
		{"ऑर्डर 5521 नहीं आया", "5521"},
		{"ऑर्डर नंबर 5521", "5521"},
		{"order no: OD-12345", "OD-12345"},
		{"order#7781 broken", "7781"},
		{"#A-7781 wrong item", "A-7781"},
		{"order 2 jackets", ""},
		{"I love this order", ""},
		{"price ₹5000", ""},
	}
	for _, tt := range tests {
		if got := ExtractOrderID(tt.in); got != tt.want {
			t.Errorf("ExtractOrderID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	if _, err := New(Options{RepeatCount: -1}); err == nil {
		t.Error("negative RepeatCount accepted")
	}
	opts := rulesOnly()
	opts.RepeatCount = 2
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	m := chat.Message{Stream: "s", User: chat.User{ID: "u"}, Text: "hello there", TS: 1}
	e.Decide(&m)
	m.TS = 2
	if d := e.Decide(&m); !d.Labels.Has(chat.LabelFlood) {
		t.Errorf("RepeatCount 2: second message not flood: %+v", d)
	}
}

// TestSkeletonJoin checks how spelt-out words are joined: Latin letters
// always (a wide gap or a change of separator ends a word), Devanagari
// syllables across dots always and across spaces only into a word the
// rules know, since one-syllable Hindi words ("वो भी है") are common.
func TestSkeletonJoin(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	for _, c := range []struct{ in, want string }{
		{"s t u p i d  i d i o t", "stupid idiot"},
		{"s.t.u.p.i.d .i.d.i.o.t", "stupid idiot"},
		{"f  u  c  k", "fuck"},
		{"u r a star", "ura star"},
		{"मा.द.र.चो.द", "मादरचोद"},
		{"वो भी है", "वो भि है"},
		{"तो मैं भी", "तो मै भि"},
	} {
		var tmp []byte
		plain := appendPlain(nil, &tmp, c.in)
		sk, _, _, _ := appendSkeletonKnown(nil, nil, nil, plain, e.m)
		if string(sk) != c.want {
			t.Errorf("skeleton(%q) = %q, want %q", c.in, sk, c.want)
		}
	}
	var tmp []byte
	plain := appendPlain(nil, &tmp, "चू ति या")
	if sk, _, _, _ := appendSkeletonKnown(nil, nil, nil, plain, e.m); strings.Contains(string(sk), " ") {
		t.Errorf("skeleton(चू ति या) = %q, want one word", sk)
	}
}

// TestDecodeRune checks the inline Devanagari decoder and encoder against
// unicode/utf8, on the whole block and on broken sequences around it.
func TestDecodeRune(t *testing.T) {
	t.Parallel()
	check := func(b []byte) {
		r, n := decodeRune(b)
		wr, wn := utf8.DecodeRune(b)
		if r != wr || n != wn {
			t.Errorf("decodeRune(% x) = %U %d, want %U %d", b, r, n, wr, wn)
		}
		if r, n = decodeRuneString(string(b)); r != wr || n != wn {
			t.Errorf("decodeRuneString(% x) = %U %d, want %U %d", b, r, n, wr, wn)
		}
	}
	for r := rune(0x08F0); r <= 0x09A0; r++ {
		b := utf8.AppendRune(nil, r)
		if got := appendRune(nil, r); string(got) != string(b) {
			t.Errorf("appendRune(%U) = % x, want % x", r, got, b)
		}
		check(b)
		check(b[:len(b)-1])
		check(append(b[:len(b)-1:len(b)-1], 0x41))
	}
	for _, b := range [][]byte{{0xE0, 0xA4}, {0xE0, 0xA6, 0x80}, {0xE0, 0xA4, 0xC0}, {0xE0}, {}} {
		check(b)
	}
}

// TestSupportReturnIsTheViewersOwn: a return, replacement or exchange
// of the viewer's own is a support case; a question about the policy is
// not (TestClean has those).
func TestSupportReturnIsTheViewersOwn(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	for _, text := range []string{
		"How do I return the shoes?", "I want to return my order 5521", "replacement chahiye order 7781",
		"mujhe ye return karna hai", "please replace the broken one", "I need a replacement",
		"return kaise karu?", "I want to exchange my kurta for XL",
	} {
		if d := decide(t, e, text); !d.Labels.Has(chat.LabelSupport) {
			t.Errorf("%q: labels %s, want support (%v)", text, d.Labels.AppendJSON(nil), d.Reasons)
		}
	}
}
