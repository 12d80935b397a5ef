package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the policy section of livemod.yaml: a default for every
// stream and per-stream overrides merged over it.
type Config struct {
	Default Policy            `yaml:"default" json:"default"`
	Streams map[string]Policy `yaml:"streams" json:"streams,omitempty"`
}

// Policy is one stream's own rules. Every field is optional: a nil or
// missing field keeps what the policy it is merged over says (see
// Merge), and a policy with nothing set changes no decision.
type Policy struct {
	// Sensitivity is the model's strictness, 0 (off) to 4, as AutoMod
	// levels; see Thresholds. Missing keeps the engine's thresholds.
	Sensitivity *int `yaml:"sensitivity,omitempty" json:"sensitivity,omitempty"`
	// Blocked are the channel's terms and regexes, each with its action.
	Blocked []Term `yaml:"blocked,omitempty" json:"blocked,omitempty"`
	// Allowed are terms the built-in lexicons never flag on the stream.
	Allowed []string `yaml:"allowed,omitempty" json:"allowed,omitempty"`
	Links   *Links   `yaml:"links,omitempty" json:"links,omitempty"`
	// The limits. Each applies from its min_length on (runes of the
	// message) and skips the exempt badges.
	Caps    *Limit `yaml:"caps,omitempty" json:"caps,omitempty"`       // max_ratio of capitals among letters
	Symbols *Limit `yaml:"symbols,omitempty" json:"symbols,omitempty"` // max_ratio of symbols, punctuation and emoji among non-space characters
	Emotes  *Limit `yaml:"emotes,omitempty" json:"emotes,omitempty"`   // max emotes (words of list) in one message
	Length  *Limit `yaml:"length,omitempty" json:"length,omitempty"`   // max characters
	Repeats *Limit `yaml:"repeats,omitempty" json:"repeats,omitempty"` // max run of one character; max_words: most times one word
	Zalgo   *Limit `yaml:"zalgo,omitempty" json:"zalgo,omitempty"`     // max combining marks on one character
	// Exempt are the badges the limits and links skip (broadcaster,
	// moderator, vip, subscriber, …). A rule's own exempt replaces it.
	Exempt []string `yaml:"exempt,omitempty" json:"exempt,omitempty"`
	// Actions say what each label does on the stream: allow, hide, hold,
	// timeout or timeout:SECONDS.
	Actions map[string]string `yaml:"actions,omitempty" json:"actions,omitempty"`
	// Escalation turns repeat offences into a timeout.
	Escalation *Escalation `yaml:"escalation,omitempty" json:"escalation,omitempty"`
}

// Term is one blocked term or regex.
type Term struct {
	Term  string `yaml:"term,omitempty" json:"term,omitempty"`
	Regex string `yaml:"regex,omitempty" json:"regex,omitempty"`
	// Action is hide (the default), hold or timeout (for Seconds, zero
	// meaning 600).
	Action  string   `yaml:"action,omitempty" json:"action,omitempty"`
	Seconds int      `yaml:"seconds,omitempty" json:"seconds,omitempty"`
	Reason  string   `yaml:"reason,omitempty" json:"reason,omitempty"`
	Exempt  []string `yaml:"exempt,omitempty" json:"exempt,omitempty"`
}

// Links is the link rule: registrable domains (shopname.in covers
// www.shopname.in and shop.shopname.in) allowed or blocked. Bare IP
// addresses and links written out ("shop dot com") are links too.
type Links struct {
	Allow []string `yaml:"allow,omitempty" json:"allow,omitempty"`
	Block []string `yaml:"block,omitempty" json:"block,omitempty"`
	// Action is what a link not allowed does (a blocked one hides if it
	// is missing). Missing leaves other links to the built-in rules.
	Action  *string  `yaml:"action,omitempty" json:"action,omitempty"`
	Seconds *int     `yaml:"seconds,omitempty" json:"seconds,omitempty"`
	Exempt  []string `yaml:"exempt,omitempty" json:"exempt,omitempty"`
}

// Limit is one limit. Which keys apply depends on the limit (see
// Policy); the others are refused.
type Limit struct {
	Max       *int     `yaml:"max,omitempty" json:"max,omitempty"`
	MaxRatio  *float64 `yaml:"max_ratio,omitempty" json:"max_ratio,omitempty"`
	MaxWords  *int     `yaml:"max_words,omitempty" json:"max_words,omitempty"`
	MinLength *int     `yaml:"min_length,omitempty" json:"min_length,omitempty"`
	List      []string `yaml:"list,omitempty" json:"list,omitempty"` // emotes only
	Action    *string  `yaml:"action,omitempty" json:"action,omitempty"`
	Seconds   *int     `yaml:"seconds,omitempty" json:"seconds,omitempty"`
	Exempt    []string `yaml:"exempt,omitempty" json:"exempt,omitempty"`
}

// Escalation: Offences hides of one user within Window lead to a
// timeout of Seconds. Window is written "10m" in YAML and JSON.
type Escalation struct {
	Offences int           `yaml:"offences" json:"offences"`
	Window   time.Duration `yaml:"window" json:"-"`
	Seconds  int           `yaml:"seconds" json:"seconds"`
}

type escalationJSON struct {
	Offences int    `json:"offences"`
	Window   string `json:"window"`
	Seconds  int    `json:"seconds"`
}

// MarshalJSON writes the window as a duration ("10m0s").
func (e Escalation) MarshalJSON() ([]byte, error) {
	return json.Marshal(escalationJSON{e.Offences, e.Window.String(), e.Seconds})
}

// UnmarshalJSON reads the window as a duration ("10m", "90s").
func (e *Escalation) UnmarshalJSON(b []byte) error {
	var j escalationJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	w, err := time.ParseDuration(j.Window)
	if err != nil && j.Window != "" {
		return fmt.Errorf("escalation.window: %q is not a duration; write e.g. 10m or 90s", j.Window)
	}
	*e = Escalation{Offences: j.Offences, Window: w, Seconds: j.Seconds}
	return nil
}

// Bounds on one policy: a policy is edited by people over REST and
// checked on every message, so each part is bounded.
const (
	MaxTerms      = 5000 // blocked entries
	MaxRegexes    = 200
	MaxTermBytes  = 100
	MaxRegexBytes = 1000
	// MaxRegexInsts bounds one regex's compiled program: RE2 runs in
	// time linear in the text times the program's size, so a regex like
	// (\w+\s*){1,100} or [a-z]{1,500} that compiles to hundreds of
	// instructions is refused as slow. Ordinary chat regexes compile to
	// 10–60; 500 is also where Go stops using its fastest matcher.
	MaxRegexInsts = 500
	// MaxTotalInsts bounds all the regexes of a policy together.
	MaxTotalInsts = 10000
	MaxListLen    = 1000 // allowed, links.allow/block, emotes.list, exempt
	MaxStreams    = 1000 // per-stream overrides
	MaxStreamID   = 128
	MaxTimeout    = 14 * 24 * 3600 // seconds, as Twitch and the desk
	MaxWindow     = 24 * time.Hour
)

// Sentinel errors.
var (
	ErrInvalid = errors.New("policy: invalid")
)

// ParseYAML reads a policy document: either a livemod.yaml-style
// "policy:" section (default and streams) or one stream's policy at the
// top level. Unknown keys are errors.
func ParseYAML(b []byte) (Config, error) {
	var probe map[string]any
	if err := yaml.Unmarshal(b, &probe); err != nil {
		return Config{}, fmt.Errorf("policy: %w", err)
	}
	var c Config
	if _, ok := probe["policy"]; ok {
		var doc struct {
			Policy Config `yaml:"policy"`
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("policy: %w", err)
		}
		c = doc.Policy
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&c.Default); err != nil && !errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("policy: %w", err)
		}
	}
	return c, c.Validate("policy")
}

// ParseJSON reads one stream's policy as JSON (the REST body). Unknown
// keys are errors; the policy is validated.
func ParseJSON(b []byte) (Policy, error) {
	var p Policy
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("policy: %w; send one stream's policy as a JSON object", err)
	}
	if dec.More() {
		return p, errors.New("policy: more than one JSON value; send one object")
	}
	return p, p.Validate("policy")
}

// Validate reports every problem of c at once, each naming its key
// under prefix (e.g. "policy.streams.show-b.caps.max_ratio").
func (c *Config) Validate(prefix string) error { return join(c.Problems(prefix)) }

// Problems lists every problem of c, each starting with its key under
// prefix: the config file reports each at its line.
func (c *Config) Problems(prefix string) []error {
	errs := c.Default.problems(prefix + ".default")
	if len(c.Streams) > MaxStreams {
		errs = append(errs, fmt.Errorf("%s.streams: %d streams; at most %d", prefix, len(c.Streams), MaxStreams))
	}
	ids := make([]string, 0, len(c.Streams))
	for id := range c.Streams {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if id == "" || len(id) > MaxStreamID {
			errs = append(errs, fmt.Errorf("%s.streams: stream id %q must be 1 to %d bytes", prefix, id, MaxStreamID))
			continue
		}
		p := c.Streams[id]
		errs = append(errs, p.problems(prefix+".streams."+id)...)
	}
	return errs
}

// Validate reports every problem of p at once, each naming its key
// under prefix.
func (p *Policy) Validate(prefix string) error { return join(p.problems(prefix)) }

func join(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
}

// problems lists what is wrong with p.
func (p *Policy) problems(key string) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if p.Sensitivity != nil && (*p.Sensitivity < 0 || *p.Sensitivity > 4) {
		add("%s.sensitivity: %d is out of range; use 0 (off) to 4 (strictest)", key, *p.Sensitivity)
	}
	if len(p.Blocked) > MaxTerms {
		add("%s.blocked: %d entries; at most %d", key, len(p.Blocked), MaxTerms)
	}
	regexes, insts := 0, 0
	for i, t := range p.Blocked {
		k := fmt.Sprintf("%s.blocked[%d]", key, i)
		switch {
		case t.Term == "" && t.Regex == "":
			add("%s: give a term or a regex", k)
		case t.Term != "" && t.Regex != "":
			add("%s: give a term or a regex, not both; write two entries", k)
		case t.Term != "":
			if len(t.Term) > MaxTermBytes {
				add("%s.term: longer than %d bytes", k, MaxTermBytes)
			} else if !hasWord(t.Term) {
				add("%s.term: %q has no letters or digits to match", k, t.Term)
			}
		default:
			regexes++
			n, err := regexInsts(t.Regex)
			if err != nil {
				add("%s.regex: %v", k, err)
			}
			insts += n
		}
		if err := checkAction(t.Action, false); err != nil {
			add("%s.action: %v", k, err)
		}
		if t.Seconds < 0 || t.Seconds > MaxTimeout {
			add("%s.seconds: %d is out of range; use 1 to %d (14 days), or 0 for 600", k, t.Seconds, MaxTimeout)
		} else if t.Seconds != 0 && t.Action != "timeout" {
			add("%s.seconds: only a timeout has seconds; set action: timeout", k)
		}
		if len(t.Reason) > 200 {
			add("%s.reason: longer than 200 bytes", k)
		}
		errs = append(errs, badgeProblems(k+".exempt", t.Exempt)...)
	}
	if regexes > MaxRegexes {
		add("%s.blocked: %d regexes; at most %d", key, regexes, MaxRegexes)
	}
	if insts > MaxTotalInsts {
		add("%s.blocked: the regexes compile to %d instructions together; at most %d: simplify or remove some", key, insts, MaxTotalInsts)
	}
	errs = append(errs, listProblems(key+".allowed", p.Allowed, MaxTermBytes)...)
	for i, t := range p.Allowed {
		if !hasWord(t) {
			add("%s.allowed[%d]: %q has no letters or digits", key, i, t)
		}
	}
	if l := p.Links; l != nil {
		k := key + ".links"
		errs = append(errs, listProblems(k+".allow", l.Allow, 253)...)
		errs = append(errs, listProblems(k+".block", l.Block, 253)...)
		for i, d := range l.Allow {
			if err := checkDomain(d); err != nil {
				add("%s.allow[%d]: %v", k, i, err)
			}
		}
		for i, d := range l.Block {
			if err := checkDomain(d); err != nil {
				add("%s.block[%d]: %v", k, i, err)
			}
		}
		if l.Action != nil {
			if err := checkAction(*l.Action, true); err != nil {
				add("%s.action: %v", k, err)
			}
		}
		errs = append(errs, secondsProblems(k, l.Action, l.Seconds)...)
		errs = append(errs, badgeProblems(k+".exempt", l.Exempt)...)
	}
	for _, lim := range []struct {
		name string
		l    *Limit
	}{{"caps", p.Caps}, {"symbols", p.Symbols}, {"emotes", p.Emotes}, {"length", p.Length}, {"repeats", p.Repeats}, {"zalgo", p.Zalgo}} {
		if lim.l != nil {
			errs = append(errs, lim.l.problems(key+"."+lim.name, lim.name)...)
		}
	}
	errs = append(errs, badgeProblems(key+".exempt", p.Exempt)...)
	labels := make([]string, 0, len(p.Actions))
	for l := range p.Actions {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	for _, l := range labels {
		if !slices.Contains(ActionLabels, l) {
			add("%s.actions.%s: not a label a channel sets; use %s", key, l, strings.Join(ActionLabels, ", "))
			continue
		}
		if _, _, err := parseAct(p.Actions[l]); err != nil {
			add("%s.actions.%s: %v", key, l, err)
		}
	}
	if e := p.Escalation; e != nil {
		k := key + ".escalation"
		if e.Offences < 1 || e.Offences > 100 {
			add("%s.offences: %d is out of range; use 1 to 100 hides", k, e.Offences)
		}
		if e.Window <= 0 || e.Window > MaxWindow {
			add("%s.window: %v is out of range; use e.g. 10m, at most 24h", k, e.Window)
		}
		if e.Seconds < 0 || e.Seconds > MaxTimeout {
			add("%s.seconds: %d is out of range; use 1 to %d, or 0 for 600", k, e.Seconds, MaxTimeout)
		}
	}
	return errs
}

// ActionLabels are the labels whose action a channel sets.
var ActionLabels = []string{"spam", "toxic", "threat", "flood", "link", "profanity"}

// limitKeys are the keys each limit takes besides action, seconds and
// exempt; the first is required.
var limitKeys = map[string][]string{
	"caps":    {"max_ratio", "min_length"},
	"symbols": {"max_ratio", "min_length"},
	"emotes":  {"max", "min_length", "list"},
	"length":  {"max"},
	"repeats": {"max", "max_words", "min_length"},
	"zalgo":   {"max", "min_length"},
}

func (l *Limit) problems(k, name string) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	keys := limitKeys[name]
	set := map[string]bool{
		"max": l.Max != nil, "max_ratio": l.MaxRatio != nil, "max_words": l.MaxWords != nil,
		"min_length": l.MinLength != nil, "list": l.List != nil,
	}
	for _, key := range []string{"max", "max_ratio", "max_words", "min_length", "list"} {
		if set[key] && !slices.Contains(keys, key) {
			add("%s.%s: not a key of %s; it takes %s, action, seconds, exempt", k, key, name, strings.Join(keys, ", "))
		}
	}
	if l.MaxRatio != nil && !(*l.MaxRatio > 0 && *l.MaxRatio <= 1) {
		add("%s.max_ratio: %v is out of range; use a ratio in (0, 1], e.g. 0.7", k, *l.MaxRatio)
	}
	if l.Max != nil && (*l.Max < 1 || *l.Max > 100000) {
		add("%s.max: %d is out of range; use 1 or more", k, *l.Max)
	}
	if l.MaxWords != nil && (*l.MaxWords < 1 || *l.MaxWords > 10000) {
		add("%s.max_words: %d is out of range; use 1 or more", k, *l.MaxWords)
	}
	if l.MinLength != nil && (*l.MinLength < 0 || *l.MinLength > 100000) {
		add("%s.min_length: %d is out of range; use 0 or more characters", k, *l.MinLength)
	}
	errs = append(errs, listProblems(k+".list", l.List, 63)...)
	if l.Action != nil {
		if err := checkAction(*l.Action, true); err != nil {
			add("%s.action: %v", k, err)
		}
	}
	errs = append(errs, secondsProblems(k, l.Action, l.Seconds)...)
	errs = append(errs, badgeProblems(k+".exempt", l.Exempt)...)
	return errs
}

func secondsProblems(k string, action *string, seconds *int) []error {
	if seconds == nil {
		return nil
	}
	if *seconds < 0 || *seconds > MaxTimeout {
		return []error{fmt.Errorf("%s.seconds: %d is out of range; use 1 to %d (14 days), or 0 for 600", k, *seconds, MaxTimeout)}
	}
	if action != nil && *action != "timeout" {
		return []error{fmt.Errorf("%s.seconds: only a timeout has seconds; set action: timeout", k)}
	}
	return nil
}

// Badges a rule may exempt. Platforms send more; these are the roles a
// channel reasons about.
var Badges = []string{"broadcaster", "moderator", "vip", "subscriber", "founder", "admin", "staff", "owner", "member"}

func badgeProblems(k string, list []string) []error {
	var errs []error
	if len(list) > len(Badges) {
		errs = append(errs, fmt.Errorf("%s: %d badges; at most %d", k, len(list), len(Badges)))
	}
	for i, b := range list {
		if !slices.Contains(Badges, canonBadge(b)) {
			errs = append(errs, fmt.Errorf("%s[%d]: %q is not a badge; use %s", k, i, b, strings.Join(Badges, ", ")))
		}
	}
	return errs
}

func listProblems(k string, list []string, maxBytes int) []error {
	var errs []error
	if len(list) > MaxListLen {
		errs = append(errs, fmt.Errorf("%s: %d entries; at most %d", k, len(list), MaxListLen))
	}
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			errs = append(errs, fmt.Errorf("%s[%d]: empty", k, i))
		} else if len(s) > maxBytes {
			errs = append(errs, fmt.Errorf("%s[%d]: longer than %d bytes", k, i, maxBytes))
		}
	}
	return errs
}

// checkAction checks an action name; limits and links may not allow
// (a limit that allows is a limit left out).
func checkAction(a string, limit bool) error {
	switch a {
	case "hide", "hold", "timeout":
		return nil
	case "":
		if !limit {
			return nil // hide
		}
	}
	return fmt.Errorf("%q is not an action; use hide, hold or timeout", a)
}

// parseAct reads a label action: allow, hide, hold, timeout or
// timeout:SECONDS.
func parseAct(s string) (name string, seconds int, err error) {
	name, sec, found := strings.Cut(s, ":")
	switch name {
	case "allow", "hide", "hold":
		if found {
			return "", 0, fmt.Errorf("%q: only a timeout has seconds", s)
		}
		return name, 0, nil
	case "timeout":
		if !found {
			return name, 600, nil
		}
		n, err := strconv.Atoi(sec)
		if err != nil || n < 1 || n > MaxTimeout {
			return "", 0, fmt.Errorf("%q: write timeout:SECONDS with 1 to %d seconds", s, MaxTimeout)
		}
		return name, n, nil
	}
	return "", 0, fmt.Errorf("%q is not an action; use allow, hide, hold, timeout or timeout:SECONDS", s)
}

// regexInsts compiles a regex as RE2 and returns its program size, or
// why it is refused.
func regexInsts(expr string) (int, error) {
	if len(expr) > MaxRegexBytes {
		return 0, fmt.Errorf("longer than %d bytes", MaxRegexBytes)
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return 0, fmt.Errorf("%v (RE2 syntax: no lookaround or backreferences)", err)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return 0, err
	}
	if n := len(prog.Inst); n > MaxRegexInsts {
		return n, fmt.Errorf("too large (%d instructions, at most %d): a regex this size is slow on every message; split it or bound its repeats", n, MaxRegexInsts)
	}
	if prog.StartCond()&^(syntax.EmptyBeginLine|syntax.EmptyBeginText|syntax.EmptyWordBoundary|syntax.EmptyNoWordBoundary) != 0 {
		return len(prog.Inst), errors.New("can never match")
	}
	if re.Simplify().Op == syntax.OpEmptyMatch || matchesEmpty(expr) {
		return len(prog.Inst), errors.New("matches the empty text, so every message; make it require something")
	}
	return len(prog.Inst), nil
}

func hasWord(s string) bool {
	for _, r := range s {
		if r > 127 || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' {
			return true
		}
	}
	return false
}

// canonBadge maps a platform's badge ("moderator/1", "Mod") to its name.
func canonBadge(b string) string {
	if i := strings.IndexByte(b, '/'); i >= 0 {
		b = b[:i]
	}
	b = strings.ToLower(strings.TrimSpace(b))
	switch b {
	case "mod":
		return "moderator"
	case "sub":
		return "subscriber"
	case "streamer", "host":
		return "broadcaster"
	}
	return b
}
