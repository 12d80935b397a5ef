package bench

// The lines of the synthetic audience of a live-shopping show: English,
// Hindi (Devanagari) and Hinglish, as such chat reads. Holes: {p} product,
// {n} order number, {q} quantity, {m} mobile number, {r} rupees.

var firstNames = []string{
	"asha", "rahul", "priya", "vikram", "neha", "arjun", "sneha", "rohan", "pooja", "aditya",
	"kavya", "sanjay", "meera", "imran", "divya", "karan", "anjali", "farhan", "isha", "manoj",
	"ritu", "deepak", "zara", "nikhil", "shreya", "amit", "simran", "harsh", "tanvi", "yusuf",
	"lakshmi", "gaurav", "nisha", "suresh", "ayesha", "varun", "bhavna", "kabir", "megha", "raj",
	"emma", "liam", "sofia", "noah", "mia", "lucas", "chloe", "ethan", "grace", "omar",
}

var botNames = []string{"earn_daily_", "promo.queen", "crypto_guru_", "free_gifts_hub", "insta_growth_", "loan_fast_"}

var products = []string{
	"blue jacket", "red saree", "silk kurta", "white sneakers", "gold earrings",
	"matte lipstick", "smartwatch", "denim jacket", "cotton dupatta", "leather bag",
}

var chatLines = parseTemplates(
	"love this!", "love this!!", "so pretty 😍", "nice", "wow", "beautiful", "looks amazing",
	"hello everyone", "hi from Pune 👋", "hi from Delhi", "hello from Dubai", "good evening all",
	"namaste 🙏", "नमस्ते", "नमस्ते दीदी 🙏", "bahut badhiya 🔥", "bahut sundar hai", "kya baat hai 👏",
	"mast collection", "superb quality", "बहुत सुंदर", "बढ़िया है", "wah wah", "first time here!",
	"🔥🔥🔥", "❤️❤️", "😍😍😍", "👏👏👏", "PogChamp", "Kappa", "LUL", "💯", "🙌",
	"the {p} looks so good", "{p} is 🔥", "that color suits you", "your voice is so sweet",
	"been waiting for this show all week", "watching from the office 🤫", "is this live?",
	"yes live", "lol", "haha", "same", "+1", "agree", "ok", "👍",
	"didi aap bahut achha samjhati ho", "kal ka show bhi dekha tha", "music kaunsa hai?",
	"audio thoda low hai", "video lag ho raha hai", "now it's fine", "love from Bangalore ❤️",
)

var questionLines = parseTemplates(
	"how much is the {p}?", "{p} price?", "price?", "price please", "what is the price of the {p}",
	"kitne ka hai ye jacket?", "kitne ka hai?", "{p} kitne ka hai?", "price kya hai?",
	"ये जैकेट कितने की है?", "इसकी कीमत क्या है?", "साड़ी कितने की है?",
	"shipping kab tak hogi?", "when will it arrive?", "how long is delivery to Chennai?",
	"delivery kitne din me hogi?", "डिलीवरी कब तक होगी?", "is shipping free?",
	"COD available hai?", "cash on delivery available?", "COD hai kya?", "क्या COD है?",
	"what sizes do you have?", "XL size hai?", "size chart?", "is the {p} available in black?",
	"what material is it?", "fabric kaunsa hai?", "is it washable?", "return policy kya hai?",
	"can I return if it doesn't fit?", "EMI option hai?", "do you ship to the US?",
	"discount code?", "koi offer hai?", "is the {p} original?",
)

var buyerLines = parseTemplates(
	"I want to buy the {p}", "I want to buy the red saree", "mujhe 2 chahiye", "mujhe {q} chahiye",
	"how do I order", "how do I order the {p}?", "link please", "where do I buy?",
	"मुझे ये चाहिए", "मुझे {q} पीस चाहिए", "book kar do mere liye", "add to cart kaise karu?",
	"I'll take {q}", "ordering now!", "just ordered the {p} 🛍️", "want {q} for my sisters",
	"is it in stock? want to buy now",
)

var supportLines = parseTemplates(
	"my order {n} hasn't arrived", "my order 5521 hasn't arrived", "order {n} not delivered yet",
	"refund chahiye order #7781", "refund chahiye order #{n}", "I want a refund for order {n}",
	"wrong item mila", "wrong item mila order {n}", "got the wrong size, order {n}",
	"ऑर्डर 4410 टूटा हुआ आया", "ऑर्डर {n} टूटा हुआ आया", "मेरा ऑर्डर {n} अभी तक नहीं आया",
	"paisa kat gaya par order nahi hua", "payment failed but money deducted, order {n}",
	"still waiting for my refund, 2 weeks now", "package damaged 😡 order #{n}",
)

var agentLines = parseTemplates(
	"agent please", "talk to a human", "can I talk to a real person?", "need an agent",
	"customer care se baat karni hai", "koi agent hai?", "एजेंट से बात करनी है",
	"human please, the bot isn't helping", "please connect me to support",
)

var stopLines = parseTemplates("STOP", "stop", "STOP", "START")

var spamLines = parseTemplates(
	"check my channel youtube.com/@freegiftz{q} 🔥", "check my channel!! best deals",
	"earn ₹{r} daily whatsapp +91 {m}", "earn ₹5000 daily work from home whatsapp +91 {m}",
	"crypto signals 500% profit join t.me/pumpgroup{n}", "FREE iPhone giveaway 👉 bit.ly/fr33-{n}",
	"follow me for follow back", "sub4sub anyone?", "cheap followers at https://growfast.example/{n}",
	"investment double in 7 days DM me", "Bitcoin 10x guaranteed 🚀🚀 wa.me/91{m}",
	"loan in 5 minutes no documents call {m}",
)

var pastaLines = parseTemplates(
	"🚨 THIS STREAM HAS BEEN RAIDED BY THE SAREE SQUAD 🚨 DROP A 🥻 IF YOU ARE WITH US",
	"if you can read this you are legally required to buy the blue jacket 😤",
	"THE GOAT OF LIVE SHOPPING 🐐🐐🐐 NOBODY DOES IT LIKE DIDI",
	"ek like to banta hai 👍👍👍 share karo sab log",
	"💸💸💸 SALE SALE SALE 💸💸💸 SALE SALE SALE 💸💸💸",
)

var trollLines = parseTemplates(
	"this show is trash", "you're an idiot", "f u c k this show", "id1ot host lol",
	"you are an i\u200bd\u200bi\u200bo\u200bt", "ѕtupid hоst", "sh1t products, total scam",
	"st*pid overpriced garbage", "bakwas show, chup kar", "pagal hai kya?? scam hai ye sab",
	"nobody buys this crap", "F.U.C.K off", "kys", "shut up already",
	"ye sab fraud hai, mat kharido",
)

var reactLines = parseTemplates(
	"mods??", "ignore the troll", "block him", "chill bro", "why so rude", "report karo isko",
	"don't feed the troll", "ignore karo 🙄",
)

var linesOf = [numKinds][]template{
	KindChat:      chatLines,
	KindQuestion:  questionLines,
	KindBuyer:     buyerLines,
	KindSupport:   supportLines,
	KindAgent:     agentLines,
	KindStop:      stopLines,
	KindSpam:      spamLines,
	KindCopypasta: pastaLines,
	KindTroll:     trollLines,
}
