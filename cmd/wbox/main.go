// Command wbox is the wbox CLI: it runs components, nodes and topologies.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one `wbox` subcommand.
type command struct {
	name    string
	usage   string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"inspect", "inspect [--json] FILE.wasm", "print a component's world as WIT", runInspect},
		{"call", "call [flags] FILE.wasm EXPORT [ARG...]", "call an exported function with WAVE arguments", runCall},
		{"run", "run [flags] FILE.wasm [ARG...]", "run a wasi:cli/run command component", runRun},
		{"up", "up [--data DIR] FILE", "run a node and deploy a topology, in the foreground", runUp},
		{"node", "node [--data DIR]", "run a node in the foreground", runNode},
		{"deploy", "deploy [--data DIR] FILE", "type-check a topology and apply it to the node", runDeploy},
		{"plan", "plan [--data DIR] FILE", "print what deploying a topology would change", runPlan},
		{"status", "status [--data DIR] [--json]", "print the node's boxes and drivers", runStatus},
		{"logs", "logs [--data DIR] [-f] [BOX]", "print the node's event log", runLogs},
		{"invoke", "invoke [--data DIR] BOX EXPORT [ARG...]", "call a running box's export with WAVE arguments", runInvoke},
		{"stop", "stop [--data DIR] [BOX...]", "stop boxes, or the node", runStop},
		{"new", "new NAME --lang go|c|js|as [--world plain|kv|http]", "create a box project", runNew},
		{"build", "build [DIR]", "build a box project into NAME.wasm", runBuild},
		{"test", "test [DIR]", "build a box project and run its box.yaml tests", runTest},
		{"bindgen", "bindgen --lang go|c WIT", "generate Go or C bindings for a WIT world", runBindgen},
		{"dev", "dev [--data DIR] [PROJECT]", "run a box project, rebuilding and redeploying on change", runDev},
		{"image", "image --board BOARD [--out DIR] FILE", "build an edge node image (TamaGo) of a topology", runImage},
		{"certs", "certs ca|node [flags]", "make the cluster CA and node certificates for TLS", runCerts},
		{"version", "version", "print the version", runVersion},
	}
}

// version is set by the release build with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitCode is an error that carries a process exit status.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Main runs the CLI and returns the process exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	args, err := globalFlags(args, stderr) // --cluster URL --creds FILE: mgmt_nats.go
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "wbox: %v\n", err)
		return 2
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		var code exitCode
		switch {
		case err == nil:
			return 0
		case errors.As(err, &code):
			return int(code)
		case errors.Is(err, flag.ErrHelp):
			return 0
		}
		fmt.Fprintf(stderr, "wbox %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "wbox: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "wbox: a distributed operating system for self-hosters, made of WebAssembly components.")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  wbox %-40s %s\n", c.usage, c.summary)
	}
	fmt.Fprintln(w, "\nManage a remote cluster over NATS (status, logs, plan, deploy, stop, invoke):")
	fmt.Fprintln(w, "  wbox --cluster nats://HOST:PORT --creds TOKEN-FILE [--cluster-name NAME] [--node NAME] COMMAND ...")
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fmt.Fprintln(stdout, "wbox", version)
	return nil
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name, use string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: wbox %s\n", use)
		fs.PrintDefaults()
	}
	return fs
}
