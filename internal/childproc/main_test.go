package childproc

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"testing"
)

// helperEnv makes the test binary act as one of the processes the tests
// need instead of running tests: helperServer, a stand-in for a server, or
// helperParent, a stand-in for a test binary that started one.
const (
	helperEnv    = "CHILDPROC_TEST_HELPER"
	helperServer = "server"
	helperParent = "parent"
)

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case helperServer:
		runServer()
	case helperParent:
		runParent()
	}
	os.Exit(RunTests(m, nil))
}

// helper is the test binary run as the given helper.
func helper(role string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+role)
	cmd.Stderr = os.Stderr
	return cmd
}

// runServer listens on a free loopback port, prints its address and holds
// every connection open, saying nothing, until it is killed.
func runServer() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println(l.Addr())
	for {
		c, err := l.Accept()
		if err != nil {
			os.Exit(2)
		}
		// Read, never write: the reader keeps c referenced, hence open.
		go func() { _, _ = io.Copy(io.Discard, c) }()
	}
}

// startServer starts runServer with Start and returns it with its address.
func startServer() (*Proc, string, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	cmd := helper(helperServer)
	cmd.Stdout = w // a file: no copying goroutine, so Wait need not see EOF
	p, err := Start(cmd)
	w.Close()
	if err != nil {
		return nil, "", err
	}
	var addr string
	if _, err := fmt.Fscanln(r, &addr); err != nil {
		p.Kill()
		return nil, "", fmt.Errorf("server said nothing: %v", err)
	}
	return p, addr, nil
}

// runParent starts a server, prints its pid and address, then blocks on
// stdin, which the parent test keeps open until it kills this process.
func runParent() {
	p, addr, err := startServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("%d %s\n", p.Pid(), addr)
	_, _ = os.Stdin.Read(make([]byte, 1))
	p.Kill()
	os.Exit(3) // the parent kills us first; reaching here is its failure
}
