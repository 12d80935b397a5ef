package classify_test

import (
	"fmt"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

func Example() {
	e, err := classify.New(classify.Options{NoModel: true})
	if err != nil {
		panic(err)
	}
	for i, text := range []string{
		"how much is the blue jacket?",
		"check out my channel bit.ly/x",
		"ऑर्डर 5521 नहीं आया",
	} {
		d := e.Decide(&chat.Message{
			ID: fmt.Sprint("m-", i), Stream: "launch",
			User: chat.User{ID: fmt.Sprint("u-", i), Name: "asha"},
			Text: text, TS: 1795000000000,
		})
		fmt.Println(string(d.Labels.AppendJSON(nil)), d.Action, d.Reasons[0].Rule, d.Reasons[0].Detail)
	}
	// Output:
	// ["question","purchase_intent"] allow question.price matched 'how much'
	// ["spam","link"] hide spam.link matched 'bit ly'
	// ["support"] allow support.not_delivered matched 'ऑर्डर … नहीं आया', order 5521
}

func ExampleNormalize() {
	fmt.Println(classify.Normalize("ＦＵＬＬ wіdth\u200b café fuuuuck"))
	// Output: full width cafe fuuck
}

func ExampleExtractOrderID() {
	fmt.Println(classify.ExtractOrderID("refund for order #A-7781 please"))
	// Output: A-7781
}
