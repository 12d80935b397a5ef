package classify

// Question cues. A question in chat is led by a question word or an
// auxiliary ("how much…", "is it…", "r u…"), often after a greeting, a
// name or "so/well" ("hi all, how are you", "@asha is it cotton",
// "so when is the sale"); or it carries '?'. Exclamations share the
// words ("what a ride", "how cute"), and a line of emotes is a reaction.
// The model's question score (calibrated to chat's base rate of
// questions, model.go) may veto a rule question, and may add one only
// where some interrogative cue stands (hits.qcue).

// preamble are the words that may stand before a question's lead word.
var preamble = []string{
	"hi", "hii", "hello", "helo", "hey", "heyy", "yo", "hola", "namaste", "namaskar", "guys", "all",
	"everyone", "everybody", "friends", "folks", "chat", "bro", "bruh", "sis", "bhai", "didi",
	"dada", "sir", "mam", "maam", "madam", "ji", "so", "well", "ok", "okay", "oh", "and", "but",
	"btw", "also", "um", "umm", "hmm", "ah", "haha", "lol", "wait", "quick", "question", "q",
	"please", "pls", "plz", "excuse", "me", "dear", "team",
	"नमस्ते", "भाई", "दीदी", "जी",
}

// emotes are the commonest Twitch and YouTube emote names and chat
// reactions: a line of nothing else is not a question.
var emotes = []string{
	"kappa", "pogchamp", "pog", "poggers", "lul", "lol", "kekw", "omegalul", "monkas", "pepehands",
	"pepega", "biblethump", "residentsleeper", "notlikethis", "wutface", "4head", "sourpls",
	"trihard", "cmonbruh", "heyguys", "vohiyo", "seemsgood", "feelsgoodman", "feelsbadman",
	"pepelaugh", "sadge", "copium", "hypers", "ez", "gg", "xd", "lmao", "haha", "hehe", "kreygasm",
	"babyrage", "dansgame", "swiftrage", "pjsalt", "failfish", "elegiggle", "jebaited", "lulw",
	"pepe", "catjam", "wideping", "clap", "f", "w", "l", "o7", "rip", "hype", "hahaha", "lmfao",
}

// wh are question words that cue a question wherever they stand.
var wh = []string{
	"what", "whats", "when", "where", "why", "how", "hows", "who", "whos", "whose", "which",
	"wat", "wht", "whr", "y",
}

// leadAt returns the index of the word that may lead a question: the
// first, after up to four words of greeting, address or filler, an
// @mention, or a name set off by a comma.
func (e *Engine) leadAt(toks []tok, plain []byte, h *hits) int {
	i := 0
	for i < len(toks) && i < 4 {
		t := &toks[i]
		switch {
		case h.is(ruleClsPreamble, i), h.quiet&(1<<i) != 0:
		case int(t.pb) < len(plain) && plain[t.pb] == ',' && i+1 < len(toks):
		default:
			if i+1 < len(toks) && toks[i+1].h == e.q.t && h.is(ruleClsNegatable, i) {
				return len(toks) // "can't wait", "don't go": a negation, not an auxiliary's question
			}
			return i
		}
		i++
	}
	return i
}

// sameWord reports one word said three times or more and nothing else
// ("lol lol lol"); a line of emotes only is the other reaction Decide
// tells from a question (the emote class of wordPass).
func (e *Engine) sameWord(toks []tok) bool {
	if len(toks) < 3 {
		return false
	}
	for i := range toks {
		if toks[i].h != toks[0].h {
			return false
		}
	}
	return true
}

// questionCues are the words of question.go that are not classes.
type questionCues struct {
	t uint64 // the "t" of "can't"
}

func newQuestionCues() questionCues { return questionCues{t: compileWords("t")[0]} }

// negatable are the auxiliaries whose "n't" makes a negation.
var negatable = []string{"can", "don", "won", "isn", "aren", "doesn", "didn", "wouldn", "couldn", "shouldn"}

// unfamiliarScript reports a skeleton whose letters are mostly of scripts
// other than Latin and Devanagari (Tamil, Chinese, Arabic …): the model
// was trained on neither, and must not read them as abuse.
func unfamiliarScript(skel []byte) bool {
	if isASCIIBytes(skel) {
		return false
	}
	known, other := 0, 0
	for i := 0; i < len(skel); {
		r, size := decodeRune(skel[i:])
		i += size
		switch {
		case r < 0x80 || 0x0900 <= r && r <= 0x097F:
			if r != ' ' {
				known++
			}
		case isLetter(r):
			other++
		}
	}
	return other > known
}
