package classify

import (
	"bufio"
	"embed"
	"io/fs"
	"strings"
)

// The toxic lexicon: upstream word lists (see lexicon/ATTRIBUTION.md) minus
// livemod_drop.txt, plus livemod's own lists. Entries in livemod_plain.txt
// match only the plain form, as whole words.

//go:embed lexicon/*.txt
var lexiconFS embed.FS

var lexiconFiles = []string{
	"leo-profanity_en.txt",
	"naughty-words_en.txt",
	"naughty-words_hi.txt",
	"profanity-hindi_en.txt",
	"profanity-hindi_hi.txt",
	"livemod_en.txt",
	"livemod_hi.txt",
	"livemod_slurs_en.txt",
}

// gatedLexicon returns the entries of livemod_gated.txt: ambiguous words
// that count only when aimed (engine.go).
func gatedLexicon() []string { return readList("livemod_gated.txt") }

// readList returns the entries of an embedded list: one a line, lower
// case, '#' starts a comment line.
func readList(name string) []string {
	f, err := lexiconFS.Open("lexicon/" + name)
	if err != nil {
		panic("classify: embedded lexicon missing: " + name) // a build defect
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f.(fs.File))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.ToLower(line))
	}
	return out
}

// mildLexicon returns the entries of livemod_mild.txt: profanity that
// is held only when aimed at someone (rules.go, secondPerson).
func mildLexicon() map[string]bool {
	mild := make(map[string]bool)
	for _, w := range readList("livemod_mild.txt") {
		mild[w] = true
	}
	return mild
}

// lexicon returns the toxic entries matched on the skeleton and the ones
// matched on the plain form only.
func lexicon() (skeletal, plainOnly []string) {
	drop := make(map[string]bool)
	for _, w := range readList("livemod_drop.txt") {
		drop[w] = true
	}
	plain := make(map[string]bool)
	for _, w := range readList("livemod_plain.txt") {
		plain[w] = true
		plainOnly = append(plainOnly, w)
	}
	// An entry whose skeleton is also an innocent word's skeleton ("a55" and
	// "as") is matched as written only.
	safe := make(map[string]bool)
	for _, line := range readList("livemod_safe.txt") {
		for _, w := range strings.Fields(line) {
			safe[skeleton(w)] = true
		}
	}
	seen := make(map[string]bool)
	for _, w := range gatedLexicon() {
		seen[w] = true // ambiguous: matched by the gated rule only
	}
	for _, name := range lexiconFiles {
		for _, w := range readList(name) {
			if drop[w] || plain[w] || seen[w] {
				continue
			}
			seen[w] = true
			if safe[skeleton(strings.TrimSuffix(w, "*"))] {
				if !strings.ContainsAny(w, " *") {
					plainOnly = append(plainOnly, w)
				}
				continue
			}
			skeletal = append(skeletal, w)
		}
	}
	return skeletal, plainOnly
}
