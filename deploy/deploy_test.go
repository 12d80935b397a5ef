// Package deploy holds no code: its test checks that the container kit
// (the Dockerfile at the repository's root, compose.yaml, livemod.yaml,
// the Prometheus and Grafana files) holds together without Docker.
package deploy

import (
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/livemod/livemod/config"
)

type compose struct {
	Services map[string]service `yaml:"services"`
	Secrets  map[string]struct {
		Environment string `yaml:"environment"`
		File        string `yaml:"file"`
	} `yaml:"secrets"`
	Volumes map[string]any `yaml:"volumes"`
}

type service struct {
	Image       string                                `yaml:"image"`
	Build       *struct{ Context, Dockerfile string } `yaml:"build"`
	Command     []string                              `yaml:"command"`
	Environment map[string]string                     `yaml:"environment"`
	Volumes     []string                              `yaml:"volumes"`
	Ports       []string                              `yaml:"ports"`
	DependsOn   yaml.Node                             `yaml:"depends_on"`
	Secrets     []string                              `yaml:"secrets"`
}

// dependsOn returns the services s depends on, in either of compose's
// forms (a list, or a map with conditions).
func (s service) dependsOn() []string {
	var out []string
	switch s.DependsOn.Kind {
	case yaml.SequenceNode:
		for _, n := range s.DependsOn.Content {
			out = append(out, n.Value)
		}
	case yaml.MappingNode:
		for i := 0; i < len(s.DependsOn.Content); i += 2 {
			out = append(out, s.DependsOn.Content[i].Value)
		}
	}
	return out
}

// mount returns the host path mounted at target ("" when none).
func (s service) mount(target string) string {
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == target {
			return parts[0]
		}
	}
	return ""
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// interpolation is compose's ${VAR}, ${VAR:-default}, ${VAR:?error}.
var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?+][^}]*)?\}`)

// expand substitutes compose's variables with env.
func expand(s string, env map[string]string) string {
	return interpolation.ReplaceAllStringFunc(s, func(m string) string {
		return env[interpolation.FindStringSubmatch(m)[1]]
	})
}

func TestCompose(t *testing.T) {
	var c compose
	readYAML(t, "compose.yaml", &c)
	for _, name := range []string{"node-a", "node-b", "redis", "prometheus", "grafana"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("compose.yaml has no service %s (has %v)", name, keys(c.Services))
		}
	}

	// Every host path it mounts exists.
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			if src := strings.Split(v, ":")[0]; strings.HasPrefix(src, ".") {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("service %s mounts volume %s, which is not declared", name, src)
			}
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %s beyond the host's loopback", name, p)
			}
		}
	}

	// Redis keeps an append-only file.
	redis := c.Services["redis"]
	if i := slices.Index(redis.Command, "--appendonly"); i < 0 || i+1 >= len(redis.Command) || redis.Command[i+1] != "yes" {
		t.Errorf("redis command %q: want --appendonly yes", redis.Command)
	}

	// The nodes: built from the Dockerfile, the config mounted and valid
	// with the tokens compose gives them, Redis named by its service.
	env := map[string]string{}
	for _, v := range interpolation.FindAllStringSubmatch(mustRead(t, "compose.yaml"), -1) {
		env[v[1]] = "test-secret-" + strings.ToLower(v[1]) // MinSecretLen and more
	}
	for _, name := range []string{"node-a", "node-b"} {
		s := c.Services[name]
		if s.Build == nil || s.Build.Context != ".." || s.Build.Dockerfile != "Dockerfile" {
			t.Errorf("%s: build %+v, want the repository's Dockerfile", name, s.Build)
		}
		if !slices.Contains(s.dependsOn(), "redis") {
			t.Errorf("%s does not depend on redis", name)
		}
		i := slices.Index(s.Command, "--config")
		if i < 0 || i+1 >= len(s.Command) {
			t.Fatalf("%s: command %q has no --config", name, s.Command)
		}
		src := s.mount(s.Command[i+1])
		if src == "" {
			t.Fatalf("%s: nothing is mounted at %s", name, s.Command[i+1])
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		cfg := config.Defaults()
		if err := config.Parse(b, &cfg); err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if err := cfg.ApplyEnv(func(k string) string { return expand(s.Environment[k], env) }); err != nil {
			t.Fatalf("%s: environment: %v", name, err)
		}
		if len(cfg.Auth.Tokens) < 3 {
			t.Errorf("%s gets %d tokens from its environment", name, len(cfg.Auth.Tokens))
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %s does not validate with the compose environment: %v", name, src, err)
		}
		if host, _, err := net.SplitHostPort(cfg.Listen); err != nil || host != "0.0.0.0" {
			t.Errorf("%s listens on %q, want 0.0.0.0 inside the container", name, cfg.Listen)
		}
		u, err := url.Parse(cfg.Redis)
		if err != nil || u.Scheme != "redis" || u.Hostname() != "redis" {
			t.Errorf("%s: redis %q, want redis://redis:6379/0 (the compose service)", name, cfg.Redis)
		}
		if cfg.Cluster.Node != name {
			t.Errorf("%s: cluster.node %q, want the service's name", name, cfg.Cluster.Node)
		}
		if a, err := url.Parse(cfg.Cluster.Advertise); err != nil || a.Hostname() != name {
			t.Errorf("%s: cluster.advertise %q, want http://%s:PORT (where the other node reaches it)", name, cfg.Cluster.Advertise, name)
		} else if _, port, _ := net.SplitHostPort(cfg.Listen); a.Port() != port {
			t.Errorf("%s: advertises port %s, listens on %s", name, a.Port(), cfg.Listen)
		}
		for _, p := range s.Ports {
			if _, port, _ := net.SplitHostPort(cfg.Listen); !strings.HasSuffix(p, ":"+port) {
				t.Errorf("%s publishes %s, but listens on %s", name, p, cfg.Listen)
			}
		}
	}

	// Prometheus scrapes both nodes with a token the nodes accept and
	// loads the alert rules.
	prom := c.Services["prometheus"]
	promFile := prom.mount("/etc/prometheus/prometheus.yml")
	if promFile == "" {
		t.Fatal("prometheus: no prometheus.yml mounted")
	}
	var pc struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			Authorization struct {
				CredentialsFile string `yaml:"credentials_file"`
			} `yaml:"authorization"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, promFile, &pc)
	for _, r := range pc.RuleFiles {
		if prom.mount(path.Join("/etc/prometheus", r)) == "" {
			t.Errorf("prometheus: rule file %s is not mounted", r)
		}
	}
	if !slices.Contains(pc.RuleFiles, "alerts.yml") {
		t.Errorf("prometheus: rule_files %v lack alerts.yml", pc.RuleFiles)
	}
	var targets []string
	for _, sc := range pc.ScrapeConfigs {
		if sc.JobName != "livemod" { // the alert rules select job="livemod"
			continue
		}
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
		secret, ok := strings.CutPrefix(sc.Authorization.CredentialsFile, "/run/secrets/")
		if !ok || !slices.Contains(prom.Secrets, secret) {
			t.Errorf("prometheus authorizes with %q, not one of its secrets %v", sc.Authorization.CredentialsFile, prom.Secrets)
		} else if src := c.Secrets[secret].Environment; src != "LIVEMOD_MODERATOR_TOKEN" && src != "LIVEMOD_ADMIN_TOKEN" {
			t.Errorf("secret %s comes from %q, not a moderator or admin token the nodes have", secret, src)
		}
	}
	for _, want := range []string{"node-a:8080", "node-b:8080"} {
		if !slices.Contains(targets, want) {
			t.Errorf("prometheus job livemod scrapes %v, not %s", targets, want)
		}
	}

	// Grafana: the data source is the compose Prometheus and the
	// dashboard is mounted where the provider looks.
	g := c.Services["grafana"]
	var ds struct {
		Datasources []struct{ Type, URL string } `yaml:"datasources"`
	}
	dsFile := g.mount("/etc/grafana/provisioning/datasources/livemod.yaml")
	if dsFile == "" {
		t.Fatal("grafana: no data source provisioned")
	}
	readYAML(t, dsFile, &ds)
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || !strings.HasPrefix(ds.Datasources[0].URL, "http://prometheus:") {
		t.Errorf("grafana data sources %+v", ds.Datasources)
	}
	var dp struct {
		Providers []struct {
			Options struct{ Path string } `yaml:"options"`
		} `yaml:"providers"`
	}
	dpFile := g.mount("/etc/grafana/provisioning/dashboards/livemod.yaml")
	if dpFile == "" {
		t.Fatal("grafana: no dashboard provider provisioned")
	}
	readYAML(t, dpFile, &dp)
	if len(dp.Providers) != 1 || filepath.Clean(g.mount(path.Join(dp.Providers[0].Options.Path, "livemod.json"))) != filepath.Join("grafana", "livemod.json") {
		t.Errorf("grafana: grafana/livemod.json is not mounted under the provider's path %+v", dp.Providers)
	}

	// Every variable compose needs is in the README.
	readme := mustRead(t, "README.md")
	for v := range env {
		if !strings.Contains(readme, v) {
			t.Errorf("README.md does not mention %s, which compose.yaml needs", v)
		}
	}
}

// TestDockerfile: multi-stage, a static build, a non-root final stage
// that exposes the port the nodes listen on and runs `livemod serve`.
func TestDockerfile(t *testing.T) {
	df := mustRead(t, "../Dockerfile")
	var froms, users []string
	var expose, entry string
	for _, line := range strings.Split(df, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, f[1])
		case "USER":
			users = append(users, f[1])
		case "EXPOSE":
			expose = f[1]
		case "ENTRYPOINT":
			entry = strings.Join(f[1:], " ")
		}
	}
	if len(froms) < 2 || !strings.HasPrefix(froms[0], "golang:1.26") {
		t.Errorf("stages %v: want golang:1.26 to build, then a small final image", froms)
	}
	if last := froms[len(froms)-1]; !strings.Contains(last, "distroless/static") && last != "scratch" {
		t.Errorf("final stage %s: want distroless/static or scratch", last)
	}
	if !strings.Contains(df, "CGO_ENABLED=0") {
		t.Error("the build is not static (CGO_ENABLED=0)")
	}
	if len(users) == 0 || slices.Contains([]string{"0", "root", "0:0"}, users[len(users)-1]) {
		t.Errorf("USER %v: want a non-root user", users)
	}
	if expose != "8080" {
		t.Errorf("EXPOSE %q, want 8080", expose)
	}
	if !strings.Contains(entry, `"livemod", "serve"`) && !strings.Contains(entry, `/livemod", "serve"`) {
		t.Errorf("ENTRYPOINT %s: want livemod serve", entry)
	}
}

func mustRead(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func keys[M ~map[string]V, V any](m M) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
