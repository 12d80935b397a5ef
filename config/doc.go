// Package config is livemod's configuration file format (livemod.yaml):
// defaults, loading (file, then environment, then flags: flags win) and
// validation that reports every problem at once, each with its key and a
// fix. Its sections are the option types the other packages own.
//
// A Config is a plain value: load it once, then share it read-only;
// nothing in the package keeps state.
package config
