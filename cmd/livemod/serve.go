package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/livemod/livemod/app"
	"github.com/livemod/livemod/auth"
	"github.com/livemod/livemod/config"
)

// serverFlags are the flags serve and demo share.
type serverFlags struct {
	config string
	listen string
	data   string
	pprof  bool
	tokens multiFlag
	model  string
	cert   string
	key    string
	verb   string // serve or demo, for messages
	redis  string
	node   string
	adv    string
}

func (f *serverFlags) register(fs *flag.FlagSet) {
	f.verb = fs.Name()
	fs.StringVar(&f.config, "config", "", "`file` to read (livemod.yaml); flags override it")
	fs.StringVar(&f.listen, "listen", "", "`host:port` to listen on (default 127.0.0.1:8080); a non-loopback address needs tokens")
	fs.StringVar(&f.data, "data", "", "`dir` for the durable store: audit log, handoffs, opt-outs (default ./livemod-data)")
	fs.StringVar(&f.redis, "redis", "", "`URL` of the Redis that several nodes share (redis://host:6379/0); without it, one node runs alone (docs/SCALING.md)")
	fs.StringVar(&f.node, "node-id", "", "this node's `id` in a cluster (default: the host name and a random suffix)")
	fs.StringVar(&f.adv, "advertise", "", "the `URL` other nodes reach this one at (default: http:// and the listen address)")
	fs.StringVar(&f.model, "model", "", "model `file` written by livemod train (default: the embedded model; \"none\" for rules only)")
	fs.BoolVar(&f.pprof, "pprof", false, "serve Go profiles at /debug/pprof/ (admin token)")
	fs.StringVar(&f.cert, "tls-cert", "", "serve HTTPS and wss:// with this certificate `file` (PEM, the chain after the leaf); with --tls-key")
	fs.StringVar(&f.key, "tls-key", "", "the private key `file` (PEM) of --tls-cert")
	fs.Var(&f.tokens, "token", "`ROLE=SECRET` token (repeatable; ROLE:STREAM[+STREAM]=SECRET limits it to those streams); roles: ingest, host, moderator, agent, admin; also LIVEMOD_TOKENS=\"admin=s1,ingest=s2\"")
}

// load reads the config file and environment, then applies the flags.
func (f *serverFlags) load() (config.Config, error) {
	cfg, err := config.Load(f.config)
	if err != nil {
		return cfg, err
	}
	if f.listen != "" {
		cfg.Listen = f.listen
		cfg.Override("listen", "--listen")
	}
	if f.data != "" {
		cfg.Data = f.data
		cfg.Override("data", "--data")
	}
	if f.redis != "" {
		cfg.Redis = f.redis
		cfg.Override("redis", "--redis")
	}
	if f.node != "" {
		cfg.Cluster.Node = f.node
		cfg.Override("cluster.node", "--node-id")
	}
	if f.adv != "" {
		cfg.Cluster.Advertise = f.adv
		cfg.Override("cluster.advertise", "--advertise")
	}
	if f.model != "" {
		cfg.Classify.Model = f.model
		cfg.Override("classify.model", "--model")
	}
	if f.cert != "" || f.key != "" {
		cfg.TLS = config.TLS{Cert: f.cert, Key: f.key}
		cfg.Override("tls", "--tls-cert/--tls-key")
	}
	cfg.Pprof = cfg.Pprof || f.pprof
	for _, s := range f.tokens {
		t, err := auth.ParseToken(s)
		if err != nil {
			return cfg, usagef("%s: --token: %v", f.verb, err)
		}
		cfg.Auth.Tokens = append(cfg.Auth.Tokens, t)
	}
	return cfg, nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [--config livemod.yaml] [--listen 127.0.0.1:8080] [--data DIR] [--redis URL] [--token ROLE=SECRET]… [--tls-cert FILE --tls-key FILE]", stderr)
	var f serverFlags
	f.register(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve: unexpected argument %q", fs.Arg(0))
	}
	cfg, err := f.load()
	if err != nil {
		return err
	}
	a, err := app.New(cfg, stderr)
	if err != nil {
		return err
	}
	if err := a.Listen(); err != nil {
		a.Close()
		return err
	}
	fmt.Fprintf(stderr, "livemod: listening on %s (ingest %s/v1/ingest?stream=ID; pages: %s/?token=TOKEN)\n", a.BaseURL("http"), a.BaseURL("ws"), a.BaseURL("http"))
	if id, adv := a.ClusterNode(); id != "" {
		fmt.Fprintf(stderr, "livemod: node %s of a cluster over Redis, advertised at %s (docs/SCALING.md)\n", id, adv)
	}
	if len(cfg.Auth.Tokens) == 0 {
		fmt.Fprintln(stderr, "livemod: no tokens configured: every endpoint but /healthz will refuse requests; add --token ROLE=SECRET")
	}
	if f.config != "" {
		app.WatchReload(ctx, func() {
			if err := a.ReloadPolicy(f.config); err != nil {
				fmt.Fprintln(stderr, "livemod: SIGHUP:", err)
				return
			}
			fmt.Fprintln(stderr, "livemod: SIGHUP: policy reloaded from", f.config, "(other keys take effect on restart)")
		})
	}
	return a.Serve(ctx)
}
