// The client of the simple-nested fixture (calvinrp:test-async-funcs/hello,
// several nested component levels): run calls the fixture's hello-world,
// which calls the hello-world this component exports, served by a second
// box of it (the peer), so a string crosses two arrows each way.
package main

import (
	"fmt"
	"reflect"

	"fxsimplenested/gen/calvinrp/testasyncfuncs/hello"
	"fxsimplenested/gen/local/fxsimplenested/check"
)

var lines []string

func expect(name string, got, want any) {
	if reflect.DeepEqual(got, want) {
		lines = append(lines, "ok "+name)
	} else {
		lines = append(lines, fmt.Sprintf("FAIL %s: got %#v, want %#v", name, got, want))
	}
}

const greeting = "Hello from the peer: ünïcödé 🎉"

func init() {
	hello.Exports.HelloWorld = func() string { return greeting }
	check.Exports.Run = func() []string {
		lines = nil
		expect("hello-world", hello.HelloWorld(), greeting)
		return lines
	}
}

func main() {}
