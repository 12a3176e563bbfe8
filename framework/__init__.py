"""guestdbg: does debugging a Linux guest under QEMU with gdb actually work?

Layers, each usable without the ones above it:
host (what this machine can do) -> images (kernel tree, initramfs, test module)
-> qemu.Guest + console.Console (one running guest) -> gdb.Debugger (gdb/MI)
-> lxsymbols -> kernlog (console reports) -> detectors -> scenarios
-> plugin (pytest) and cli (the guestdbg command).
"""

__version__ = "0.1.0"
