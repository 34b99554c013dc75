#!/bin/sh
# Builds the edge example's image (board microvm-tcg) and boots it under
# QEMU without KVM, forwarding the host's port 8080 to the guest's 80, then
# curls it. Reports the image size, the time from starting QEMU to the
# first HTTP answer and QEMU's resident memory.
#
# Needs: the components (make components), tamago-go ($TAMAGO, or
# tamago-go on PATH; see `wbox image --help`), qemu-system-x86_64, curl.
# Not yet wired: the guest's network (virtio-net + gVisor netstack through
# tamago-go's net.SocketFunc, github.com/usbarmory/go-net): until the image
# has it, its ingress cannot listen and this script times out waiting.
# Usage: examples/edge/run-qemu.sh [PORT]   (PORT defaults to 8080)
set -eu
cd "$(dirname "$0")/../.."
port=${1:-8080}
out=build/edge
mkdir -p build
go build -o build/wbox ./cmd/wbox
rm -rf "$out"
status=0
build/wbox image --board microvm-tcg --out "$out" examples/edge/topology.yaml || status=$?
if [ "$status" = 3 ]; then
	echo "run-qemu.sh: needs tamago-go (the TamaGo Go distribution) to build the image; the generated sources are in $out" >&2
	exit 3
elif [ "$status" != 0 ]; then
	exit "$status"
fi
command -v qemu-system-x86_64 >/dev/null || { echo "run-qemu.sh: needs qemu-system-x86_64 (apt-get install qemu-system-x86)" >&2; exit 3; }

size=$(stat -c %s "$out/image")
start=$(date +%s%N)
qemu-system-x86_64 -machine microvm,x-option-roms=on,pit=off,pic=off,rtc=on \
	-global virtio-mmio.force-legacy=false -accel tcg -cpu max -m 1G \
	-nographic -monitor none -serial "file:$out/console.log" -no-reboot \
	-device virtio-net-device,netdev=net0 -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$port-:80" \
	-kernel "$out/image" &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT INT TERM
answered=
for _ in $(seq 1200); do # up to 120 s: the interpreter under TCG is slow to start
	if curl -fsS -o "$out/index.html" "http://127.0.0.1:$port/" 2>/dev/null; then
		answered=$(date +%s%N)
		break
	fi
	kill -0 $qemu 2>/dev/null || { echo "run-qemu.sh: QEMU exited; console:" >&2; cat "$out/console.log" >&2; exit 1; }
	sleep 0.1
done
if [ -z "$answered" ]; then
	echo "run-qemu.sh: no HTTP answer on 127.0.0.1:$port within 120 s; console:" >&2
	cat "$out/console.log" >&2
	exit 1
fi
cmp -s "$out/index.html" examples/static-site/site/index.html || { echo "run-qemu.sh: GET / is not site/index.html" >&2; exit 1; }
rss=$(awk '/VmRSS/ {print $2}' "/proc/$qemu/status")
echo "image: $((size / 1024)) KiB"
echo "first HTTP answer: $(( (answered - start) / 1000000 )) ms after starting QEMU"
echo "QEMU resident memory: $((rss / 1024)) MiB (guest RAM -m 1G)"
