package classify

import (
	"strings"

	"github.com/livemod/livemod/chat"
)

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
	ruleSpamGift     // gift and nitro lures, prize claims
	ruleSpamSMS      // premium-SMS patterns: short codes, per-message prices
	ruleSpamVisit    // "visit" + a bare domain
	ruleToxic        // severe: slurs, sexual harassment, gaalis, insults naming a person
	ruleToxicInsult  // mild profanity aimed at someone ("you idiot", "fuck you")
	ruleToxicMild    // mild profanity not aimed at anyone: labelled profanity, allowed
	ruleToxicGated   // ambiguous words ("kutta", "gadha"): abuse only when aimed; no label alone
	ruleToxicMention // a slur or insult mentioned, not aimed ("he called me a …", "the word …")
	ruleThreat
	ruleThreatNot // apologies and idioms that look like threats: "sorry I hurt you", "killing it"
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
	ruleAgentNotBot // not the bot: "bot se baat nahi karni", "not a bot"
	ruleOptoutStop
	ruleOptoutStart

	// Word classes: no label, never a reason; the matcher marks the words
	// of each (hits.clsAt) for the composed rules and the question cues,
	// at no cost to words of no class (compose.go).
	ruleClsPreamble
	ruleClsEmote
	ruleClsWh
	ruleClsNegatable
	ruleClsNegation
	ruleClsDelivered
	ruleClsOrder

	numRules
)

const numClasses = int(numRules - ruleClsPreamble)

// rule is what a hit means: its reason name, its label and, for support,
// the issue kind handed to agents.
type rule struct {
	name  string
	label chat.Label
	issue string
}

var rules = [numRules]rule{
	ruleLinkURL:             {"link.url", chat.LabelLink, ""},
	ruleSpamLink:            {"spam.link", chat.LabelSpam | chat.LabelLink, ""},
	ruleSpamSpacedURL:       {"spam.link", chat.LabelSpam | chat.LabelLink, ""},
	ruleSpamChannel:         {"spam.promo", chat.LabelSpam, ""},
	ruleSpamLike:            {"spam.promo", chat.LabelSpam, ""},
	ruleSpamScam:            {"spam.scam", chat.LabelSpam, ""},
	ruleSpamContact:         {"spam.contact", chat.LabelSpam, ""},
	ruleSpamPhone:           {"spam.phone", chat.LabelSpam, ""},
	ruleToxic:               {"toxic.lexicon", chat.LabelToxic, ""},
	ruleToxicInsult:         {"toxic.insult", chat.LabelToxic, ""},
	ruleToxicMild:           {"profanity", chat.LabelProfanity, ""},
	ruleToxicGated:          {"", 0, ""},
	ruleToxicMention:        {"profanity.mention", chat.LabelProfanity, ""},
	ruleThreat:              {"threat.violence", chat.LabelThreat, ""},
	ruleThreatNot:           {"", 0, ""},
	ruleSpamGift:            {"spam.scam", chat.LabelSpam, ""},
	ruleSpamSMS:             {"spam.sms", chat.LabelSpam, ""},
	ruleSpamVisit:           {"spam.link", chat.LabelSpam | chat.LabelLink, ""},
	ruleAgentNotBot:         {"agent.request", chat.LabelAgentRequest, ""},
	ruleClsPreamble:         {"", 0, ""},
	ruleClsEmote:            {"", 0, ""},
	ruleClsWh:               {"", 0, ""},
	ruleClsNegatable:        {"", 0, ""},
	ruleClsNegation:         {"", 0, ""},
	ruleClsDelivered:        {"", 0, ""},
	ruleClsOrder:            {"", 0, ""},
	ruleFloodRepeat:         {"flood.repeat", chat.LabelFlood, ""},
	ruleFloodCopypasta:      {"flood.copypasta", chat.LabelFlood, ""},
	ruleQuestionMark:        {"question.mark", chat.LabelQuestion, ""},
	ruleQuestionWord:        {"question.word", chat.LabelQuestion, ""},
	ruleQuestionPrice:       {"question.price", chat.LabelQuestion | chat.LabelPurchaseIntent, ""},
	ruleQuestionNot:         {"", 0, ""},
	rulePurchase:            {"purchase.intent", chat.LabelPurchaseIntent, ""},
	ruleSupportRefund:       {"support.refund", chat.LabelSupport, "refund"},
	ruleSupportWrongItem:    {"support.wrong_item", chat.LabelSupport, "wrong_item"},
	ruleSupportNotDelivered: {"support.not_delivered", chat.LabelSupport, "not_delivered"},
	ruleSupportDamaged:      {"support.damaged", chat.LabelSupport, "damaged"},
	ruleSupportReturn:       {"support.return", chat.LabelSupport, "return"},
	ruleSupportCancel:       {"support.cancel", chat.LabelSupport, "cancel"},
	ruleSupportStatus:       {"support.order_status", chat.LabelSupport, "order_status"},
	ruleAgent:               {"agent.request", chat.LabelAgentRequest, ""},
	ruleOptoutStop:          {"optout.stop", chat.LabelOptout, ""},
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
		"like and subscribe", "like & subscribe", "like n subscribe", "like subscribe",
		"like share subscribe", "like share and subscribe", "hit the like", "smash that like",
		"smash the like", "hit subscribe", "hit that subscribe", "press the bell", "hit the bell",
		"ring the bell", "bell icon", "search my name", "search my channel", "search for my",
		"search * on youtube", "search * in youtube", "type * in youtube", "type * on youtube",
		"search * on google", "search * on instagram", "youtube pe search", "youtube par search",
		"search karo", "search kare", "search karein", "सर्च करें", "सर्च करो", "लाइक और सब्सक्राइब",
		"like aur subscribe", "like or subscribe", "like n share",
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
	ruleSpamGift: {
		"free nitro", "discord nitro", "nitro giveaway", "nitro for free", "nitro free",
		"steam gift", "free steam", "gift card giveaway", "giftcard giveaway", "claim your gift", "claim your free", "claim it now", "claim now",
		"free skins", "free skin", "free gems", "free diamonds", "free uc", "free coins", "free v bucks",
		"free vbucks", "free robux", "airdrop", "you won a prize", "claim your prize", "claim your reward", "claim your gift card", "giveaway link", "you have been selected",
		"you've been selected", "you are selected", "you have won", "you've won", "u have won",
		"won a prize", "congratulations you", "congrats you won", "prize money",
		"cash prize", "lucky winner", "lucky draw", "आपने जीता", "इनाम जीता", "लकी ड्रा",
		"lucky winner",
	},
	ruleSpamSMS: {
		"reply * to claim", "send * to claim",
		"per msg", "per txt", "per text", "per message", "msg rate", "msg rates", "std rates",
		"std txt rate", "150p", "pence per", "ppm",
		"premium rate", "t&cs apply", "t&c apply", "tcs apply", "opt out reply", "to opt out",
		"call 09", "call 0800", "call 0871", "call 0906", "call 0870", "ringtone", "urgent call",
		"mobile number has won", "claim code", "prize code", "bonus caller",
	},
	ruleSpamVisit: {},
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
		// Third person, incitement, passive.
		"kill him", "kill her", "kill them", "kill that", "kill this guy", "kill those",
		"murder him", "murder her", "shoot him", "shoot her", "shoot them", "stab him", "stab her",
		"hurt him", "hurt her", "hurt them", "beat him up", "beat her up", "beat them up",
		"should be killed", "should be shot", "should be hanged", "should be beaten", "should be burned",
		"should be lynched", "ought to be killed", "ought to be shot", "needs to be killed",
		"needs to be shot", "deserves to die", "deserve to die", "deserves to be killed",
		"deserves to be shot", "should die", "must die", "should be dead", "hope you die",
		"hope he dies", "hope she dies", "hope they die", "hope u die", "wish you were dead",
		"someone should kill", "somebody should kill", "someone should hurt", "somebody should hurt",
		"someone ought to", "somebody ought to", "someone needs to kill", "somebody needs to kill",
		"let's kill", "lets kill", "go kill", "go and kill", "burn them", "burn his house",
		"burn her house", "will be killed", "will be shot", "gonna get shot",
		"use maar", "usko maar", "unko maar", "inko maar", "isko maar", "sabko maar", "maar daalo", "maar dalo", "maro saalo", "maaro sab", "kaat dalo", "kaat daalo", "goli maro", "goli maaro", "thok denge", "peet do",
		"zinda nahi chhodenge", "zinda nahi chodenge", "zinda nahi chodunga",
		"gonna stab", "lynch them", "lynch him", "lynch her", "exterminate them", "kill them all",
		"kill all of them", "shoot them all", "hang them all", "should all be killed",
		"should all die", "should all be shot", "wipe them out", "gas them",
		"hang them", "string them up", "put a bullet",
		"vadh kar", "ka vadh", "vadh karunga", "katl kar", "qatl kar", "katl karunga", "qatl karunga",
		"zinda jala", "jinda jala", "maar dalenge", "maronga",
		"maroonga", "kaat denge", "kaat dunga", "haddi tod", "tang tod",
		"वध कर", "का वध", "कत्ल कर", "क़त्ल कर", "ज़िंदा जला", "जिंदा जला", "काट देंगे",
		"उसे मार", "उसको मार", "इसको मार", "इन्हें मार", "उन्हें मार", "मार डालो",
		"काट डालो", "गोली मारो", "ज़िंदा नहीं छोड़ेंगे",
		"ज़िंदा नहीं छोड़ूंगा", "मार देना चाहिए", "मार देने चाहिए",
	},
	// Apologies and idioms that share a threat's words: they cancel
	// threat.violence (engine.go).
	ruleThreatNot: {
		"sorry i hurt", "sorry for hurting", "sorry if i hurt", "didn't mean to hurt",
		"didnt mean to hurt", "did not mean to hurt", "never meant to hurt", "never wanted to hurt",
		"i apologize", "i apologise", "my apologies", "forgive me", "maaf kar", "maafi", "sorry yaar",
		"killing it", "killed it", "kill it", "kills it", "killin it", "you killed", "u killed",
		"kill me", "killing me", "kills me", "killed me", "dead meat lol",
		"kill for a", "would kill for", "i'd kill for", "killer", "killa", "dying to",
		"माफ़ कर", "माफ कर", "माफी",
	},
	ruleQuestionWord: {
		"how much", "how many", "how long", "how to", "how do", "how can", "is there",
		"are there", "can i", "can you", "can we", "do you", "does it", "will it",
		"r u", "r you", "r ya", "are u", "are you", "have you", "have u", "did you", "did u",
		"do u", "does anyone", "has anyone", "is anyone", "anyone know", "any idea", "kya aap",
		"kya tum", "kya koi", "kya ye", "kya yeh", "kya wo", "kya isme",
		"what is", "whats the", "when will", "where is", "any discount",
		"kya", "kab", "kaise", "kaisa", "kaisi", "kahan", "kaha hai", "kaha se", "kidhar",
		"kyun", "kyu", "kyon", "kitne", "kitna", "kitni", "kaun", "konsa", "kaunsa", "konsi",
		"क्या", "कब", "कैसे", "कैसा", "कैसी", "कहाँ", "कहां", "क्यों", "कितना", "कितने", "कितनी",
		"कौन", "कौनसा", "कौन सा",
	},
	ruleQuestionNot: {
		"kya baat", "kya bat", "kya mast", "kya scene", "kya kamal", "क्या बात", "क्या कमाल",
		"what a", "what an", "what the hell", "what the heck", "what the fuck", "how cute",
		"how nice", "how sweet", "how beautiful", "how cool", "how lovely", "how amazing",
		"how awesome", "how funny", "how sad", "how pretty", "how gorgeous", "how stunning",
		"who cares", "guess what", "you know what", "know what i mean", "what else is new",
		"kya khoob", "kya gaana", "kya song", "kya voice", "kya awaaz", "kya performance",
		"kya game", "kya match", "kya shot", "kya look", "क्या खूब", "what nice", "what beautiful",
		"what cute", "what lovely", "what great", "do not", "cant wait", "cant stop",
		"are wah", "are waah", "are yaar", "are yar", "are bhai", "are baba", "are re", "are nahi",
		"are haan", "kya bakwas", "kya bakwaas", "kya faltu", "kya bekar", "kya ghatiya", "kya cheez",
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
		"still hasn't arrived", "still hasnt arrived", "still not arrived", "still not received",
		"still not delivered", "still haven't got", "still havent got", "still haven't received",
		"still havent received", "still not here", "still hasn't come", "still hasnt come",
		"still not come", "still waiting", "yet to receive", "yet to get", "yet to be delivered",
		"not yet delivered", "not yet received", "not yet arrived", "hasn't been delivered",
		"hasnt been delivered", "has not been delivered", "hasn't reached", "hasnt reached",
		"not reached", "didn't get my", "didnt get my", "did not get my", "haven't got my",
		"havent got my", "have not got my", "never got my", "never received", "never delivered",
		"didn't arrive", "didnt arrive", "did not arrive", "didn't come", "didnt come",
		"abhi tak nahi mila", "abhi tak nhi mila", "abhi tak nahi aya", "abhi tak nhi aaya",
		"abhi tak nhi aya", "ab tak nahi", "ab tak nhi", "abhi tak deliver nahi", "nahi pahuncha",
		"nahi pahucha", "nhi pahuncha", "nhi pahucha", "deliver nahi hua", "deliver nhi hua",
		"delivery nhi", "nahi mila abhi", "nhi mila abhi", "mila nahi", "mila nhi", "aaya nahi",
		"aya nahi", "aaya nhi", "aya nhi", "नहीं पहुंचा", "नहीं पहुँचा", "अभी तक नहीं मिला",
		"डिलीवर नहीं हुआ", "डिलीवरी नहीं हुई", "अब तक नहीं", "मिला नहीं", "आया नहीं",
	},
	ruleSupportDamaged: {
		"damaged", "defective", "broken item", "broken product", "arrived broken",
		"came broken", "received broken", "was broken", "not working",
		"doesn't work", "doesnt work", "stopped working", "tuta hua", "toota hua", "tuta hai",
		"toota hai", "tuta aaya", "phata hua", "kharab hai", "kharab aaya", "kharab nikla", "cracked screen", "खराब है", "खराब आया", "खराब निकला", "phata hai", "फटा", "टूटा", "टूटा हुआ",
		"टूटी", "काम नहीं कर",
	},
	ruleSupportReturn: {
		// A question about the policy ("return policy kya hai?") is a
		// question for the FAQ, not a case: these name the viewer's own
		// return or replacement. Bare "return the", "replacement" and
		// "replace it" matched chat that is about neither ("return the
		// next year", "Holder's replacement", "replace it with canvas").
		"return it", "return this", "return my", "want to return", "return karna", "return kaise",
		"return request", "how do i return", "how can i return", "how do we return", "return the item",
		"return the product", "return the order",
		"return the parcel", "return the package", "need a replacement", "want a replacement",
		"get a replacement", "send a replacement", "send replacement", "replacement chahiye",
		"replacement nahi", "replacement nhi", "replacement kab", "replacement for my",
		"replacement karo", "replacement kar do", "replace my", "please replace", "want to replace",
		"need to replace", "replace karo", "replace kar do", "replace karna", "exchange it",
		"exchange this", "exchange my", "want to exchange", "exchange karna",
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
		"real person", "actual person", "actual human", "live person", "a person reply",
		"person reply", "human reply", "someone real", "someone from support", "someone from your team",
		"a human please", "human please", "human pls", "talk to a human", "speak to a human",
		"talk to human", "speak to human", "chat with a human", "chat with a person",
		"connect me to a human", "connect me to someone", "transfer me", "escalate",
		"insaan se", "insan se", "insaan chahiye", "insan chahiye", "asli insaan", "kisi insaan",
		"koi insaan", "koi banda", "kisi bande se", "admin se baat", "manager se baat",
		"support se baat", "इंसान से", "इंसान चाहिए", "असली इंसान", "किसी इंसान", "मैनेजर से बात",
	},
	ruleAgentNotBot: {
		"not a bot", "not the bot", "not with a bot", "not with the bot", "no bot", "no bots",
		"stop the bot", "not talking to a bot", "don't want a bot", "dont want a bot",
		"don't want the bot", "dont want the bot", "not a robot", "bot se nahi", "bot se nhi",
		"bot se baat nahi", "bot se baat nhi", "bot nahi", "bot nhi", "बॉट से नहीं", "बॉट नहीं",
		"bot se baat nahi karni", "bot wala nahi", "bot band karo",
	},
}

// secondPerson are the words that aim an insult at someone: "you idiot",
// "fuck you", "u r stupid", "tu pagal hai", "तुम … हो".
// Possessives count only after the word ("fuck your channel"): before it
// they aim at a thing ("your shitty song").
var (
	secondPerson = []string{
		"you", "u", "ya", "yu", "ur", "youre", "yourself", "ura", "thou",
		"tu", "tum", "tujhe", "tujh", "tujhko", "tumhe", "tumko", "aap", "tumlog",
		"abe", "abey", "oye", "oyee", "oi", "bey", "nikal", "nikl", "bhag", "chup",
		"तू", "तुम", "तुझे", "तुझको", "तुम्हें", "तुमको", "आप", "अबे", "ओए",
	}
	// kin are the words of the kinship frame: "teri maa …", "tera baap …",
	// "maa ki …", "behen ke …".
	kin = []string{
		"maa", "ma", "mai", "mummy", "mumy", "mom", "mother", "amma", "behen", "bahen", "bahan",
		"behan", "sister", "baap", "bap", "papa", "dad", "father", "khandan", "khaandan", "family",
		"bete", "beta", "aulad", "aulaad", "olad", "bachhe", "bachche", "bacche", "pille", "pilla",
		"माँ", "मां", "मम्मी", "बहन", "बाप", "खानदान", "औलाद", "बेटे", "बच्चे", "पिल्ले",
	}
	// genitive are the words before a name-like word that make it a body
	// part or an insult of someone's ("modi ka lund", "mera lund"): they
	// frame allow-listed words that are also lexicon entries.
	genitive = []string{
		"ka", "ki", "ke", "ra", "ri", "re", "mera", "meri", "mere", "tera", "teri", "tere",
		"uska", "uski", "uske", "iska", "iski", "iske", "my", "his", "your", "ur",
		"का", "की", "के", "मेरा", "तेरा", "उसका",
	}
	// mentionAfter are the verbs of calling and saying that, right after
	// an insult, make it a quotation: "randi bulana band karo", "chinki
	// bolna galat hai".
	mentionAfter = []string{
		"bolna", "bola", "bolte", "bolne", "bulana", "bulaya", "bulate", "bulane", "kehna", "kehne",
		"kehte", "kahte", "kaha", "kahna", "कहना", "बोलना", "कहते", "बुलाना", "कहा", "बोला", "कहने",
	}
	// mentionCue are words after which an insult is reported or named,
	// not aimed: "he called me a …", "the word …", "stop saying …".
	mentionCue = []string{
		"word", "words", "term", "slur", "slurs", "called", "calling", "call", "say", "said",
		"saying", "says", "use", "using", "used", "quote", "bolna", "bola", "bolte", "kehna",
		"kaha", "kehte", "kehti", "kahte", "bulana", "bulaya", "bulate", "kehne", "bolne", "shabd",
		"कहा", "बोला", "शब्द", "कहना", "बोलना", "कहते", "बुलाना",
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
	"ho", "hai", "h", "bhi", "to", "toh", "hi", "pura", "poora", "sabse", "ekdum", "ek dum",
	"एक", "बड़ा", "बहुत", "हो", "है", "भी", "तो", "पूरा",
}

// insultAfter may stand between an insult and the second-person word
// after it: "pagal hai tu", "idiot ho tum".
var insultAfter = []string{"hai", "ho", "h", "he", "hain", "hi", "है", "हो", "हैं", "ka", "ki", "ke", "ने"}

// leads are matched only as the first word: English questions start with them.
var leads = []string{
	"what", "whats", "when", "where", "why", "how", "who", "whose", "which", "is", "are",
	"can", "could", "do", "does", "did", "will", "would", "should", "shall", "any",
	"anyone", "anybody", "isnt", "arent", "cant", "wont",
	"hows", "whos", "wheres", "whens", "whys", "wat", "wht", "wut", "r", "any1", "ne1",
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
func ActingRule(rule string, a chat.Action) bool {
	if strings.HasPrefix(rule, "policy.") {
		return a != chat.Allow
	}
	switch a {
	case chat.Hide:
		return strings.HasPrefix(rule, "spam.") || strings.HasPrefix(rule, "flood.") || strings.HasPrefix(rule, "link.") ||
			rule == "model.spam" || rule == "model.flood" || rule == "model.link"
	case chat.Hold:
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
			return ActingRule(rule, chat.Hide) || ActingRule(rule, chat.Hold)
		}
	}
	for _, l := range chat.AllLabels() {
		if rule == "model."+l.String() {
			return ActingRule(rule, chat.Hide) || ActingRule(rule, chat.Hold)
		}
	}
	return false
}
