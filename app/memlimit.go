package app

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// memoryLimitShare is the part of the memory this process may use that
// the Go runtime is asked to stay under (a soft limit, GOMEMLIMIT): the GC
// works harder near it instead of letting the heap reach the kernel's
// limit and the OOM killer.
const memoryLimitShare = 0.75

// gcPercent is the garbage collector's target (GOGC) unless GOGC is set:
// the heap may grow to 1.5 times what is live between collections, not
// twice. A server's live heap is mostly long-lived per-user and
// per-ticket state, and the peak RSS follows the target: a million users
// peaked at 281–306 MB with Go's 100 and 251–268 MB with 80
// (TestMemoryMillionUsers); a hard show at 20,000 msgs/s held 286–333 MB
// over minutes 2.5–5 with 80, 259–294 MB with 60 and 245–296 MB with 50
// (scripts/soak.sh, docs/PERFORMANCE.md, "A long show"), the server's CPU
// the same within the noise (1.19 cores at 60 and at 50).
const gcPercent = 50

// setGCPercent sets the GC target to gcPercent unless GOGC is set, and
// returns the target set (0 if none).
func setGCPercent() int {
	if os.Getenv("GOGC") != "" {
		return 0
	}
	debug.SetGCPercent(gcPercent)
	return gcPercent
}

// setMemoryLimit sets the runtime's soft memory limit to a share of the
// memory this process may use: its cgroup's limit if it has one (a
// container), else the machine's. GOMEMLIMIT, when set, wins. It returns
// the limit set, or 0 if none was.
//
// An earlier build set a fixed 224 MiB with GOGC=200 so that a million
// users fit in 300 MB; under heavier load than that the live heap crossed
// the limit and the GC ran back to back (32% of the CPU at 117k msgs/s).
// Go's default GOGC=100 keeps a million users under 300 MB by itself
// (TestMemoryMillionUsers), and the limit is only a guard.
func setMemoryLimit() int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	avail := memTotal()
	if c := cgroupLimit(); c > 0 && (avail == 0 || c < avail) {
		avail = c
	}
	if avail <= 0 {
		return 0
	}
	limit := int64(float64(avail) * memoryLimitShare)
	debug.SetMemoryLimit(limit)
	return limit
}

// cgroupLimit returns the memory limit of this process's cgroup (v2, then
// v1), or 0 if there is none or it cannot be read.
func cgroupLimit() int64 {
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(path); err == nil {
			return parseCgroupLimit(b)
		}
	}
	return 0
}

// parseCgroupLimit reads a cgroup memory limit file: a byte count, or
// "max" (v2) or a number near MaxInt64 (v1) for none.
func parseCgroupLimit(b []byte) int64 {
	s := string(bytes.TrimSpace(b))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n >= 1<<60 {
		return 0
	}
	return n
}

// memTotal returns the machine's memory from /proc/meminfo, or 0.
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	return parseMemTotal(f)
}

func parseMemTotal(r io.Reader) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest) // "24576000 kB"
		if len(f) != 2 || f[1] != "kB" {
			return 0
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb <= 0 {
			return 0
		}
		return kb << 10
	}
	return 0
}
