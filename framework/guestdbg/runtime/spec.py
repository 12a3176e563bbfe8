"""What to boot and how: :class:`GuestSpec`, pure data with the QEMU command
line it stands for (unit-tested without QEMU), and :class:`GuestOptions`,
the one way a command line or a pytest option set becomes a spec."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from guestdbg.errors import InputError

DEFAULT_CMDLINE = "console=ttyS0 nokaslr panic=-1 loglevel=7"
# Where QEMU runs (this machine, a nested KVM host) is not the accelerator:
# it is the guest's placement (guestdbg.runtime.placement).
ACCELS = ("tcg", "kvm")
GDBSTUB_KINDS = ("unix", "tcp")


@dataclass(frozen=True)
class GuestSpec:
    """What to boot and how.

    kernel, initrd: bzImage and initramfs on the host.
    append: extra kernel command line after :data:`DEFAULT_CMDLINE` (which is
        always there: serial console, no KASLR, reboot on panic, and
        loglevel=7 because ``quiet`` hides WARN splats).
    accel: ``tcg`` or ``kvm`` (of whatever runs QEMU: this machine, or a
        nested KVM host, see :mod:`guestdbg.runtime.placement`).
    smp: vCPUs.  cpu: -cpu model, None for QEMU's default under TCG and
        ``host`` under KVM.  memory_mb: RAM.
    paused: start with the vCPUs stopped (-S), for attaching gdb at reset.
    gdbstub: ``unix`` (a socket in the guest directory) or ``tcp`` (a free
        port on 127.0.0.1).
    command_port: give the guest a second UART (ttyS1) for its shell, apart
        from the kernel console; without it the shell shares ttyS0.
    extra_args: appended verbatim to the QEMU command line.
    boot_timeout: seconds to wait for the readiness marker.
    qemu: the QEMU binary (a name on PATH or a path).
    incoming: start waiting for a migration stream (``-incoming defer``)
        instead of booting: a guest restored from a snapshot
        (:mod:`guestdbg.runtime.snapshot`).
    log_append: QEMU appends to the serial logs instead of truncating them
        (a restored guest's logs continue the snapshot's).
    """

    kernel: Path
    initrd: Path | None = None
    append: str = ""
    accel: str = "tcg"
    smp: int = 2
    cpu: str | None = None
    memory_mb: int = 512
    paused: bool = False
    gdbstub: str = "unix"
    extra_args: tuple[str, ...] = ()
    command_port: bool = True
    boot_timeout: float = 90.0
    qemu: str = "qemu-system-x86_64"
    name: str = "guest"
    incoming: bool = False
    log_append: bool = False

    def validate(self) -> None:
        """InputError naming the first bad value."""
        if self.accel not in ACCELS:
            raise InputError(f"unknown accelerator {self.accel!r}: use one of {', '.join(ACCELS)}")
        if self.gdbstub not in GDBSTUB_KINDS:
            raise InputError(f"unknown gdbstub kind {self.gdbstub!r}: use 'unix' or 'tcp'")
        if self.smp < 1:
            raise InputError(f"smp must be at least 1, not {self.smp}")
        if self.memory_mb < 64:
            raise InputError(f"memory_mb={self.memory_mb} is too small to boot Linux")
        for what, path in (("kernel", self.kernel), ("initrd", self.initrd)):
            if path is None:
                continue
            if not Path(path).is_file():
                raise InputError(f"the {what} {path} does not exist")
            if not os.access(path, os.R_OK):
                raise InputError(f"the {what} {path} is not readable")
        if "quiet" in self.append.split():
            raise InputError("'quiet' on the kernel command line hides WARN splats; remove it")

    @property
    def cmdline(self) -> str:
        return f"{DEFAULT_CMDLINE} {self.append}".strip()

    def cpu_model(self) -> str | None:
        if self.cpu:
            return self.cpu
        return "host" if self.accel == "kvm" else None

    def argv(
        self,
        qmp_sock: Path,
        console_sock: Path,
        console_log: Path | None,
        gdb_chardev: str,
        command_sock: Path | None = None,
        command_log: Path | None = None,
        *,
        qmp_chardev: str | None = None,
        console_chardev: str | None = None,
        command_chardev: str | None = None,
    ) -> list[str]:
        """The QEMU command line (pure: unit-tested without QEMU). ttyS0 is the
        kernel console; ``command_sock``: ttyS1, the port of the guest's shell.
        ``console_log``/``command_log``: QEMU's own logfile of a port, or None
        when the reader keeps the log (QEMU 7.2's chardev logfile repeats bytes
        whose socket write had to be retried: measured under load, 20 to 40
        doubled characters per boot).

        ``qmp_chardev``, ``console_chardev``, ``command_chardev``: chardev specs
        instead of the Unix sockets (a guest inside a nested KVM host reaches
        guestdbg over TCP, and its logs are written on this side)."""
        append = "on" if self.log_append else "off"
        con_log = f",logfile={console_log},logappend={append}" if console_log else ""
        qmp_chardev = qmp_chardev or f"socket,id=qmp0,path={qmp_sock}"
        console_chardev = console_chardev or f"socket,id=con0,path={console_sock}{con_log}"
        argv = [
            self.qemu,
            "-name",
            self.name,
            "-accel",
            self.accel,
            "-machine",
            "pc",
            "-smp",
            str(self.smp),
            "-m",
            str(self.memory_mb),
            "-nodefaults",
            "-display",
            "none",
            "-no-reboot",
            "-kernel",
            str(self.kernel),
            "-append",
            self.cmdline,
            # QMP and the console: QEMU connects to sockets we already listen on,
            # so nothing is polled and no console output is lost.
            "-chardev",
            qmp_chardev,
            "-mon",
            "chardev=qmp0,mode=control",
            "-chardev",
            console_chardev,
            "-serial",
            "chardev:con0",
        ]
        if command_chardev is None and command_sock is not None:
            log = f",logfile={command_log},logappend={append}" if command_log else ""
            command_chardev = f"socket,id=cmd0,path={command_sock}{log}"
        if command_chardev is not None:
            argv += ["-chardev", command_chardev, "-serial", "chardev:cmd0"]
        argv += [
            "-chardev",
            gdb_chardev,
            "-gdb",
            "chardev:gdb0",
        ]
        if self.initrd:
            argv += ["-initrd", str(self.initrd)]
        cpu = self.cpu_model()
        if cpu:
            argv += ["-cpu", cpu]
        if self.paused:
            argv.append("-S")
        if self.incoming:
            # The state arrives later through QMP (migrate-incoming), after the
            # sockets are connected and migration events are switched on.
            argv += ["-incoming", "defer"]
        return argv + list(self.extra_args)


@dataclass(frozen=True)
class GuestOptions:
    """The user's guest options (``guestdbg boot/repro``, the pytest plugin),
    before an image is chosen. accel None: the probe's choice."""

    accel: str | None = None
    smp: int = 2
    cpu: str | None = None
    memory_mb: int = 512
    append: str = ""
    boot_timeout: float = 90.0
    qemu: str = "qemu-system-x86_64"
    qemu_args: tuple[str, ...] = ()  # what this QEMU needs besides (its own firmware: -L DIR)

    def spec(self, image: Any, **overrides: Any) -> GuestSpec:
        """A GuestSpec booting ``image`` (an images.guest_image.GuestImage) with these options."""
        from guestdbg.runtime import host

        fields = {
            "accel": self.accel or ("kvm" if host.probe().kvm.usable else "tcg"),
            "smp": self.smp,
            "cpu": self.cpu,
            "memory_mb": self.memory_mb,
            "append": self.append,
            "boot_timeout": self.boot_timeout,
            "qemu": self.qemu,
            "extra_args": self.qemu_args,
        }
        return spec_for(image, **{**fields, **overrides})


def spec_for(image: Any, **overrides: Any) -> GuestSpec:
    """A GuestSpec booting an images.guest_image.GuestImage."""
    base = GuestSpec(kernel=image.kernel, initrd=image.initrd)
    return replace(base, **overrides)
