package policy_test

import (
	"context"
	"fmt"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
	"github.com/livemod/livemod/policy"
)

// A shop's policy: its own link is shown, a follower seller's term is
// hidden with the channel's reason.
func ExampleBook() {
	cfg, err := policy.ParseYAML([]byte(`
policy:
  default:
    blocked: [{term: cheapfollows, reason: "follower sellers"}]
    links: {allow: [shopname.in], action: hide}
`))
	if err != nil {
		panic(err)
	}
	engine, _ := classify.New(classify.Options{})
	book, err := policy.New(engine, cfg, policy.Options{})
	if err != nil {
		panic(err)
	}
	defer book.Close(context.Background())
	for _, text := range []string{"get ch3ap f0llows here", "the jacket: https://shopname.in/blue", "cheaper at rival.in"} {
		d := book.Decide(&chat.Message{ID: "m", Stream: "show", User: chat.User{ID: "u"}, Text: text, TS: 1795000000000})
		out := d.Action.String()
		if len(d.Reasons) > 0 {
			out += " " + d.Reasons[0].Rule + ": " + d.Reasons[0].Detail
		}
		fmt.Println(out)
	}
	// Output:
	// hide policy.term:cheapfollows: follower sellers
	// allow
	// hide policy.links: link 'rival.in' is not on the channel's allow-list
}
