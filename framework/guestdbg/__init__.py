"""guestdbg: does debugging a Linux guest under QEMU with gdb actually work?

Layers, each a subpackage usable without the ones above it; imports only
point down this list:

- ``errors``, ``verdicts``: the exception hierarchy and the exit statuses;
- ``kernlog``: console text -> kernel reports (pure text processing);
- ``build``: kernel trees, the test module, the initramfs, Debian kernels;
- ``runtime``: the host probe, one QEMU guest, its console;
- ``debugger``: gdb/MI, QEMU's gdbstub extensions, lx-symbols, the ledger;
- ``judges``: recorded events -> findings;
- ``scenarios``: flows that drive a guest and a debugger and run the judges;
- ``pytest_plugin``: fixtures, the matrix, verdicts (loaded on request);
- ``cli``: the ``guestdbg`` command.
"""

__version__ = "0.1.0"
