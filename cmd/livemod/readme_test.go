package main

import (
	"bufio"
	"bytes"
	"context"
	"github.com/livemod/livemod/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readmeBlock is a code block of README.md marked runnable by the HTML
// comment before it: <!-- runnable --> runs it to the end and wants exit
// 0; <!-- runnable: background until "TEXT" --> starts it, waits for TEXT
// in its output, then stops it (a server).
type readmeBlock struct {
	line  int
	code  string
	until string // "" for a block run to the end
}

var runnableMark = regexp.MustCompile(`^<!-- runnable(?:: background until "([^"]+)")? -->$`)

func readmeBlocks(t *testing.T, path string) []readmeBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks []readmeBlock
		cur    *readmeBlock
		marked = false
		until  string
		n      int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur != nil && strings.HasPrefix(line, "```"):
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.code += line + "\n"
		case runnableMark.MatchString(line):
			marked, until = true, runnableMark.FindStringSubmatch(line)[1]
		case marked && strings.HasPrefix(line, "```"):
			cur = &readmeBlock{line: n, until: until}
			marked = false
		case marked && strings.TrimSpace(line) != "":
			t.Fatalf("README.md:%d: a runnable mark must come right before a code block", n)
		}
	}
	return blocks
}

// syncBuffer is a bytes.Buffer that a process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestREADMECommands runs README.md's runnable blocks as written, in
// order, from the repository root: go install puts livemod in a temporary
// GOBIN that is first on PATH; LIVEMOD_LISTEN and LIVEMOD_DATA keep the
// servers off port 8080 and out of the tree.
func TestREADMECommands(t *testing.T) {
	testenv.SkipShort(t, "builds and runs the README's commands")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(t, filepath.Join(root, "README.md"))
	if len(blocks) < 4 {
		t.Fatalf("found %d runnable blocks in README.md, want the demo, install, serve and replay", len(blocks))
	}
	bin := t.TempDir()
	env := append(os.Environ(),
		"GOBIN="+bin,
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"LIVEMOD_LISTEN=127.0.0.1:0",
		"LIVEMOD_DATA="+t.TempDir(),
	)
	for _, b := range blocks {
		t.Logf("README.md:%d:\n%s", b.line, b.code)
		var out syncBuffer
		cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", b.code)
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = root, env, &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // stop go run's child too
		if b.until == "" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			var err error
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				cancel()
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-ctx.Done():
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				err = <-done
			}
			cancel()
			if err != nil {
				t.Fatalf("README.md:%d: %v\n%s", b.line, err, out.String())
			}
			continue
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		deadline := time.Now().Add(3 * time.Minute) // go run may compile first
		for !strings.Contains(out.String(), b.until) {
			select {
			case err := <-done:
				t.Fatalf("README.md:%d: ended (%v) before printing %q:\n%s", b.line, err, b.until, out.String())
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
				t.Fatalf("README.md:%d: no %q within 3 minutes:\n%s", b.line, b.until, out.String())
			}
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) // Ctrl-C, as a user stops it
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			t.Errorf("README.md:%d: did not stop within 30 s of Ctrl-C", b.line)
		}
	}
}
