"""Debugger: gdb driven through gdb/MI against QEMU's gdbstub.

``mi`` (the transport: process, tokens, stop events, transcripts), ``gdb``
(the Debugger scenarios drive), ``gdbstub`` (QEMU's single-step flags and
raw packets), ``lxsymbols`` (the kernel's own lx-symbols), ``ledger``
(gdb's breakpoint packets read back from its remote log), ``gdb_helper``
(sourced into gdb: batched stepping in gdb's own Python).
"""
