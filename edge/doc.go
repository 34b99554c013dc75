// Package edge owns what a wbox edge node image is made of: the bundle (a
// topology with every component and directory it names, by digest), the
// boards an image can be built for, the Go main package generated for
// GOOS=tamago that embeds a bundle, the boot of a bundle into a kernel
// running wazero's interpreter. The TSC-against-RTC clock calibration of
// the microvm-tcg board is edge/tsc.
//
// # The bundle
//
// A bundle is a directory (embedded in an image with go:embed):
//
//	manifest.json          format, board, and the sha256 of every other file
//	topology.yaml          the topology, rewritten: every box's component is
//	                       "sha256:<hex>", every driver dir setting
//	                       (linker.DriverDirSettings) is "dirs/driver-<name>"
//	                       and every wasi dir host is "dirs/box-<name>-<i>"
//	store/sha256/<hex>.wasm  the components, in the linker's store layout
//	dirs/...               the directories' files
//
// Write type-checks the topology with the linker (as `wbox plan` does)
// before it writes anything. Open checks the manifest against every file
// (and every component's name against its content); Unpack copies a
// checked bundle to a directory of the (in-memory, under TamaGo) file
// system, and Boot deploys it into a new kernel whose boxes run on
// wazero's interpreter (wasmhost.Config.Interpreter), the only wazero
// engine under GOOS=tamago.
//
// # Images
//
// Generate writes the main package of an image for a Board (Boards lists
// them: microvm, microvm-tcg): main.go behind //go:build tamago, a go.mod,
// and the bundle. Building it needs the TamaGo Go distribution
// (Toolchain finds it); without it the sources stay for a user who has it.
// The board package of microvm-tcg is edge/board/microvmtcg (build tag
// tamago); it calibrates the TSC with edge/tsc.Calibrate.
//
// Edge must not touch a running node's state: it only reads topologies and
// components, writes bundles, and starts kernels of its own.
package edge
