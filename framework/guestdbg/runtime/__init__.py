"""Runtime: one running guest and the host it runs on.

``host`` (what this machine can do: QEMU, gdb, KVM and why not), ``spec``
(what to boot: GuestSpec, GuestOptions), ``qemu`` (the QEMU process: QMP,
gdbstub, teardown that never leaks), ``snapshot`` (guests restored from a
snapshot of a booted one instead of booting), ``console`` (the serial console),
``process`` (children that die with their parent).
"""
