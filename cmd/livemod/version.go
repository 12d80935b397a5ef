package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set at link time for releases
// (go build -ldflags "-X main.version=v1.2.3"); otherwise the module
// version from the build info, or "devel".
var version = ""

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
	v, commit, when, dirty := version, "", "", false
	var settings []debug.BuildSetting
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
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
	if commit == "" {
		commit = "unknown (built without VCS information, e.g. go run or -buildvcs=false)"
	} else if dirty {
		commit += " (with uncommitted changes)"
	}
	fmt.Fprintf(stdout, "livemod %s\ncommit  %s\n", v, commit)
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
