package main

import "testing"

// Plain `go test` runs on the host, where wasi:http is stubs that panic:
// check the box with `wbox test`, which serves the requests in box.yaml.
func TestBuilds(t *testing.T) {
	if Handle == nil {
		t.Fatal("no Handle")
	}
}
