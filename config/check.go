package config

// The strict reading of livemod.yaml. The file is first parsed into a
// yaml.Node tree, which is walked against the Config type by reflection:
// every key is looked up among the fields of its section, every value is
// checked against the field's type, and numeric fields are held to the
// range in their `check` tag. Every problem is collected, each with the
// key path, the line and what is allowed, before anything is decoded. A
// section added to Config later gets all of this without code of its own:
// a yaml tag makes its keys known, a `check` tag bounds its numbers.

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a configuration: where it is and what to
// do about it.
type Problem struct {
	File string // the config file, when the problem came from one
	Line int    // 1-based line in File; zero when unknown
	Key  string // the key path: ingest.max_frame_bytes, faq[2].id
	Msg  string // what is wrong and what is allowed
}

func (p Problem) Error() string {
	var b strings.Builder
	switch {
	case p.File != "" && p.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", p.File, p.Line)
	case p.File != "":
		b.WriteString(p.File + ": ")
	case p.Line > 0:
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found at once. Its Error holds one problem a
// line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find a single Problem.
func (ps Problems) Unwrap() []error {
	errs := make([]error, len(ps))
	for i := range ps {
		errs[i] = ps[i]
	}
	return errs
}

var (
	durationType    = reflect.TypeOf(time.Duration(0))
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
)

// checker walks a yaml.Node tree against a Go type.
type checker struct {
	file  string
	lines map[string]int // key path → line of its value
	probs Problems
	nodes int // nodes visited: aliases may repeat a tree, or loop
}

// maxNodes bounds the walk: a config is a few hundred nodes, while YAML
// aliases can make a short file expand without end.
const maxNodes = 1 << 16

func (c *checker) add(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	c.probs = append(c.probs, Problem{File: c.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// walk checks n as a value of type t at key path key; tag is the
// `check` tag of the field that holds it.
func (c *checker) walk(n *yaml.Node, t reflect.Type, key, tag string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if c.nodes++; c.nodes > maxNodes {
		if c.nodes == maxNodes+1 {
			c.add(n, key, "the file expands to more than %d values (aliases that repeat or refer to themselves?)", maxNodes)
		}
		return
	}
	if key != "" {
		c.lines[key] = n.Line
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value leaves the default
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return // the type reads itself; the decoder reports its errors
	}
	switch t.Kind() {
	case reflect.Pointer:
		c.walk(n, t.Elem(), key, tag)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			c.add(n, key, "expected a section of keys (%s), got %s", strings.Join(fieldNames(t), ", "), describe(n))
			return
		}
		fields := structFields(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			name := k.Value
			path := join(key, name)
			if first, dup := seen[name]; dup {
				c.add(k, path, "given twice (lines %d and %d); keep one", first, k.Line)
				continue
			}
			seen[name] = k.Line
			f, ok := fields[name]
			if !ok {
				c.unknownKey(k, key, name, fieldNames(t))
				continue
			}
			c.walk(v, f.Type, path, f.Tag.Get("check"))
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			c.add(n, key, "expected a list (one \"- item\" a line, or [a, b]), got %s", describe(n))
			return
		}
		for i, item := range n.Content {
			c.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", key, i), tag)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			c.add(n, key, "expected keys and values (name: value), got %s", describe(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kv := reflect.New(t.Key())
			if err := k.Decode(kv.Interface()); err != nil {
				c.add(k, join(key, k.Value), "%s is not a valid key here: %s", quoteValue(k), typeWords(t.Key()))
				continue
			}
			c.walk(v, t.Elem(), join(key, k.Value), tag)
		}
	case reflect.Interface:
		// anything goes
	default:
		c.scalar(n, t, key, tag)
	}
}

// scalar checks one value against a scalar type and its range.
func (c *checker) scalar(n *yaml.Node, t reflect.Type, key, tag string) {
	if n.Kind != yaml.ScalarNode {
		c.add(n, key, "expected %s, got %s", typeWords(t), describe(n))
		return
	}
	v := reflect.New(t)
	bad := n.Decode(v.Interface()) != nil
	switch {
	case t == durationType:
		// YAML reads 5 as a number, which would be 5 nanoseconds.
		bad = bad || n.Tag != "!!str"
	case isInt(t.Kind()):
		// YAML would truncate 2.5 to 2 without a word.
		bad = bad || n.Tag != "!!int"
	}
	if bad {
		c.add(n, key, "%s is not %s", quoteValue(n), typeWords(t))
		return
	}
	if msg := checkRange(tag, v.Elem()); msg != "" {
		c.add(n, key, "%s", msg)
	}
}

func (c *checker) unknownKey(k *yaml.Node, section, name string, allowed []string) {
	where := "the top level"
	if section != "" {
		where = section
	}
	msg := fmt.Sprintf("unknown key in %s", where)
	if s := suggest(name, allowed); s != "" {
		msg += fmt.Sprintf("; did you mean %s?", s)
	} else {
		msg += "."
	}
	msg += " Allowed: " + strings.Join(allowed, ", ")
	c.add(k, join(section, name), "%s", msg)
}

// structFields maps yaml key → field, following inline structs.
func structFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range structFields(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // yaml.v3's default
		}
		out[name] = f
	}
	return out
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for k := range structFields(t) {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// describe names what a node holds, in a user's words.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a section of keys"
	case yaml.SequenceNode:
		return "a list"
	}
	return "the value " + quoteValue(n)
}

func quoteValue(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return describe(n)
	}
	v := n.Value
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	if n.Tag == "!!str" {
		return strconv.Quote(v)
	}
	return v
}

// typeWords says what a Go type accepts, for someone writing YAML.
func typeWords(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration (a number with a unit: 30s, 500ms, 2m, 1h)"
	case isInt(t.Kind()):
		return "a whole number (e.g. 3)"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "a number (e.g. 0.75)"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.String:
		return "a single value (text)"
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() == reflect.Map, t.Kind() == reflect.Struct:
		return "a section of keys"
	}
	return "a " + t.String()
}

func isInt(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// checkRange holds a number to its field's `check` tag, for example
// `check:"min=2,max=1024,default=4"`. Zero always passes: in livemod's
// config zero means the documented default, which default= names for the
// message. It returns what is wrong, or "".
func checkRange(tag string, v reflect.Value) string {
	if tag == "" || v.IsZero() {
		return ""
	}
	var min, max, def string
	for _, part := range strings.Split(tag, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "min":
			min = val
		case "max":
			max = val
		case "default":
			def = val
		}
	}
	x, ok := number(v)
	if !ok {
		return ""
	}
	dflt := "0 for the default"
	if def != "" {
		dflt = "0 for the default (" + def + ")"
	}
	isDur := v.Type() == durationType
	if min != "" {
		if m, err := parseBound(min, isDur); err == nil && x < m {
			return fmt.Sprintf("%s is too small; use at least %s, or %s", show(v), min, dflt)
		}
	}
	if max != "" {
		if m, err := parseBound(max, isDur); err == nil && x > m {
			return fmt.Sprintf("%s is too large; use at most %s, or %s", show(v), max, dflt)
		}
	}
	return ""
}

func number(v reflect.Value) (float64, bool) {
	switch {
	case v.CanInt():
		return float64(v.Int()), true
	case v.CanUint():
		return float64(v.Uint()), true
	case v.CanFloat():
		return v.Float(), true
	}
	return 0, false
}

func parseBound(s string, isDur bool) (float64, error) {
	if isDur {
		d, err := time.ParseDuration(s)
		return float64(d), err
	}
	return strconv.ParseFloat(s, 64)
}

func show(v reflect.Value) string {
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	return fmt.Sprint(v.Interface())
}

// checkValues holds every number in v (a config struct) to its `check`
// tag, for values that did not come from a file (set in code, or by a
// later layer).
func checkValues(v reflect.Value, key, tag string, add func(key, msg string)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			checkValues(v.Elem(), key, tag, add)
		}
	case reflect.Struct:
		if v.Type() == durationType {
			break
		}
		t := v.Type()
		for name, f := range structFields(t) {
			fv := v.FieldByIndex(f.Index)
			checkValues(fv, join(key, name), f.Tag.Get("check"), add)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			checkValues(v.Index(i), fmt.Sprintf("%s[%d]", key, i), tag, add)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			checkValues(iter.Value(), join(key, fmt.Sprint(iter.Key().Interface())), tag, add)
		}
	default:
		if msg := checkRange(tag, v); msg != "" {
			add(key, msg)
		}
	}
}

// suggest returns the allowed name closest to name, if one is close
// enough to be a typo.
func suggest(name string, allowed []string) string {
	best, bestD := "", math.MaxInt
	lname := strings.ToLower(name)
	for _, a := range allowed {
		d := editDistance(lname, a)
		if d < bestD {
			best, bestD = a, d
		}
	}
	limit := 2
	if len(name) > 8 {
		limit = 3
	}
	if bestD <= limit {
		return best
	}
	// A prefix or a missing separator (maxframebytes) is a typo too.
	for _, a := range allowed {
		if strings.ReplaceAll(a, "_", "") == strings.ReplaceAll(strings.ReplaceAll(lname, "-", ""), "_", "") ||
			(len(lname) >= 4 && strings.HasPrefix(a, lname)) {
			return a
		}
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, by rune.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlProblems turns the YAML library's errors into Problems: a syntax
// error, or the type errors of a type that reads itself.
func yamlProblems(file string, err error) Problems {
	var te *yaml.TypeError
	var msgs []string
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var out Problems
	for _, m := range msgs {
		p := Problem{File: file}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			p.Line, _ = strconv.Atoi(sm[1])
			m = sm[2]
		}
		m = strings.TrimPrefix(m, "yaml: ")
		if te == nil {
			m = "not valid YAML: " + m + " (check the indentation, and quote values that hold \": \" or start with { [ * & ! | > ' \" % @)"
		}
		p.Msg = m
		out = append(out, p)
	}
	return out
}
