package policy

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Merge returns over merged over base: a key over sets replaces base's,
// except that the limits, links and actions merge key by key
// (streams: {show-b: {caps: {max_ratio: 0.9}}} keeps the default's
// min_length and action). Lists (blocked, allowed, exempt, links.allow)
// given in over replace base's.
func Merge(base, over Policy) Policy {
	out := base
	if over.Sensitivity != nil {
		out.Sensitivity = over.Sensitivity
	}
	if over.Blocked != nil {
		out.Blocked = over.Blocked
	}
	if over.Allowed != nil {
		out.Allowed = over.Allowed
	}
	if over.Exempt != nil {
		out.Exempt = over.Exempt
	}
	if over.Escalation != nil {
		out.Escalation = over.Escalation
	}
	if over.Links != nil {
		l := Links{}
		if base.Links != nil {
			l = *base.Links
		}
		o := over.Links
		if o.Allow != nil {
			l.Allow = o.Allow
		}
		if o.Block != nil {
			l.Block = o.Block
		}
		if o.Action != nil {
			l.Action = o.Action
		}
		if o.Seconds != nil {
			l.Seconds = o.Seconds
		}
		if o.Exempt != nil {
			l.Exempt = o.Exempt
		}
		out.Links = &l
	}
	out.Caps = mergeLimit(base.Caps, over.Caps)
	out.Symbols = mergeLimit(base.Symbols, over.Symbols)
	out.Emotes = mergeLimit(base.Emotes, over.Emotes)
	out.Length = mergeLimit(base.Length, over.Length)
	out.Repeats = mergeLimit(base.Repeats, over.Repeats)
	out.Zalgo = mergeLimit(base.Zalgo, over.Zalgo)
	if over.Actions != nil {
		out.Actions = maps.Clone(base.Actions)
		if out.Actions == nil {
			out.Actions = map[string]string{}
		}
		maps.Copy(out.Actions, over.Actions)
	}
	return out
}

func mergeLimit(base, over *Limit) *Limit {
	if over == nil {
		return base
	}
	if base == nil {
		return over
	}
	l := *base
	if over.Max != nil {
		l.Max = over.Max
	}
	if over.MaxRatio != nil {
		l.MaxRatio = over.MaxRatio
	}
	if over.MaxWords != nil {
		l.MaxWords = over.MaxWords
	}
	if over.MinLength != nil {
		l.MinLength = over.MinLength
	}
	if over.List != nil {
		l.List = over.List
	}
	if over.Action != nil {
		l.Action = over.Action
	}
	if over.Seconds != nil {
		l.Seconds = over.Seconds
	}
	if over.Exempt != nil {
		l.Exempt = over.Exempt
	}
	return &l
}

// Change is one key whose value differs between two policies.
type Change struct {
	Key    string `json:"key"`
	Before string `json:"before,omitempty"` // JSON; empty when the key was not set
	After  string `json:"after,omitempty"`
}

// Diff lists the keys that differ from a to b, in key order. Blocked and
// allowed entries are compared as sets: an entry added or removed is one
// change ("blocked+", "blocked-").
func Diff(a, b Policy) []Change {
	fa, fb := flatten(a), flatten(b)
	keys := slices.Sorted(maps.Keys(fa))
	for k := range fb {
		if _, ok := fa[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []Change
	for _, k := range keys {
		if fa[k] != fb[k] {
			out = append(out, Change{Key: k, Before: fa[k], After: fb[k]})
		}
	}
	return out
}

// DiffText is the audit's one-line form of Diff.
func DiffText(cs []Change) string {
	if len(cs) == 0 {
		return "no change"
	}
	var b strings.Builder
	for i, c := range cs {
		if i > 0 {
			b.WriteString("; ")
		}
		switch {
		case c.Before == "":
			fmt.Fprintf(&b, "%s: set %s", c.Key, c.After)
		case c.After == "":
			fmt.Fprintf(&b, "%s: removed %s", c.Key, c.Before)
		default:
			fmt.Fprintf(&b, "%s: %s → %s", c.Key, c.Before, c.After)
		}
		if b.Len() > 4000 {
			fmt.Fprintf(&b, "; … %d more", len(cs)-i-1)
			break
		}
	}
	return b.String()
}

// flatten maps each leaf key of p to its JSON value; list entries of
// blocked and allowed become keys of their own.
func flatten(p Policy) map[string]string {
	out := map[string]string{}
	blocked := p.Blocked
	allowed := p.Allowed
	p.Blocked, p.Allowed = nil, nil
	raw, _ := json.Marshal(p)
	var m map[string]any
	json.Unmarshal(raw, &m)
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if obj, ok := v.(map[string]any); ok {
			for k, x := range obj {
				walk(prefix+"."+k, x)
			}
			return
		}
		b, _ := json.Marshal(v)
		out[strings.TrimPrefix(prefix, ".")] = string(b)
	}
	walk("", m)
	for _, t := range blocked {
		b, _ := json.Marshal(t)
		name := "term " + t.Term
		if t.Regex != "" {
			name = "regex " + t.Regex
		}
		out["blocked["+name+"]"] = string(b)
	}
	for _, t := range allowed {
		out["allowed["+t+"]"] = "true"
	}
	return out
}

func matchesEmpty(expr string) bool {
	re, err := regexp.Compile(expr)
	return err == nil && re.MatchString("")
}
