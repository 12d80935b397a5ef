package classify

import (
	"testing"

	"github.com/livemod/livemod/chat"
)

// TestComposedIntents: threats in three languages and their look-alikes,
// delivery complaints with a negation, asking for a person, spam lures.
func TestComposedIntents(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	for _, c := range []struct {
		text string
		want chat.Label // 0: none of threat, support, agent_request, spam
	}{
		{"somebody ought to hurt him", chat.LabelThreat},
		{"someone should kill that guy", chat.LabelThreat},
		{"he deserves to die", chat.LabelThreat},
		{"they should all be shot", chat.LabelThreat},
		{"use maar do", chat.LabelThreat},
		{"isko goli maaro", chat.LabelThreat},
		{"उसे मार दो", chat.LabelThreat},
		{"sorry I hurt you yesterday", 0},
		{"you killed it today!", 0},
		{"this song kills me every time", 0},
		{"I would kill for that jacket", 0},
		{"my order still hasn't arrived", chat.LabelSupport},
		{"the parcel has not arrived yet", chat.LabelSupport},
		{"my package never came", chat.LabelSupport},
		{"abhi tak nahi mila mera order", chat.LabelSupport},
		{"order aaya nahi abhi tak", chat.LabelSupport},
		{"पार्सल अभी तक नहीं आया", chat.LabelSupport},
		{"मेरा ऑर्डर नहीं पहुंचा", chat.LabelSupport},
		{"can a real person reply", chat.LabelAgentRequest},
		{"I want to talk to a human, not a bot", chat.LabelAgentRequest},
		{"bot se baat nahi karni", chat.LabelAgentRequest},
		{"kisi insaan se baat karao", chat.LabelAgentRequest},
		{"असली इंसान से बात करनी है", chat.LabelAgentRequest},
		{"free nitro for everyone, claim now", chat.LabelSpam},
		{"steam gift giveaway, click the link", chat.LabelSpam},
		{"visit shopdeals.online for offers", chat.LabelSpam},
		{"like and subscribe guys", chat.LabelSpam},
		{"search my name on youtube", chat.LabelSpam},
		{"text WIN to 80082 now", chat.LabelSpam},
		{"150p per msg, reply STOP to end", chat.LabelSpam},
		{"ok.so what about the blue one", 0},
		{"I texted my friend to 9pm lol", 0},
	} {
		d := decide(t, e, c.text)
		got := d.Labels & chat.Labels(chat.LabelThreat|chat.LabelSupport|chat.LabelAgentRequest|chat.LabelSpam)
		if c.want == 0 && got != 0 || c.want != 0 && !got.Has(c.want) {
			t.Errorf("%q: %v %v, want %v", c.text, d.Labels.Slice(), d.Reasons, c.want)
		}
	}
}

func TestFindURLPublicSuffix(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text string
		want string
	}{
		{"visit shop.example.co.in now", "shop.example.co.in"},
		{"wa.me/919876543210", "wa.me/919876543210"},
		{"free-nitro.gift", "free-nitro.gift"},
		{"abc.github.io", "abc.github.io"},
		{"deals.in", "deals.in"},
		{"ok.so what", ""},
		{"nice.one bro", ""},
		{"hello.guys", ""},
		{"e.g. this", ""},
	} {
		a, b, ok := findURL([]byte(c.text))
		got := ""
		if ok {
			got = c.text[a:b]
		}
		if got != c.want {
			t.Errorf("findURL(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}
