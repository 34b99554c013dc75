// Package microvmtcg is a TamaGo board for QEMU's amd64 microvm machine
// under -accel tcg (no KVM): what tamago's board/qemu/microvm does, except
// the system clock. The stock board sets it from KVM pvclock and panics
// without it; this one calibrates the TSC against the CMOS RTC at boot
// (edge/tsc.Calibrate, one RTC second) and starts the wall clock from the RTC.
//
// It is only built with GOOS=tamago GOARCH=amd64 (the tamago build tag);
// with any other toolchain the package is empty. Import it for its side
// effects, as `wbox image --board microvm-tcg` does.
package microvmtcg
