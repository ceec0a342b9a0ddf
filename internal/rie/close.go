package rie

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// Close stops the function and the emulator and waits until both are gone.
// It returns an error when the emulator had died before Close (a crash, such
// as the one overlapping invocations cause, shows up here). Calling it again
// returns the same result.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() { e.closeErr = e.shutdown() })
	return e.closeErr
}

// grace bounds each wait of the shutdown before the next, harder step.
const grace = 3 * time.Second

func (e *Emulator) shutdown() error {
	var crashed error
	select {
	case <-e.exited:
		crashed = fmt.Errorf("rie: emulator had exited before Close: %v", e.waitErr)
	default:
	}
	e.end() // in-flight requests give up; Invoke answers ErrClosed from now on

	// On SIGTERM the emulator SIGKILLs the bootstrap, reaps it and exits 0.
	// Process.Signal, not a raw kill: it cannot hit a reused pid.
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	select {
	case <-e.exited:
	case <-t.C:
		_ = e.cmd.Process.Kill()
		<-e.exited
	}
	t.Stop()

	// After a crash or that SIGKILL the bootstrap outlives the emulator in
	// a process group of its own; the marker it inherited still finds it.
	left := e.leftovers()
	killGroups(left)
	awaitDead(left)
	e.out.wait(grace)
	e.client.CloseIdleConnections()
	return crashed
}

// leftovers lists the processes, other than this one, that carry this
// instance's marker.
func (e *Emulator) leftovers() []int {
	var pids []int
	for _, pid := range processes() {
		if pid != os.Getpid() && hasEnv(pid, markerVar+"="+e.marker) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killGroups SIGKILLs each process's group, which is its own (the emulator
// starts the bootstrap with Setpgid) and holds whatever the function forked.
func killGroups(pids []int) {
	self := syscall.Getpgrp()
	for _, pid := range pids {
		if pgid, err := syscall.Getpgid(pid); err == nil && pgid != self && pgid > 1 {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// awaitDead waits until each process has exited. Orphans belong to init,
// which reaps them in its own time, so a zombie counts as dead. There is no
// signal for another process's death, hence the polling, bounded by grace.
func awaitDead(pids []int) {
	deadline := time.Now().Add(grace)
	delay := time.Millisecond
	for _, pid := range pids {
		for time.Now().Before(deadline) {
			if s, ok := state(pid); !ok || s == 'Z' {
				break
			}
			time.Sleep(delay)
			delay = min(2*delay, 20*time.Millisecond)
		}
	}
}
