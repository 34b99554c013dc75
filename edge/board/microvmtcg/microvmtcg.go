//go:build tamago && amd64

package microvmtcg

import (
	"runtime/goos"
	_ "unsafe" // go:linkname

	"github.com/usbarmory/tamago/amd64"
	"github.com/usbarmory/tamago/dma"
	"github.com/usbarmory/tamago/soc/intel/ioapic"
	"github.com/usbarmory/tamago/soc/intel/rtc"
	"github.com/usbarmory/tamago/soc/intel/uart"

	"github.com/wbox-dev/wbox/edge/tsc"
)

// The microvm machine's memory map (QEMU hw/i386/microvm.c).
const (
	com1       = 0x3f8
	ioapic0    = 0xfec00000
	ioapic1    = 0xfec10000
	dmaStart   = 0x50000000
	dmaSize    = 0x10000000 // 256MiB
	nsInSecond = 1e9
)

// The board's devices.
var (
	// CPU is the boot processor; the TSC multiplier is set by calibration.
	CPU = &amd64.CPU{TimerMultiplier: 1}
	// IOAPIC0 and IOAPIC1 route GSI 0-23 and 24-47.
	IOAPIC0 = &ioapic.IOAPIC{Index: 0, Base: ioapic0, GSIBase: 0}
	IOAPIC1 = &ioapic.IOAPIC{Index: 1, Base: ioapic1, GSIBase: 24}
	// RTC is the CMOS real-time clock the TSC is calibrated against.
	RTC = &rtc.RTC{}
	// UART0 is the serial console (COM1).
	UART0 = &uart.UART{Index: 1, Base: com1}
	// Clock is the calibration done at boot.
	Clock tsc.Calibration
)

//go:linkname ramSize runtime/goos.RamSize
var ramSize uint64 = 0x40000000 // 1GiB: run QEMU with -m 1G or more

//go:linkname printk runtime/goos.Printk
func printk(c byte) { UART0.Tx(c) }

//go:linkname nanotime runtime/goos.Nanotime
func nanotime() int64 { return CPU.GetTime() }

// hwinit runs early in the runtime's start, before any allocation.
//
//go:linkname hwinit runtime/goos.Hwinit1
func hwinit() {
	CPU.Init()
	IOAPIC0.Init()
	IOAPIC1.Init()
	UART0.Init()
	goos.Exit = func(int32) { amd64.Fault() } // a triple fault stops microvm
}

func init() {
	CPU.EnableExceptions()
	CPU.InitSMP(-1)
	dma.Init(dmaStart, dmaSize)
	c, err := tsc.Calibrate(RTC, CPU, tsc.CalibrateOptions{Seconds: 1})
	if err != nil {
		panic("microvm-tcg: " + err.Error())
	}
	Clock = c
	CPU.TimerMultiplier = nsInSecond / float64(c.Hz)
	CPU.SetTime(c.Time.UnixNano() + int64(float64(CPU.Counter()-c.TSC)*CPU.TimerMultiplier))
}
