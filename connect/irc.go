package connect

import (
	"errors"
	"strings"
)

// IRC is one IRC line, parsed (RFC 2812 with IRCv3 message tags, as
// Twitch sends them).
type IRC struct {
	Tags    map[string]string // unescaped values; nil when the line has none
	Prefix  string            // "nick!user@host" or a server name, without the colon
	Command string            // "PRIVMSG", "001", …
	Params  []string          // the last may hold spaces (it was the trailing one)
}

// Limits of one line: Twitch allows 8,191 bytes of tags and 512 of the
// rest; anything longer is refused, not truncated.
const (
	maxIRCLine   = 8191 + 512
	maxIRCParams = 15
	maxIRCTags   = 64
)

// Errors of ParseIRC.
var (
	ErrIRCEmpty    = errors.New("connect: irc: empty line")
	ErrIRCTooLong  = errors.New("connect: irc: line over 8703 bytes")
	ErrIRCNoCmd    = errors.New("connect: irc: no command")
	ErrIRCTooMany  = errors.New("connect: irc: too many params or tags")
	ErrIRCBadStart = errors.New("connect: irc: tags or prefix without a command")
)

// ParseIRC parses one line, without its CRLF (a trailing CR or LF is
// ignored).
func ParseIRC(line string) (IRC, error) {
	var m IRC
	line = strings.TrimRight(line, "\r\n")
	if len(line) > maxIRCLine {
		return m, ErrIRCTooLong
	}
	if line == "" {
		return m, ErrIRCEmpty
	}
	if line[0] == '@' {
		sp := strings.IndexByte(line, ' ')
		if sp < 0 {
			return m, ErrIRCBadStart
		}
		raw := line[1:sp]
		line = strings.TrimLeft(line[sp:], " ")
		if raw != "" {
			m.Tags = make(map[string]string, strings.Count(raw, ";")+1)
			for raw != "" {
				var kv string
				kv, raw, _ = strings.Cut(raw, ";")
				if kv == "" {
					continue
				}
				if len(m.Tags) >= maxIRCTags {
					return m, ErrIRCTooMany
				}
				k, v, _ := strings.Cut(kv, "=")
				m.Tags[k] = UnescapeTag(v)
			}
		}
	}
	if line != "" && line[0] == ':' {
		sp := strings.IndexByte(line, ' ')
		if sp < 0 {
			return m, ErrIRCBadStart
		}
		m.Prefix = line[1:sp]
		line = strings.TrimLeft(line[sp:], " ")
	}
	cmd, rest, _ := strings.Cut(line, " ")
	if cmd == "" {
		return m, ErrIRCNoCmd
	}
	m.Command = strings.ToUpper(cmd)
	for rest != "" {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			break
		}
		if len(m.Params) >= maxIRCParams {
			return m, ErrIRCTooMany
		}
		if rest[0] == ':' {
			m.Params = append(m.Params, rest[1:])
			break
		}
		var p string
		p, rest, _ = strings.Cut(rest, " ")
		m.Params = append(m.Params, p)
	}
	return m, nil
}

// Param returns the i-th parameter, or "".
func (m *IRC) Param(i int) string {
	if i < len(m.Params) {
		return m.Params[i]
	}
	return ""
}

// Nick is the nick of the prefix ("nick!user@host" → "nick").
func (m *IRC) Nick() string {
	n, _, _ := strings.Cut(m.Prefix, "!")
	n, _, _ = strings.Cut(n, "@")
	return n
}

// UnescapeTag undoes IRCv3's tag value escapes: \: ; \s space, \\ \,
// \r CR, \n LF; a backslash before any other character is dropped, and a
// trailing one too.
func UnescapeTag(v string) string {
	if strings.IndexByte(v, '\\') < 0 {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(v) {
			break
		}
		switch v[i] {
		case ':':
			b.WriteByte(';')
		case 's':
			b.WriteByte(' ')
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		default:
			b.WriteByte(v[i])
		}
	}
	return b.String()
}

// EscapeTag is UnescapeTag's inverse.
func EscapeTag(v string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\:`, " ", `\s`, "\r", `\r`, "\n", `\n`)
	return r.Replace(v)
}
