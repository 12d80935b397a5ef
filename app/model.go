package app

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/livemod/livemod/chat"
	"github.com/livemod/livemod/classify"
)

func LabelNames() string {
	var names []string
	for _, l := range chat.AllLabels() {
		names = append(names, l.String())
	}
	return strings.Join(names, ", ")
}

// loadModel reads a model file; an empty path means the embedded default.
func LoadModel(path string) (*classify.Model, error) {
	if path == "" {
		return classify.DefaultModel(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	m, err := classify.ParseModel(b)
	if err != nil {
		if errors.Is(err, classify.ErrModelFormat) {
			return nil, fmt.Errorf("model %s: %w; write one with livemod train", path, err)
		}
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return m, nil
}
