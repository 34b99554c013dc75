// Separate module on purpose: this package only builds for GOOS=wasip1, and
// being its own module keeps `go test ./...` at the repo root from building
// it for the host.
module wbox.example/echo

go 1.26
