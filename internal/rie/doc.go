// Package rie runs a Lambda bootstrap binary under the AWS Lambda Runtime
// Interface Emulator (aws-lambda-rie) so end-to-end tests exercise the real
// binary through the real Runtime API, on loopback, without Docker or AWS.
//
// Tests call [BuildBootstrap] for bin/bootstrap, [Start] an [Emulator] on it,
// [Emulator.Invoke] it with payloads and [Emulator.Close] it. The emulator is
// pinned to github.com/aws/aws-lambda-runtime-interface-emulator
// v0.0.0-20261030222936-bef5c4ba774d, installed by scripts/install-rie.sh.
//
// # How that emulator behaves (read from its source, checked by this package's tests)
//
// Flags. `aws-lambda-rie [flags] <bootstrap> [args…]`. The invoke API listens
// on --runtime-interface-emulator-address (default 0.0.0.0:8080, so the
// harness always passes a loopback address) and serves
// POST /2015-03-31/functions/function/invocations; it ignores the method and
// any other path is a plain 404. The bootstrap talks to the Runtime API on
// --runtime-api-address. --log-level sets the emulator's own (logrus) level.
// Unknown flags are silently ignored and there is no --help: `aws-lambda-rie
// --help` starts an emulator on 0.0.0.0:8080. With more than one argument
// after the flags, the last one is taken as the handler name (_HANDLER), so
// the harness passes the bootstrap path alone.
//
// Start-up. Both listeners are bound at start; either bind failing makes the
// process panic and exit with status 2, which the harness treats as a lost
// race for a free port and retries on new ports. The bootstrap is not started
// until the first invocation: init runs lazily inside the first invoke, so
// the first answer carries the cold start ("Init Duration" in its REPORT line).
// Its working directory is the emulator's, which the harness sets to the
// binary's directory as Lambda's /var/task would be.
//
// Environment. The emulator copies its whole environment into the function's,
// then lays its own Lambda variables over it: AWS_LAMBDA_RUNTIME_API (always
// its own), AWS_LAMBDA_FUNCTION_NAME/VERSION/MEMORY_SIZE (test_function,
// $LATEST, 3008 unless set), AWS_LAMBDA_LOG_GROUP_NAME/STREAM_NAME, and
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, which are
// always defined, as empty strings when unset. So Options.Env reaches the
// function by being the emulator's environment. The emulator reads two of
// those variables itself. AWS_LAMBDA_FUNCTION_TIMEOUT must be whole seconds
// (default 300); anything else panics every invoke, which net/http turns
// into a dropped connection, hence Options.Timeout. LOG_LEVEL it would take
// as its own level, exiting on a value logrus does not know (zap's
// "dpanic"); the harness passes --log-level, so LOG_LEVEL is the function's
// alone. The harness starts the emulator from a clean environment (PATH,
// Lambda's region defaults, AWS_EC2_METADATA_DISABLED=true, then
// Options.Env) so that neither the developer's AWS credentials, HOME and
// ~/.aws nor an instance-metadata lookup can reach the function under test.
//
// Output. The function inherits the emulator's stdout for both its stdout
// and its stderr; the emulator writes START/END/REPORT lines to stdout too
// and its own logs ("(rapid)") to stderr. At the info level pinned by the
// harness it logs neither environment values nor payloads.
//
// Answers. Every answer lacks Lambda's headers: the emulator hands the sandbox
// a response writer whose Header() is a throw-away map, so
// X-Amz-Function-Error never reaches the client. How each outcome looks:
//   - success: 200, the function's response bytes;
//   - handler error: 200, {"errorMessage":…,"errorType":…} (aws-lambda-go
//     also prints that object to the function's log);
//   - runtime exit or crash: 502, {"errorType":"Runtime.ExitError",…}; the
//     next invoke starts a new bootstrap process;
//   - timeout: 200, the plain text "Task timed out after N.00 seconds"; the
//     bootstrap is SIGKILLed and the next invoke starts a new one.
//
// [Emulator.Invoke] reports the last three as functionErr with the body
// as it came. An object that has both errorType and errorMessage is taken
// for an error, so a function must not answer such an object on success.
//
// One invocation at a time. A second invocation that arrives while one is in
// flight fails to reserve the sandbox and the emulator dereferences a nil
// reservation: SIGSEGV, exit status 2, the bootstrap orphaned (aws-lambda-go
// exits when it finds the Runtime API gone, after its current invocation).
// The emulator also keeps running an invocation whose client went away. The
// harness therefore holds its one-slot lock from the request until the
// emulator's answer, even when the caller's context gives up first.
//
// Shutdown. On SIGTERM or SIGINT the emulator resets the sandbox, which
// SIGKILLs the bootstrap's process group and reaps it, then exits 0. A
// crashed or SIGKILLed emulator leaves the bootstrap running, and since the
// emulator starts it in a process group of its own, killing the emulator's
// group does not reach it. So the harness marks the emulator's environment
// with a per-instance variable (RIE_HARNESS_ID), which the bootstrap
// inherits; after stopping the emulator, Close kills whatever still carries
// it, found through /proc. This makes the harness Linux-only, as the emulator
// itself is.
package rie
