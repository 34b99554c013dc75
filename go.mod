module github.com/wbox-dev/wbox

go 1.26

require (
	github.com/tetratelabs/wazero v1.12.0
	go.bytecodealliance.org v0.7.0
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/coreos/go-semver v0.3.1 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	golang.org/x/sys v0.44.0 // indirect
)
