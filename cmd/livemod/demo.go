package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"sync"

	"github.com/livemod/livemod/app"
	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/bench"
	"github.com/livemod/livemod/config"
)

const demoStream = "demo"

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "demo [--rate 8] [serve flags]", stderr)
	var f serverFlags
	f.register(fs)
	rate := fs.Float64("rate", 8, "synthetic audience `messages per second`")
	seed := fs.Int64("seed", 1, "synthetic audience random `seed`")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("demo: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	if cfg.TLS.Cert != "" {
		return usagef("demo: --tls-cert and --tls-key are for serve; the demo runs over plain HTTP on loopback")
	}
	if f.data == "" && cfg.Data == config.Defaults().Data {
		// A demo keeps nothing: its store lives in a temp dir.
		dir, err := os.MkdirTemp("", "livemod-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.Data = dir
	}
	// Give every role a token, so each page opens with its own role: the
	// demo shows the product as it runs for real, tokens and all.
	tokens := map[auth.Role]string{}
	for _, t := range cfg.Auth.Tokens {
		if _, ok := tokens[t.Role]; !ok {
			tokens[t.Role] = t.Secret
		}
	}
	for _, r := range auth.Roles {
		if _, ok := tokens[r]; !ok {
			s := "demo-" + string(r) + "-" + randomHex(8)
			tokens[r] = s
			cfg.Auth.Tokens = append(cfg.Auth.Tokens, auth.Token{Name: "demo-" + string(r), Role: r, Secret: s})
		}
	}
	a, err := app.New(cfg, stderr)
	if err != nil {
		return err
	}
	if err := a.Listen(); err != nil {
		a.Close()
		return err
	}
	base := "http://" + a.Addr()
	q := func(role auth.Role) string {
		return url.Values{"token": {tokens[role]}, "stream": {demoStream}}.Encode()
	}
	fmt.Fprintf(stdout, `livemod demo: a synthetic audience is chatting on stream %q (%g messages/s).

Open:
  host overlay      %s/overlay/%s?token=%s
  host controls     %s/host/%s?token=%s
  moderator console %s/moderator?%s
  moderator tools   %s/moderator/tools?%s
  agent inbox       %s/agent?%s
  every page        %s/?token=%s

Live decisions, one JSON object a line:
  websocket        ws://%s/v1/subscribe?%s&view=moderator
Metrics:           curl -H 'Authorization: Bearer %s' %s/metrics
Send your own:     ws://%s/v1/ingest?stream=%s with 'Authorization: Bearer %s'

Ctrl-C stops.
`, demoStream, *rate,
		base, demoStream, url.QueryEscape(tokens[auth.RoleHost]),
		base, demoStream, url.QueryEscape(tokens[auth.RoleHost]),
		base, q(auth.RoleModerator),
		base, q(auth.RoleModerator),
		base, q(auth.RoleAgent),
		base, url.QueryEscape(tokens[auth.RoleAdmin]),
		a.Addr(), q(auth.RoleModerator),
		tokens[auth.RoleAdmin], base,
		a.Addr(), demoStream, tokens[auth.RoleIngest])

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := bench.Feed(ctx, bench.FeedOptions{
			URL:    "ws://" + a.Addr(),
			Token:  tokens[auth.RoleIngest],
			Stream: demoStream,
			Rate:   *rate,
			Seed:   *seed,
			Log:    stderr,
		})
		if err != nil && ctx.Err() == nil {
			fmt.Fprintln(stderr, "livemod demo: audience stopped:", err)
		}
	}()
	err = a.Serve(ctx)
	cancel()
	wg.Wait()
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
