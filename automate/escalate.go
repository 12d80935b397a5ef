package automate

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

// Escalation on feeling: a message the model reads as negative (customer
// anger or distress) opens a ticket with issue "complaint" when it is
// about a purchase or an order, and so does a user whose messages stay
// negative over a window; urgent cases (payment taken but no order, a
// wrong address or a cancellation before dispatch, a product that hurt
// someone, a threat to self) open a ticket at priority high; VIPs and
// influencers reach an agent instead of the FAQ bot, and collaboration
// requests go to the partnership queue.

// Escalation is one stream's escalation thresholds. Zero fields mean the
// defaults.
type Escalation struct {
	// Threshold is the negative score (0–1] from which a message about a
	// purchase or an order opens a complaint ticket. Zero means 0.5, the
	// negative label's own threshold.
	Threshold float32
	// Window is how many of a user's latest messages in a stream are
	// weighed; WindowNegative of them at Threshold or above open a
	// complaint ticket whatever they are about. Zero means 4 and 3.
	Window, WindowNegative int
	// Off turns escalation on feeling off for the stream.
	Off bool
}

// Issues and priorities of the tickets this file opens.
const (
	IssueComplaint   = "complaint"
	IssueVIP         = "vip"
	IssuePartnership = "partnership"
	PriorityHigh     = "high"
	PriorityNormal   = "normal"
	TagUrgent        = "urgent"
)

// DefaultVIPBadges are the platform badges that mark a VIP or an
// influencer: partners, verified accounts, channel VIPs, the broadcaster's team (the broadcaster's own lines are not routed).
var DefaultVIPBadges = []string{"partner", "verified", "vip", "team", "creator"}

func (e Escalation) withDefaults() Escalation {
	if e.Threshold <= 0 {
		e.Threshold = 0.5
	}
	if e.Window <= 0 {
		e.Window = 4
	}
	e.Window = min(e.Window, 8) // the history is 8 bits
	if e.WindowNegative <= 0 {
		e.WindowNegative = min(3, e.Window)
	}
	e.WindowNegative = min(e.WindowNegative, e.Window)
	return e
}

func (s *Stage) escalation(stream string) Escalation {
	if e, ok := s.escStreams[stream]; ok {
		return e
	}
	return s.esc
}

// orderContext: the message is about a purchase or an order — a support
// or purchase label, an order number, or words of buying and money.
var orderContext = regexp.MustCompile(`(?i)\b(orders?|ordered|delivery|delivered|deliver|parcel|package|refund|return|product|item|bought|buy|purchase|paid|payment|money|rupees|rs|seller|quality|size|replacement|exchange|shipping|courier|paise|paisa|saman|samaan|maal|kharid\w*|khareed\w*|kapda|order\w*)\b|₹|ऑर्डर|पैसे|सामान|डिलीवरी|रिफंड|प्रोडक्ट|खरीद|क्वालिटी`)

// buyerOnly reports a message that wants to buy (purchase intent, no
// support problem) and is not strongly negative: "I want to buy the
// cotton dupatta" is a sale, not a complaint, though the model scores
// such wishes 0.50–0.69 negative. Without it a show's buyers filled the
// desk with complaint tickets (docs/PERFORMANCE.md, "Why a realistic show
// fills its desk").
func buyerOnly(d *chat.Decision, neg float32) bool {
	return d.Labels.Has(chat.LabelPurchaseIntent) && !d.Labels.Has(chat.LabelSupport) && neg < buyerNegative
}

// buyerNegative is the negative score from which a wish to buy is a
// complaint all the same ("I want to buy it but this seller is a scam").
const buyerNegative = 0.8

func hasOrderContext(m *chat.Message, d *chat.Decision) bool {
	return d.Labels&chat.Labels(chat.LabelSupport|chat.LabelPurchaseIntent) != 0 ||
		classify.ExtractOrderID(m.Text) != "" || orderContext.MatchString(m.Text)
}

// urgentKinds are the time-critical cases, each in English, Hinglish and
// Hindi; the first that matches names the case.
var urgentKinds = []struct {
	kind string
	keys []string // the pattern runs only when the lowered text holds one
	re   *regexp.Regexp
}{
	{"payment_no_order", []string{"deduct", "debit", "kat ga", "taken", "payment", "paid", "पैसे"}, regexp.MustCompile(`(?i)(payment|paid|money|amount|paise|paisa|rs\.?|₹|upi)\b.{0,40}\b(deducted|debited|taken|cut|gone|done|kat|kat gaye|kat gaya|chale gaye|gaye)\b.{0,40}\b(no|not|but|nahi|nahin|na)\b.{0,25}\b(order|confirmation|confirm)|(deducted|debited|kat gaye|kat gaya)\b.{0,40}\border\b.{0,20}\b(nahi|not|no)\b|(no|not|nahi)\b.{0,15}\border\b.{0,30}\b(deducted|debited|kat gaye|kat gaya)\b|पैसे\s*कट\s*गए.{0,40}(ऑर्डर|आर्डर).{0,20}नहीं`)},
	{"wrong_address", []string{"address", "पता", "एड्रेस"}, regexp.MustCompile(`(?i)\b(wrong|incorrect|galat|old)\s+(delivery\s+)?address\b|\baddress\b.{0,25}\b(change|galat|wrong|badalna|badal|update)\b|गलत\s*(पता|एड्रेस)|(पता|एड्रेस).{0,20}(बदल|गलत)`)},
	{"cancel_before_shipping", []string{"cancel", "कैंसिल", "रद्द"}, regexp.MustCompile(`(?i)\bcancel+(ed|led|ation)?\b.{0,30}\b(order|it|mera|my)\b|\b(order|mera order)\b.{0,30}\bcancel|cancel\s*(kar|karo|kardo|kar do|karna)|ऑर्डर.{0,20}(कैंसिल|रद्द)|(कैंसिल|रद्द)\s*कर`)},
	{"product_safety", []string{"fire", "burn", "smok", "explod", "blast", "shock", "current", "injur", "hurt", "cut my", "bleed", "allerg", "rash", "swell", "itch", "aag", "jal gay", "chot", "khoon", "kharish", "आग", "जल", "करंट", "झटका", "चोट", "एलर्जी", "खून"}, regexp.MustCompile(`(?i)\b(caught fire|on fire|fire|burnt|burned|burn|burns|smoke|smoking|exploded|explode|blast|electric shock|shock|current laga|current lag|injur\w*|hurt|cut my|bleeding|allerg\w*|rash|swelling|itching|aag|jal gaya|jal gayi|chot|khoon|kharish)\b|आग|जल\s*गया|करंट|झटका|चोट|एलर्जी|खून`)},
	{"threat_to_self", []string{"kill myself", "end my life", "suicid", "want to die", "to live", "hurt myself", "mar jaun", "marna", "jaan de", "khudkushi", "aatmahatya", "आत्महत्या", "मर", "जान"}, regexp.MustCompile(`(?i)\b(kill myself|end my life|suicide|suicidal|want to die|don'?t want to live|hurt myself|mar jaunga|mar jaungi|marna chahta|marna chahti|jaan de dunga|jaan de dungi|khudkushi|aatmahatya)\b|आत्महत्या|मर\s*जाऊंगा|मर\s*जाऊंगी|जान\s*दे\s*दूंगा`)},
}

// productNoun: things a shop sells that can burn, shock or hurt someone,
// the context that makes "fire" or "hurt" a product safety case.
var productNoun = regexp.MustCompile(`(?i)\b(charger|phone|mobile|battery|power ?bank|cable|adapter|plug|socket|wire|heater|iron|kettle|cooker|mixer|geyser|fan|bulb|device|appliance|toy|earphones?|headphones?|cream|lotion|serum|soap|shampoo|oil|face ?wash|lipstick|makeup|perfume|dress|fabric|shoes?|piece|unit|box)\b|चार्जर|फोन|मोबाइल|बैटरी|क्रीम|साबुन|तेल|हीटर|प्रेस`)

// urgentHere reports whether an urgent case k is about this shop: an
// order, a purchase or a product. Without that, chat's "this song is
// fire", "sick burn" or "so hurt you ignored me" would open tickets and
// send public notices. A threat to self needs no such context.
func urgentHere(k string, m *chat.Message, d *chat.Decision) bool {
	switch k {
	case "threat_to_self", "payment_no_order":
		return true
	}
	return hasOrderContext(m, d) || productNoun.MatchString(m.Text)
}

// Urgency returns the time-critical case text names ("payment_no_order",
// "wrong_address", "cancel_before_shipping", "product_safety",
// "threat_to_self"), or "".
func Urgency(text string) string {
	text = cutText(text)
	return urgency(text, gate.scan(text))
}

// urgency is Urgency of text whose keyword groups (gate.scan) are found.
func urgency(text string, found uint8) string {
	for i, u := range urgentKinds {
		if found&(1<<i) != 0 && u.re.MatchString(text) {
			return u.kind
		}
	}
	return ""
}

func cutText(text string) string {
	if len(text) > chat.MaxTextBytes {
		return text[:chat.MaxTextBytes]
	}
	return text
}

// partnershipBit is the partnership keywords' group in gate, after the
// urgent kinds'.
var partnershipBit = uint8(1) << len(urgentKinds)

// gate holds the keywords in front of the urgent and partnership
// patterns: a pattern runs only when the text, with ASCII letters lowered,
// holds one of its group's keywords. One pass over the text finds every
// group (a bytes.Contains per keyword was about 60 passes, 4–5% of the
// server's CPU on ordinary chat).
var gate = newKeyGate(func() [][]string {
	var groups [][]string
	for _, u := range urgentKinds {
		groups = append(groups, u.keys)
	}
	return append(groups, partnershipKeys)
}())

// keyGate finds which groups of keywords occur in a text. Keywords are at
// least three bytes; they are found by their first three bytes (ASCII
// lowered) through a small hash table.
type keyGate struct {
	first   [256]bool // bytes that begin a keyword (lowered)
	buckets [gateBuckets][]gateKey
}

type gateKey struct {
	key string // lowered
	bit uint8  // 1 << its group
}

const gateBuckets = 1024

func gateHash(a, b, c byte) int {
	return int((uint32(a)*0x9E3779B1^uint32(b)*0x85EBCA77^uint32(c)*0xC2B2AE3D)>>16) & (gateBuckets - 1)
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func newKeyGate(groups [][]string) *keyGate {
	if len(groups) > 8 {
		panic("automate: more than 8 keyword groups")
	}
	g := &keyGate{}
	for i, keys := range groups {
		for _, k := range keys {
			k = string(lowerASCII(nil, k))
			if len(k) < 3 {
				panic("automate: gate keyword shorter than three bytes: " + k)
			}
			g.first[k[0]] = true
			h := gateHash(k[0], k[1], k[2])
			g.buckets[h] = append(g.buckets[h], gateKey{key: k, bit: 1 << i})
		}
	}
	return g
}

// scan returns the groups (bit i: group i) with a keyword in text, ASCII
// letters compared without case.
func (g *keyGate) scan(text string) uint8 {
	var found uint8
	for i := 0; i+2 < len(text); i++ {
		c0 := lowerByte(text[i])
		if !g.first[c0] {
			continue
		}
		for _, k := range g.buckets[gateHash(c0, lowerByte(text[i+1]), lowerByte(text[i+2]))] {
			if found&k.bit == 0 && hasLoweredPrefix(text[i:], k.key) {
				found |= k.bit
			}
		}
	}
	return found
}

// hasLoweredPrefix reports whether text, ASCII letters lowered, begins
// with key.
func hasLoweredPrefix(text, key string) bool {
	if len(text) < len(key) {
		return false
	}
	for j := 0; j < len(key); j++ {
		if lowerByte(text[j]) != key[j] {
			return false
		}
	}
	return true
}

// lowerASCII appends text with ASCII letters lowered.
func lowerASCII(dst []byte, text string) []byte {
	for i := 0; i < len(text); i++ {
		dst = append(dst, lowerByte(text[i]))
	}
	return dst
}

var partnershipKeys = []string{"collab", "sponsor", "brand deal", "promotion", "partner", "business", "promote", "pr package", "affiliate", "सहयोग", "स्पॉन्सर"}

// partnershipRe: a collaboration or sponsorship request.
var partnershipRe = regexp.MustCompile(`(?i)\b(collab|collabs|collaborat\w*|sponsor\w*|brand deal|paid promotion|partnership|partner with|business enquiry|business inquiry|promote your|pr package|affiliate)\b|सहयोग|स्पॉन्सर`)

// IsPartnership reports a collaboration or sponsorship request.
func IsPartnership(text string) bool {
	text = cutText(text)
	return isPartnership(text, gate.scan(text))
}

func isPartnership(text string, found uint8) bool {
	return found&partnershipBit != 0 && partnershipRe.MatchString(text)
}

func (s *Stage) isVIP(u *chat.User) bool {
	if _, ok := s.vipUsers[u.ID]; ok {
		return true
	}
	if u.Name != "" {
		if _, ok := s.vipUsers[strings.ToLower(u.Name)]; ok {
			return true
		}
	}
	for _, b := range u.Badges {
		if _, ok := s.vipBadges[strings.ToLower(b)]; ok {
			return true
		}
	}
	return false
}

// needsAnswer: a VIP's message that asks or needs something.
func needsAnswer(d *chat.Decision) bool {
	return questionLike(d) || d.Labels&chat.Labels(chat.LabelSupport|chat.LabelAgentRequest|chat.LabelPurchaseIntent) != 0
}

// escalate is what feeling, urgency and who is talking add to the
// handoff decision of m: whether a ticket is wanted, its issue (empty
// keeps the rules' issue) and priority, and a reason for each.
func (s *Stage) escalate(m *chat.Message, d *chat.Decision) (wants bool, issue, priority string) {
	esc := s.escalation(m.Stream)
	priority = PriorityNormal
	neg := d.Scores.Get(chat.LabelNegative)
	if !esc.Off && d.Scores != (chat.Scores{}) {
		isNeg := neg >= esc.Threshold
		n := s.mood.add(m.Stream, m.User.ID, isNeg, esc.Window)
		switch {
		case isNeg && hasOrderContext(m, d) && !buyerOnly(d, neg):
			wants, issue = true, IssueComplaint
			d.AddReason("escalate.complaint", "negative "+score(neg)+" about a purchase or an order")
		case isNeg && n >= esc.WindowNegative:
			wants, issue = true, IssueComplaint
			d.AddReason("escalate.mood", itoa(n)+" of the user's last "+itoa(esc.Window)+" messages negative")
		}
	}
	text := cutText(m.Text)
	found := gate.scan(text)
	if k := urgency(text, found); k != "" && urgentHere(k, m, d) {
		wants, priority = true, PriorityHigh
		d.AddReason("urgent."+k, "time-critical: "+issueWords(k))
		if issue == "" {
			issue = k
		}
	}
	if isPartnership(text, found) {
		wants = true
		if issue == "" {
			issue = IssuePartnership
		}
		d.AddReason("route.partnership", "collaboration or sponsorship request")
	} else if s.isVIP(&m.User) && needsAnswer(d) {
		wants = true
		if issue == "" && d.Labels&handoffLabels == 0 {
			issue = IssueVIP
		}
		d.AddReason("route.vip", "a VIP or influencer: an agent answers, not the FAQ bot")
	}
	return wants, issue, priority
}

func score(v float32) string { return strconv.FormatFloat(float64(v), 'f', 2, 32) }

func itoa(n int) string { return strconv.Itoa(n) }

// moodLog keeps, per (stream, user), whether each of their last few
// messages was negative: eight bits and a count. Bounded like the recent
// log: two generations of moodPerShard users per shard.
type moodLog struct {
	// m's values: low byte the history bits, newest lowest; high byte
	// the count of messages in it.
	m pairMap[uint16]
}

const moodPerShard = 8192

// add records one message of user in stream and returns how many of the
// last window messages were negative.
func (l *moodLog) add(stream, user string, neg bool, window int) (c int) {
	l.m.with(stream, user, func(s *pairShard[uint16], k uint64) {
		v, ok := s.get(k)
		if !ok && !neg {
			// Only users with a negative message are followed: a calm
			// history counts nothing, and a million calm viewers would
			// otherwise fill the log. Missing calm messages are zeros
			// either way, so the count is the same.
			return
		}
		bitsV, n := uint8(v), uint8(v>>8)
		bitsV <<= 1
		if neg {
			bitsV |= 1
		}
		if n < 8 {
			n++
		}
		s.put(k, uint16(n)<<8|uint16(bitsV), moodPerShard)
		for i := range min(window, int(n)) {
			if bitsV&(1<<i) != 0 {
				c++
			}
		}
	})
	return c
}

// users is how many (stream, user) histories the log holds.
func (l *moodLog) users() int { return l.m.len() }

// MoodUsers is how many (stream, user) sentiment histories the stage
// keeps (bounded at 2 × 16 × 8192), for a gauge.
func (s *Stage) MoodUsers() int { return s.mood.users() }

// RecentUsers is how many (stream, user) recent-message rings the stage
// keeps (bounded at 16 × 512 × 8), for a gauge.
func (s *Stage) RecentUsers() int { return s.recent.users() }
