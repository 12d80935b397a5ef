package classify

import "strings"

// The default rules, in English, Hindi (Devanagari) and Hinglish. A phrase
// is written as a reader would write it; it is compiled through the same
// normalization as messages, so "maar dunga" also matches "maaar dungaa",
// "m4ar dunga" and "मार दूँगा" needs no nukta or chandrabindu variant.
// " * " in a phrase skips up to three words ("earn * daily" matches
// "earn ₹5000 daily"). A trailing '*' on a word matches any word that
// starts with it.

// ruleID indexes rules; a message's hits are a bit set of them.
type ruleID uint8

const (
	ruleLinkURL ruleID = iota
	ruleSpamLink
	ruleSpamSpacedURL
	ruleSpamChannel
	ruleSpamLike
	ruleSpamScam
	ruleSpamContact
	ruleSpamPhone
	ruleToxic       // severe: slurs, sexual harassment, gaalis, insults naming a person
	ruleToxicInsult // mild profanity aimed at someone ("you idiot", "fuck you")
	ruleToxicMild   // mild profanity not aimed at anyone: labelled, allowed
	ruleThreat
	ruleFloodRepeat
	ruleFloodCopypasta
	ruleQuestionMark
	ruleQuestionWord
	ruleQuestionPrice
	ruleQuestionNot // exclamations that look like questions: "kya baat hai"
	rulePurchase
	ruleSupportRefund
	ruleSupportWrongItem
	ruleSupportNotDelivered
	ruleSupportDamaged
	ruleSupportReturn
	ruleSupportCancel
	ruleSupportStatus
	ruleAgent
	ruleOptoutStop
	ruleOptoutStart

	numRules
)

// rule is what a hit means: its reason name, its label and, for support,
// the issue kind handed to agents.
type rule struct {
	name  string
	label Label
	issue string
}

var rules = [numRules]rule{
	ruleLinkURL:             {"link.url", LabelLink, ""},
	ruleSpamLink:            {"spam.link", LabelSpam | LabelLink, ""},
	ruleSpamSpacedURL:       {"spam.link", LabelSpam | LabelLink, ""},
	ruleSpamChannel:         {"spam.promo", LabelSpam, ""},
	ruleSpamLike:            {"spam.promo", LabelSpam, ""},
	ruleSpamScam:            {"spam.scam", LabelSpam, ""},
	ruleSpamContact:         {"spam.contact", LabelSpam, ""},
	ruleSpamPhone:           {"spam.phone", LabelSpam, ""},
	ruleToxic:               {"toxic.lexicon", LabelToxic, ""},
	ruleToxicInsult:         {"toxic.insult", LabelToxic, ""},
	ruleToxicMild:           {"toxic.profanity", LabelToxic, ""},
	ruleThreat:              {"threat.violence", LabelThreat, ""},
	ruleFloodRepeat:         {"flood.repeat", LabelFlood, ""},
	ruleFloodCopypasta:      {"flood.copypasta", LabelFlood, ""},
	ruleQuestionMark:        {"question.mark", LabelQuestion, ""},
	ruleQuestionWord:        {"question.word", LabelQuestion, ""},
	ruleQuestionPrice:       {"question.price", LabelQuestion | LabelPurchaseIntent, ""},
	ruleQuestionNot:         {"", 0, ""},
	rulePurchase:            {"purchase.intent", LabelPurchaseIntent, ""},
	ruleSupportRefund:       {"support.refund", LabelSupport, "refund"},
	ruleSupportWrongItem:    {"support.wrong_item", LabelSupport, "wrong_item"},
	ruleSupportNotDelivered: {"support.not_delivered", LabelSupport, "not_delivered"},
	ruleSupportDamaged:      {"support.damaged", LabelSupport, "damaged"},
	ruleSupportReturn:       {"support.return", LabelSupport, "return"},
	ruleSupportCancel:       {"support.cancel", LabelSupport, "cancel"},
	ruleSupportStatus:       {"support.order_status", LabelSupport, "order_status"},
	ruleAgent:               {"agent.request", LabelAgentRequest, ""},
	ruleOptoutStop:          {"optout.stop", LabelOptout, ""},
	ruleOptoutStart:         {"optout.start", 0, ""},
}

// phrases are matched anywhere in the skeleton, on word boundaries.
var phrases = map[ruleID][]string{
	ruleSpamLink: {
		"bit ly", "bitly", "tinyurl", "tiny url", "goo gl", "cutt ly", "rb gy", "is gd",
		"ow ly", "shorturl", "short url", "rebrand ly", "linktr ee", "linktree", "tiny cc",
		"bit do", "shorte st", "adf ly", "dot com", "dot net", "dot org", "dot in",
		"dot xyz", "dotcom",
	},
	ruleSpamChannel: {
		"check out my", "checkout my", "check my channel", "check out our", "check out this video", "check out this playlist", "check out this channel", "take a look at this video", "check me out", "check us out", "come check", "see my new", "see my channel", "watch my videos", "watch my channel", "watch my new", "my new track", "my newest", "my first video", "my covers", "my remixes", "subscribe me", "sub me", "come subscribe", "subscribe and", "suscribe", "get * subscribers", "reach * subscribers", "need * subscribers", "bitcoins", "check my channel", "check my video", "watch my video", "see my video", "my new video",
		"visit my", "go to my", "my channel", "my new channel", "my youtube", "my yt",
		"my new video", "my instagram",
		"my insta", "my ig", "my music", "my song", "my songs", "my cover",
		"my rap", "my mixtape", "my soundcloud", "my website", "my site", "my blog",
		"subscribe to my", "subscribe to me", "subscribe my", "sub to my", "sub to me",
		"sub 4 sub", "sub for sub", "sub4sub", "subscribe back", "subscribe for subscribe",
		"please subscribe", "plz subscribe", "pls subscribe", "subscribe please", "subscribe pls",
		"subscribe plz", "follow me", "follow my", "follow back", "follow for follow",
		"click here", "click the link", "click on the link", "click this link", "link in bio",
		"link in my bio", "link in description", "small youtuber", "small channel",
		"upcoming artist", "upcoming rapper", "help me reach",
		"i need subscribers", "subscribers please", "free gift card", "free giftcard",
		"free iphone", "free robux", "free vbucks", "free followers", "free subscribers",
		"mere channel", "mera channel", "meri video", "mera video", "channel ko subscribe",
		"subscribe karo", "subscribe kare", "subscribe karein", "subscribe kar do", "subscribe krdo",
		"subscribe kro", "मेरे चैनल", "मेरा चैनल", "चैनल को सब्सक्राइब", "सब्सक्राइब करो",
		"सब्सक्राइब करें", "सब्सक्राइब कर दो",
	},
	ruleSpamLike: {
		"please like", "plz like", "pls like", "like my comment", "like this comment",
		"give it a like", "thumbs up so", "please share", "please check out", "pls check out", "plz check out",
		"share my", "share this video",
		"like karo", "like kro", "like kar do", "लाइक करो", "लाइक करें",
	},
	ruleSpamScam: {
		"earn * daily", "earn * per day", "earn * a day", "earn * weekly", "earn * per week",
		"earn * monthly", "earn * per month", "earn money", "earn from home", "make money",
		"making money", "make * from home", "work from home", "earn online", "online earning",
		"daily income", "daily earning", "daily profit", "passive income", "double your money",
		"guaranteed profit", "guaranteed returns", "guaranteed income", "crypto", "bitcoin",
		"btc", "ethereum", "usdt", "forex", "binary options", "investment plan", "invest now",
		"trading tips", "free money", "cash prize", "you have won", "claim your prize", "claim your reward",
		"lottery", "ghar baithe", "ghar se kamaye", "ghar se kamao", "paise kamaye",
		"paise kamao", "paisa kamao", "paisa kamaye", "paise kamane", "kamaye * daily",
		"kamao * daily", "kamaye * roz", "kamao * roz", "roz * kamaye", "roz * kamao",
		"घर बैठे", "पैसे कमाए", "पैसे कमाएं", "पैसा कमाओ", "रोज़ * कमाए", "कमाएं * रोज",
	},
	ruleSpamContact: {
		"whatsapp me", "whatsapp karo", "whatsapp kro", "whatsapp number", "whatsapp no",
		"whatsapp on", "whatsapp at", "whats app me", "wa me", "dm me", "inbox me", "message me on",
		"msg me", "contact me", "text me on", "telegram", "call me on", "call me at", "call now",
		"व्हाट्सएप", "टेलीग्राम",
	},
	// Mild profanity that is aimed by its own words (see also aimed in
	// engine.go). "off" is "of" in the skeleton.
	ruleToxicInsult: {
		"fuck off", "fuk off", "fck off", "f off", "piss off", "fuck outta", "shut the fuck up",
		"shut the f up", "fuck ur", "screw you", "screw u",
	},
	ruleThreat: {
		"i will kill you", "i'll kill you", "ill kill you", "i will kill u", "ill kill u",
		"gonna kill you", "going to kill you", "gonna kill u", "will kill you",
		"kill u", "kill you", "murder you", "shoot you", "stab you", "beat you up", "beat u up",
		"hurt you", "rape you", "i will find you", "i'll find you", "find where you live",
		"know where you live", "know where u live", "you're dead", "you are dead",
		"youre dead", "ur dead", "u r dead", "you will die", "you'll die", "u will die",
		"dead meat", "watch your back", "kill yourself", "kys", "go die",
		"jaan se maar", "jaan se mar", "jaan se maar dunga", "maar dunga", "maar doonga",
		"maar dalunga", "maar daalunga", "maar daalenge", "maar denge", "maarunga", "ghar aa ke maarunga", "ghar aake maarunga", "ghar aa ke marunga", "ghar aakar maarunga", "ghar aa kar maarunga", "ghar aa ke maar",
		"marunga", "maar dungi",
		"goli maar", "kaat dunga", "kaat daalunga", "khatam kar dunga",
		"tujhe maar", "tujhko maar", "tumhe maar",
		"जान से मार", "मार दूंगा", "मार डालूंगा", "मार डालेंगे", "मारूंगा", "मार देंगे",
		"गोली मार", "काट दूंगा", "तुझे मार", "खत्म कर दूंगा",
	},
	ruleQuestionWord: {
		"how much", "how many", "how long", "how to", "how do", "how can", "is there",
		"are there", "can i", "can you", "can we", "do you", "does it", "will it",
		"what is", "whats the", "when will", "where is", "any discount",
		"kya", "kab", "kaise", "kaisa", "kaisi", "kahan", "kaha hai", "kaha se", "kidhar",
		"kyun", "kyu", "kyon", "kitne", "kitna", "kitni", "kaun", "konsa", "kaunsa", "konsi",
		"क्या", "कब", "कैसे", "कैसा", "कैसी", "कहाँ", "कहां", "क्यों", "कितना", "कितने", "कितनी",
		"कौन", "कौनसा", "कौन सा",
	},
	ruleQuestionNot: {
		"kya baat", "kya bat", "kya mast", "kya scene", "kya kamal", "क्या बात", "क्या कमाल",
	},
	ruleQuestionPrice: {
		"how much", "what is the price", "whats the price", "what's the price", "price please",
		"price pls", "price plz", "price kya", "price kitna", "price kitni", "kya price",
		"rate kya", "kya rate", "rate kitna", "kitne ka", "kitne ki", "kitne ke", "kitna hai",
		"kitne me", "kitne mein", "कितने का", "कितने की", "कितने के", "कितना है", "कितने में",
		"कीमत क्या", "क्या कीमत", "दाम क्या", "क्या दाम", "प्राइस क्या",
	},
	rulePurchase: {
		"want to buy", "wanna buy", "want to order", "wanna order", "i want this", "i want one",
		"i want it", "i'll take it", "ill take it", "i will take it", "i'll take one",
		"how to order", "how to buy", "how do i order", "how do i buy", "how can i order",
		"how can i buy", "where to buy", "where can i buy", "where can i get", "add to cart",
		"added to cart", "take my money", "buy it", "buy this", "buying this", "buy one",
		"buy two", "place order", "place an order", "order now", "price", "prices", "cost",
		"rate please", "cod available", "cod hai", "cod milega", "cod option", "cash on delivery",
		"in stock", "size available", "available in", "lena hai", "leni hai", "lene hai",
		"chahiye", "order karna", "order kaise", "kaise order", "kharidna", "kharidni",
		"link do", "link bhejo", "link send", "send link", "send me the link", "link please",
		"link pls", "link plz", "buy link",
		"खरीदना", "खरीदनी", "खरीदने", "चाहिए", "कीमत", "दाम", "ऑर्डर करना", "ऑर्डर कैसे",
		"लेना है", "लेनी है", "लिंक दो", "लिंक भेजो",
	},
	ruleSupportRefund: {
		"refund", "refunds", "refunded", "money back", "want my money", "paisa wapas", "paise wapas",
		"paisa vapas", "paise vapas", "paisa return", "paise return", "रिफंड", "पैसा वापस", "पैसे वापस",
	},
	ruleSupportWrongItem: {
		"wrong item", "wrong product", "wrong size", "wrong colour", "wrong color", "wrong order",
		"different product", "different item", "galat item", "galat product", "galat saman",
		"galat samaan", "galat size", "galat color", "galat colour", "galat order", "गलत सामान",
		"गलत आइटम", "गलत प्रोडक्ट", "गलत साइज", "गलत ऑर्डर",
	},
	ruleSupportNotDelivered: {
		"not delivered", "not received", "didn't receive", "didnt receive", "did not receive",
		"haven't received", "havent received", "have not received", "never arrived",
		"hasn't arrived", "hasnt arrived", "not arrived", "never came", "still waiting for my",
		"where is my order", "order nahi aaya", "order nahi mila", "order nhi aaya",
		"order abhi tak nahi",
		"delivery nahi", "order * nahi aaya", "order * nahi mila", "order * nhi aaya", "order * not delivered", "order * not received", "ऑर्डर * नहीं आया", "ऑर्डर * नहीं मिला", "abhi tak nahi aaya", "parcel nahi aaya", "product nahi aaya", "saman nahi aaya", "parcel nahi mila", "product nahi mila", "delivery nahi hui", "पार्सल नहीं आया", "अभी तक नहीं आया", "ऑर्डर नहीं आया", "ऑर्डर नहीं मिला",
	},
	ruleSupportDamaged: {
		"damaged", "defective", "broken item", "broken product", "arrived broken",
		"came broken", "received broken", "was broken", "not working",
		"doesn't work", "doesnt work", "stopped working", "tuta hua", "toota hua", "tuta hai",
		"toota hai", "tuta aaya", "phata hua", "kharab hai", "kharab aaya", "kharab nikla", "cracked screen", "खराब है", "खराब आया", "खराब निकला", "phata hai", "फटा", "टूटा", "टूटा हुआ",
		"टूटी", "काम नहीं कर",
	},
	ruleSupportReturn: {
		"return it", "return this", "return my", "return the", "want to return", "return karna",
		"return kaise", "return policy", "return request", "replacement", "replace it", "replace this", "exchange it", "exchange this", "exchange my", "want to exchange", "exchange karna",
		"wapas karna", "vapas karna", "रिटर्न", "वापस करना", "बदलना है",
	},
	ruleSupportCancel: {
		"cancel my order", "cancel order", "cancel the order", "order cancel", "cancel karna",
		"cancel karo", "cancel kar do", "कैंसिल",
	},
	ruleSupportStatus: {
		"order status", "track my order", "tracking id", "tracking number", "mera order kab",
		"mera order kaha", "mera order kahan", "order kab aayega", "order kab milega",
		"मेरा ऑर्डर कब", "मेरा ऑर्डर कहाँ", "ऑर्डर कब आएगा",
	},
	ruleAgent: {
		"agent please", "agent pls", "agent plz", "talk to * agent", "speak to * agent",
		"speak with * agent", "talk with * agent", "connect * agent", "need * agent",
		"want * agent", "connect * support", "talk to * support", "speak to * support",
		"support please", "support pls", "support plz", "need support", "human agent", "live agent", "real agent", "talk to * human",
		"speak to * human", "talk to a person", "real person", "real human", "customer care",
		"customer service", "customer support", "support team", "talk to someone",
		"speak to someone", "representative", "call me back", "agent se baat", "agent se",
		"agent chahiye", "agent ko", "insaan se baat", "kisi se baat", "baat karni hai",
		"baat karwao", "एजेंट", "एजेंट से बात", "कस्टमर केयर", "किसी से बात", "बात करनी है",
	},
}

// secondPerson are the words that aim an insult at someone: "you idiot",
// "fuck you", "u r stupid", "tu pagal hai", "तुम … हो".
// Possessives count only after the word ("fuck your channel"): before it
// they aim at a thing ("your shitty song").
var (
	secondPerson = []string{
		"you", "u", "ya", "yu", "ur", "youre", "yourself", "ura", "thou",
		"tu", "tum", "tujhe", "tujh", "tujhko", "tumhe", "tumko", "aap",
		"तू", "तुम", "तुझे", "तुझको", "तुम्हें", "तुमको", "आप",
	}
	secondPossessive = []string{
		"your", "yours", "tera", "teri", "tere", "tumhara", "tumhari", "tumhare", "aapka", "aapki",
		"तेरा", "तेरी", "तेरे", "तुम्हारा", "तुम्हारी",
	}
)

// insultBetween may stand between a second-person word and the insult
// after it: "you are a", "u r such an", "you fucking", "tu bada".
var insultBetween = []string{
	"are", "r", "re", "is", "a", "an", "such", "the", "big", "little", "fat", "dumb", "stupid",
	"total", "complete", "absolute", "ek", "bahut", "bada", "badi", "bade", "sala", "saala",
	"एक", "बड़ा", "बहुत",
}

// insultAfter may stand between an insult and the second-person word
// after it: "pagal hai tu", "idiot ho tum".
var insultAfter = []string{"hai", "ho", "h", "he", "hain", "है", "हो", "हैं"}

// leads are matched only as the first word: English questions start with them.
var leads = []string{
	"what", "whats", "when", "where", "why", "how", "who", "whose", "which", "is", "are",
	"can", "could", "do", "does", "did", "will", "would", "should", "shall", "any",
	"anyone", "anybody", "isnt", "arent", "cant", "wont",
}

// exact rules match the whole message.
var exact = map[ruleID][]string{
	ruleOptoutStop: {
		"stop", "stop all", "stopall", "unsubscribe", "cancel", "end", "quit", "opt out",
		"optout", "stop messages", "रुकें", "रुको", "रोकें", "बंद", "बंद करो", "band karo", "band kro",
	},
	ruleOptoutStart: {
		"start", "unstop", "resume", "opt in", "optin", "शुरू", "शुरू करें", "चालू", "chalu karo",
	},
	ruleAgent: {
		"agent", "human", "operator", "representative", "एजेंट",
	},
}

// privileged badges may post links and promote without being hidden.
var privileged = []string{"broadcaster", "moderator", "vip", "admin", "staff", "owner"}

// tlds end the domains that count as links. Short and common: a dot
// between two words ("ok.so", "e.g.") is not a link.
var tlds = []string{
	"com", "net", "org", "in", "io", "co", "me", "ly", "gg", "tv", "xyz", "info", "biz",
	"ru", "app", "site", "shop", "online", "store", "link", "club", "top", "be", "cc", "tk",
	"ml", "ga", "cf", "gq", "uk", "ai", "dev", "pro", "vip", "icu", "click", "live",
}

// orderWords introduce an order number; orderFillers may stand between.
var (
	orderWords   = []string{"order", "orders", "ordr", "ord", "orderid", "order_id", "order-id", "ऑर्डर", "आर्डर", "ऑडर", "ओर्डर"}
	orderFillers = []string{"no", "no.", "num", "number", "nr", "id", "is", "#", ":", "-", "ka", "ki", "ke", "hai", "का", "की", "नंबर", "संख्या", "है", "my", "mera", "मेरा"}
)

// ActingRule reports whether a reason with rule can be what made action
// a: the rules that hide (spam, flood, link) or hold (toxic, threat, and
// model spam too unsure to hide), the model's own, and a stream policy's.
// A question or support reason on a hidden message explains its labels,
// not its hiding; undo by rule acts only on acting rules. user.ban and
// user.timeout are not acting rules here: a restriction is lifted by
// unban, never undone by rule.
func ActingRule(rule string, a Action) bool {
	if strings.HasPrefix(rule, "policy.") {
		return a != Allow
	}
	switch a {
	case Hide:
		return strings.HasPrefix(rule, "spam.") || strings.HasPrefix(rule, "flood.") || strings.HasPrefix(rule, "link.") ||
			rule == "model.spam" || rule == "model.flood" || rule == "model.link"
	case Hold:
		return strings.HasPrefix(rule, "toxic.") || strings.HasPrefix(rule, "threat.") ||
			rule == "model.toxic" || rule == "model.threat" || rule == "model.spam"
	}
	return false
}

// UndoableRule reports whether rule is one that undo by rule can take:
// a rule of livemod's that hides or holds.
func UndoableRule(rule string) bool {
	if strings.HasPrefix(rule, "policy.") && len(rule) > len("policy.") {
		return true
	}
	for _, r := range rules {
		if r.name == rule {
			return ActingRule(rule, Hide) || ActingRule(rule, Hold)
		}
	}
	for _, l := range AllLabels() {
		if rule == "model."+l.String() {
			return ActingRule(rule, Hide) || ActingRule(rule, Hold)
		}
	}
	return false
}
