package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// markerVar tags the environment of one function under test. The rie
// harness keeps its own marker (RIE_HARNESS_ID) to itself, so the bench
// passes one of its own through Options.Env; the emulator and the
// bootstrap it starts both inherit it, and the executable tells them apart.
const markerVar = "SIDEBYSIDE_ID"

// functionPID finds the process that runs binary and carries marker.
func functionPID(binary, marker string) (int, error) {
	want := []byte(markerVar + "=" + marker)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, d := range entries {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", d.Name())
		if exe, err := os.Readlink(filepath.Join(dir, "exe")); err != nil || exe != binary {
			continue
		}
		env, err := os.ReadFile(filepath.Join(dir, "environ"))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.Equal(kv, want) {
				return pid, nil
			}
		}
	}
	return 0, fmt.Errorf("no process runs %s with %s=%s", binary, markerVar, marker)
}

// memory is what /proc/<pid>/status says of a process's resident set.
type memory struct {
	HWM, RSS int64 // peak and current resident set, bytes
}

func readMemory(pid int) (memory, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	s := bufio.NewScanner(f)
	for s.Scan() {
		name, value, ok := strings.Cut(s.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch name {
		case "VmHWM":
			dst = &m.HWM
		case "VmRSS":
			dst = &m.RSS
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return m, fmt.Errorf("pid %d: %s: %q", pid, name, value)
		}
		*dst = kb << 10
	}
	if m.HWM == 0 {
		return m, fmt.Errorf("pid %d: no VmHWM in its status", pid)
	}
	return m, s.Err()
}

// clockTick is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// cpuTime is the user plus system CPU time a process has used so far, in
// clock ticks of 10 ms: fine enough over hundreds of invocations.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// "pid (comm) state ppid …": comm may hold spaces, so count the fields
	// after the last ')'; utime and stime are fields 14 and 15 of the line.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("pid %d: unreadable stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("pid %d: unreadable stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("pid %d: unreadable stat", pid)
	}
	return time.Duration(utime+stime) * clockTick, nil
}
