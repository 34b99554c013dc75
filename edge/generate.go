package edge

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
)

// ImageDrivers are the driver kinds an image has, with the package that
// provides each. The kv driver is not one: bbolt needs mmap, which TamaGo
// does not have.
var ImageDrivers = []struct{ Kind, Import, Factory string }{
	{"blob", "github.com/wbox-dev/wbox/drivers/blob", "blob.New"},
	{"http", "github.com/wbox-dev/wbox/drivers/http", "httpdriver.Factory"},
	{"tcp", "github.com/wbox-dev/wbox/drivers/tcp", "tcpdriver.New"},
}

// LinkFlags are the linker flags of a microvm image: its text address and
// page alignment (the board's memory layout).
const LinkFlags = "-T 0x10010000 -R 0x1000"

// GenerateOptions configure Generate.
type GenerateOptions struct {
	// Board the image is for.
	Board Board
	// Source is the wbox module's source directory, for go.mod's replace
	// (and go.sum); "" leaves the requirement to the module proxy.
	Source string
}

var mainTemplate = template.Must(template.New("main").Parse(`//go:build tamago

// Command image is a wbox edge node for the {{.Board.Name}} board, made by
// ` + "`wbox image`" + `: it boots the topology bundled in ./bundle into a kernel
// whose boxes run on wazero's interpreter and logs to the serial console.
// Build it with the TamaGo Go distribution:
//
//	GOOS={{.Board.GOOS}} GOARCH={{.Board.GOARCH}} GOOSPKG=github.com/usbarmory/tamago $TAMAGO build -ldflags "{{.LinkFlags}}" -o image .
//
// and boot it with:
//
//	{{.Board.QEMU}}
package main

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"os"

	_ "{{.Board.Import}}"

	"github.com/wbox-dev/wbox/drivers/blob"
	httpdriver "github.com/wbox-dev/wbox/drivers/http"
	tcpdriver "github.com/wbox-dev/wbox/drivers/tcp"
	"github.com/wbox-dev/wbox/edge"
	"github.com/wbox-dev/wbox/kernel"
)

//go:embed all:bundle
var bundle embed.FS

func main() {
	log := slog.New(slog.NewTextHandler(os.Stdout, nil)) // the serial console
	slog.SetDefault(log)
	if err := run(context.Background(), log); err != nil {
		log.Error("edge node failed", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	sub, err := fs.Sub(bundle, "bundle")
	if err != nil {
		return err
	}
	dir, err := edge.TempDataDir()
	if err != nil {
		return err
	}
	drivers := map[string]kernel.DriverFactory{
{{- range .Drivers}}
		"{{.Kind}}": {{.Factory}},
{{- end}}
	}
	n, err := edge.Boot(ctx, sub, edge.BootOptions{Logger: log, Drivers: drivers, DataDir: dir})
	if err != nil {
		return err
	}
	defer n.Close(ctx)
	<-ctx.Done() // an image runs until the machine stops
	return nil
}
`))

// Generate writes the main package of an image into dir, beside the
// bundle Write wrote into dir/bundle: main.go (build tag tamago) and
// go.mod (plus the wbox module's go.sum when opts.Source is set).
func Generate(dir string, opts GenerateOptions) error {
	var src bytes.Buffer
	err := mainTemplate.Execute(&src, map[string]any{"Board": opts.Board, "Drivers": ImageDrivers, "LinkFlags": LinkFlags})
	if err != nil {
		return fmt.Errorf("generating main.go: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src.Bytes(), 0o644); err != nil {
		return fmt.Errorf("generating main.go: %w", err)
	}
	var mod strings.Builder
	fmt.Fprintf(&mod, "module wbox-edge-image\n\ngo 1.26.4\n\nrequire (\n\tgithub.com/usbarmory/tamago %s\n\tgithub.com/wbox-dev/wbox v0.0.0\n)\n", TamagoVersion)
	if opts.Source != "" {
		fmt.Fprintf(&mod, "\nreplace github.com/wbox-dev/wbox => %s\n", abs(opts.Source))
		if sum, err := os.ReadFile(filepath.Join(opts.Source, "go.sum")); err == nil {
			if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
				return fmt.Errorf("generating go.sum: %w", err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod.String()), 0o644); err != nil {
		return fmt.Errorf("generating go.mod: %w", err)
	}
	return nil
}

// FindSource returns the wbox module's source directory: dir or the
// nearest parent whose go.mod declares github.com/wbox-dev/wbox; "" if none.
func FindSource(dir string) string {
	dir = abs(dir)
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/wbox-dev/wbox\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Build builds the image generated in dir with the toolchain into
// dir/image and returns its path.
func Build(ctx context.Context, tc *Toolchain, dir string, b Board) (string, error) {
	env := append(os.Environ(), "GOOS="+b.GOOS, "GOARCH="+b.GOARCH, "GOOSPKG=github.com/usbarmory/tamago", "CGO_ENABLED=0")
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "-ldflags", LinkFlags, "-o", "image", "."}} {
		cmd := exec.CommandContext(ctx, tc.Go, args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s %s in %s: %w\n%s", tc.Go, strings.Join(args, " "), dir, err, out)
		}
	}
	return filepath.Join(dir, "image"), nil
}
