package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version and commit may be set at link time for releases
// (go build -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD)");
// otherwise they come from the build info (the module version, and the
// VCS revision that go build records unless -buildvcs=false), else
// "devel" and "unknown".
var version, commit = "", ""

// runVersion prints the version, the commit, the Go version and the
// build settings recorded in the binary (runtime/debug.ReadBuildInfo).
func runVersion(args []string, stdout io.Writer) error {
	fs := newFlagSet("version", "version", stdout)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("version: unexpected argument %q", fs.Arg(0))
	}
	v, rev, when, dirty := version, commit, "", false
	var settings []debug.BuildSetting
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if rev == "" {
					rev = s.Value
				}
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		settings = bi.Settings
	}
	if v == "" {
		v = "devel"
	}
	if rev == "" {
		rev = "unknown (built without VCS information, e.g. go run or -buildvcs=false)"
	} else if dirty {
		rev += " (with uncommitted changes)"
	}
	fmt.Fprintf(stdout, "livemod %s\ncommit  %s\n", v, rev)
	if when != "" {
		fmt.Fprintf(stdout, "date    %s\n", when)
	}
	fmt.Fprintf(stdout, "go      %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if len(settings) > 0 {
		fmt.Fprintln(stdout, "build settings:")
		for _, s := range settings {
			fmt.Fprintf(stdout, "  %s=%s\n", s.Key, s.Value)
		}
	}
	return nil
}
