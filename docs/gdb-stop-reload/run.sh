#!/bin/sh
# The reproducer: the control (stop() returns False, nothing reloaded) and the
# case (stop() drops and reloads the symbol files first, as lx-symbols does),
# each under gdbserver with the remote protocol logged. Prints the packets
# that insert (Z0), remove (z0) and resume (vCont) around the breakpoint, and
# which hits stop() saw. Exit 1 when the case loses a hit the control saw.
#   sh run.sh [GDB]        (default: gdb; needs gcc, gdbserver, a static libc)
set -eu
gdb=${1:-gdb}
cd "$(dirname "$0")"
work=$(mktemp -d "${TMPDIR:-/tmp}/gdb-stop-reload.XXXXXX")
trap 'rm -rf "$work"' EXIT
gcc -g -O1 -no-pie -static -o "$work/prog" prog.c
cp reload.py "$work/"
cd "$work"
"$gdb" --version | head -1
for reload in 0 1; do
	RELOAD=$reload "$gdb" -nx -batch -ex "set sysroot /" -ex "set debug remote 1" \
		-ex "target remote | gdbserver - ./prog" -ex "source reload.py" \
		-ex "continue" ./prog >out.txt 2>debug.txt
	hook=$(sed -n 's/^Breakpoint 1 at \(0x[0-9a-f]*\):.*/\1/p' out.txt | sed 's/^0x//')
	echo "RELOAD=$reload (hook at 0x$hook):"
	grep -o "Sending packet: \$[zZ]0,$hook,1\|Sending packet: \$vCont;[sc]:[^#]*\|Packet received: T05[a-z]*" debug.txt |
		sed 's/Sending packet: //; s/Packet received: //' | tr '\n' ' '
	echo
	grep '^stop(): ' out.txt | tr '\n' ' '
	echo
	grep -c '^stop(): ' out.txt >"hits-$reload"
done
[ "$(cat hits-1)" = "$(cat hits-0)" ] || { echo "the case saw $(cat hits-1) of the control's $(cat hits-0) hits"; exit 1; }
