package rie

import (
	"bytes"
	"os"
	"strconv"
)

// processes lists the pids /proc shows.
func processes() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, d := range entries {
		if pid, err := strconv.Atoi(d.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// state reads a process's state letter from /proc/<pid>/stat ('Z' for a
// zombie); ok is false once the process has been reaped.
func state(pid int) (s byte, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// "pid (comm) state …": comm may hold spaces and parentheses, so parse
	// from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) == 0 || len(f[0]) != 1 {
		return 0, false
	}
	return f[0][0], true
}

// hasEnv reports whether the process was started with the exact entry
// "NAME=value". Processes of other users are unreadable and so never match.
func hasEnv(pid int, entry string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if string(kv) == entry {
			return true
		}
	}
	return false
}
