package edge

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// TamagoVersion is the github.com/usbarmory/tamago module images build
// with (its tamago-go distribution must match it).
const TamagoVersion = "v1.26.5"

// Board is a machine an image can be built for.
type Board struct {
	Name string
	// Import is the board package the image imports for its side effects
	// (hardware initialization, console, clock).
	Import string
	GOOS   string
	GOARCH string
	// Needs says what the board needs to run.
	Needs string
	// QEMU is the command that boots an image (IMAGE is its path).
	QEMU string
}

// Boards are the boards wbox builds images for.
var Boards = []Board{
	{
		Name: "microvm", Import: "github.com/usbarmory/tamago/board/qemu/microvm", GOOS: "tamago", GOARCH: "amd64",
		Needs: "QEMU microvm with KVM (-accel kvm): the stock board sets its clock from KVM pvclock",
		QEMU:  "qemu-system-x86_64 -machine microvm,x-option-roms=on,pit=off,pic=off,rtc=on -global virtio-mmio.force-legacy=false -enable-kvm -cpu host,invtsc=on,kvmclock=on -m 1G -nographic -monitor none -serial stdio -no-reboot -device virtio-net-device,netdev=net0 -netdev user,id=net0,hostfwd=tcp::8080-:80 -kernel IMAGE",
	},
	{
		Name: "microvm-tcg", Import: "github.com/wbox-dev/wbox/edge/board/microvmtcg", GOOS: "tamago", GOARCH: "amd64",
		Needs: "QEMU microvm without KVM (-accel tcg): calibrates the TSC against the CMOS RTC at boot (one second)",
		QEMU:  "qemu-system-x86_64 -machine microvm,x-option-roms=on,pit=off,pic=off,rtc=on -global virtio-mmio.force-legacy=false -accel tcg -cpu max -m 1G -nographic -monitor none -serial stdio -no-reboot -device virtio-net-device,netdev=net0 -netdev user,id=net0,hostfwd=tcp::8080-:80 -kernel IMAGE",
	},
}

// BoardNamed returns the board called name.
func BoardNamed(name string) (Board, error) {
	var names []string
	for _, b := range Boards {
		if b.Name == name {
			return b, nil
		}
		names = append(names, b.Name)
	}
	if name == "" {
		return Board{}, fmt.Errorf("no board given (boards: %s)", strings.Join(names, ", "))
	}
	return Board{}, fmt.Errorf("unknown board %q (boards: %s)", name, strings.Join(names, ", "))
}

// Toolchain is a Go command that can build GOOS=tamago.
type Toolchain struct {
	// Go is the go command's path.
	Go string
	// Version is what `GOOS=tamago go version` printed.
	Version string
}

// ErrNoToolchain is wrapped by FindToolchain's error.
var ErrNoToolchain = fmt.Errorf("no Go toolchain for GOOS=tamago (tamago-go)")

// ToolchainHelp says how to get the tamago-go toolchain.
const ToolchainHelp = "get tamago-go for tamago " + TamagoVersion + ": `go install github.com/usbarmory/tamago/cmd/tamago@" + TamagoVersion +
	"` puts a `tamago` command on PATH that downloads and builds github.com/usbarmory/tamago-go on first use and runs it as go; or build tamago-go yourself (cd src && ./all.bash) and set TAMAGO=/path/to/tamago-go/bin/go"

// FindToolchain looks for a go command that builds GOOS=tamago: $TAMAGO,
// then tamago-go, tamago (cmd/tamago) and go on PATH. Mainline Go has no GOOS=tamago.
func FindToolchain() (*Toolchain, error) {
	var candidates, tried []string
	if t := os.Getenv("TAMAGO"); t != "" {
		candidates = append(candidates, t)
	}
	for _, n := range []string{"tamago-go", "tamago", "go"} {
		if p, err := exec.LookPath(n); err == nil {
			candidates = append(candidates, p)
		}
	}
	for _, c := range slices.Compact(candidates) {
		tried = append(tried, c)
		cmd := exec.Command(c, "version")
		cmd.Env = append(os.Environ(), "GOOS=tamago", "GOARCH=amd64")
		out, err := cmd.CombinedOutput()
		if err == nil && strings.Contains(string(out), "tamago") {
			return &Toolchain{Go: c, Version: strings.TrimSpace(string(out))}, nil
		}
		if err == nil && !strings.Contains(string(out), "unsupported") {
			// `go version` ignores GOOS; ask whether it knows the OS.
			list := exec.Command(c, "tool", "dist", "list")
			if l, err := list.Output(); err == nil && strings.Contains(string(l), "tamago/amd64") {
				return &Toolchain{Go: c, Version: strings.TrimSpace(string(out))}, nil
			}
		}
	}
	what := "nothing on PATH"
	if len(tried) > 0 {
		what = "tried " + strings.Join(tried, ", ") + ": none knows GOOS=tamago"
	}
	return nil, fmt.Errorf("%w (%s): %s", ErrNoToolchain, what, ToolchainHelp)
}

// abs is filepath.Abs that keeps the path on error.
func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
