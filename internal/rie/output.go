package rie

import (
	"io"
	"os"
	"sync"
	"time"
)

// output carries the emulator's stdout and stderr to the caller's writers
// through pipes of the harness's own rather than exec.Cmd's: the bootstrap
// inherits the emulator's stdout, and with exec.Cmd's pipes Wait would not
// return until the bootstrap had closed it too, so an emulator crash would
// go unnoticed while an orphaned bootstrap lived on.
type output struct {
	stdout, stderr *os.File   // what the emulator gets; nil is /dev/null
	writeEnds      []*os.File // of the harness's pipes, closed once the emulator has them
	readEnds       []*os.File
	copied         sync.WaitGroup
}

// newOutput prepares the emulator's files: nil writers are discarded,
// *os.File ones handed over as they are, others fed from a pipe.
func newOutput(stdout, stderr io.Writer) (*output, error) {
	o := &output{}
	var err error
	if o.stdout, err = o.file(stdout); err != nil {
		o.abort()
		return nil, err
	}
	if sameWriter(stdout, stderr) {
		// One pipe, so writes reach a shared writer one at a time, as
		// exec.Cmd promises when Stdout == Stderr.
		o.stderr = o.stdout
		return o, nil
	}
	if o.stderr, err = o.file(stderr); err != nil {
		o.abort()
		return nil, err
	}
	return o, nil
}

func (o *output) file(w io.Writer) (*os.File, error) {
	if w == nil {
		return nil, nil
	}
	if f, ok := w.(*os.File); ok {
		return f, nil
	}
	r, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	o.readEnds = append(o.readEnds, r)
	o.writeEnds = append(o.writeEnds, pw)
	o.copied.Go(func() {
		// Ends when every process holding the write end has gone, or when
		// wait closes the read end.
		_, _ = io.Copy(w, r)
	})
	return pw, nil
}

// started closes the harness's write ends once the emulator holds its own,
// so that the copies see the end of the output when the processes go.
func (o *output) started() {
	for _, f := range o.writeEnds {
		_ = f.Close()
	}
	o.writeEnds = nil
}

// abort ends the copies of an emulator that did not start.
func (o *output) abort() {
	o.started()
	o.wait(0)
}

// wait lets the copies drain what the dead processes wrote, for at most d,
// then cuts them off: a process that escaped Close must not hang it.
func (o *output) wait(d time.Duration) {
	drained := make(chan struct{})
	go func() {
		o.copied.Wait()
		close(drained)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-drained:
	case <-t.C:
	}
	for _, r := range o.readEnds {
		_ = r.Close()
	}
	<-drained
}

// sameWriter compares like exec.Cmd does: writers of a type == cannot
// compare are taken as different.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}
