"""What this host can do: QEMU, gdb, and whether KVM can run a normal guest.

The KVM answer decides whether KVM cases run or skip, so it says *why*:
absent, no permission, a para-virtual /dev/kvm (``kvm_pvm``) that creates VMs
but cannot run an ordinary kernel, or hardware KVM (``kvm_intel``/``kvm_amd``)
with its ``KVM_CAP_SET_GUEST_DEBUG2`` bits.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

KVM_GET_API_VERSION = 0xAE00
KVM_CHECK_EXTENSION = 0xAE03
KVM_CAP_SET_GUEST_DEBUG2 = 195

# include/uapi/linux/kvm.h (and asm/kvm.h for the x86 ones)
GUESTDBG_BITS: dict[int, str] = {
    0x00000001: "ENABLE",
    0x00000002: "SINGLESTEP",
    0x00010000: "USE_SW_BP",
    0x00020000: "USE_HW_BP",
    0x00040000: "INJECT_DB",
    0x00080000: "INJECT_BP",
    0x00100000: "BLOCKIRQ",
}
KVM_GUESTDBG_BLOCKIRQ = 0x00100000

PARAVIRT_KVM_MODULES = ("kvm_pvm",)
HARDWARE_KVM_MODULES = ("kvm_intel", "kvm_amd")


@dataclass(frozen=True)
class KvmInfo:
    """The state of /dev/kvm and whether a normal guest kernel can run on it."""

    present: bool
    usable: bool
    reason: str
    modules: tuple[str, ...] = ()
    api_version: int | None = None
    guest_debug2: int | None = None

    @property
    def guest_debug_flags(self) -> list[str]:
        if not self.guest_debug2:
            return []
        return [name for bit, name in GUESTDBG_BITS.items() if self.guest_debug2 & bit]

    @property
    def blockirq(self) -> bool:
        return bool(self.guest_debug2 and self.guest_debug2 & KVM_GUESTDBG_BLOCKIRQ)


@dataclass(frozen=True)
class ToolInfo:
    """An executable and its version, or why it is missing."""

    path: str | None
    version: str | None
    problem: str | None = None


@dataclass(frozen=True)
class GdbInfo(ToolInfo):
    python: str | None = None


@dataclass(frozen=True)
class HostInfo:
    """Everything the suite needs to know about the machine it runs on."""

    kernel: str
    machine: str
    cpus: int
    qemu: ToolInfo
    gdb: GdbInfo
    kvm: KvmInfo
    notes: list[str] = field(default_factory=list)

    def usable_accels(self) -> list[str]:
        accels = []
        if self.kvm.usable:
            accels.append("kvm")
        if self.qemu.path:
            accels.append("tcg")
        return accels

    def accel_problem(self, accel: str) -> str | None:
        """None when ``accel`` can run a guest here, else the sentence why not."""
        if not self.qemu.path:
            return self.qemu.problem
        if accel == "tcg":
            return None
        if accel == "kvm":
            return None if self.kvm.usable else f"KVM is not usable on this host: {self.kvm.reason}"
        return f"unknown accelerator {accel!r}: use 'tcg' or 'kvm'"

    def to_json(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["kvm"]["guest_debug_flags"] = self.kvm.guest_debug_flags
        data["kvm"]["blockirq"] = self.kvm.blockirq
        data["usable_accels"] = self.usable_accels()
        return data


def _run_version(argv: list[str], timeout: float = 20.0) -> str | None:
    try:
        out = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out


@functools.cache
def probe_qemu(binary: str = "qemu-system-x86_64") -> ToolInfo:
    path = shutil.which(binary)
    if not path:
        return ToolInfo(
            None,
            None,
            f"QEMU is not installed: {binary} is not on PATH "
            "(on Debian: apt-get install qemu-system-x86)",
        )
    out = _run_version([path, "--version"]) or ""
    m = re.search(r"version (\S+)", out)
    if not m:
        return ToolInfo(path, None, f"{path} --version did not print a version")
    return ToolInfo(path, m.group(1))


@functools.cache
def probe_gdb(binary: str = "gdb") -> GdbInfo:
    path = shutil.which(binary)
    if not path:
        return GdbInfo(
            None, None, f"gdb is not installed: {binary} is not on PATH (apt-get install gdb)"
        )
    out = (
        _run_version(
            [
                path,
                "-nx",
                "--batch",
                "-ex",
                "show version",
                "-ex",
                "python import sys; print('PYTHON', sys.version.split()[0])",
            ]
        )
        or ""
    )
    m = re.search(r"^GNU gdb (?:\(.*?\) )?(\S+)", out, re.M)
    version = m.group(1) if m else None
    py = re.search(r"^PYTHON (\S+)", out, re.M)
    problem = None
    if not py:
        problem = f"{path} has no Python support; lx-symbols needs a gdb built with Python"
    return GdbInfo(path, version, problem, python=py.group(1) if py else None)


def _loaded_modules(sys_module: Path) -> set[str]:
    try:
        return {p.name for p in sys_module.iterdir()}
    except OSError:
        return set()


def _ioctl_int(fd: int, request: int, arg: int = 0) -> int | None:
    try:
        return fcntl.ioctl(fd, request, arg)
    except OSError:
        return None


def probe_kvm(dev: str = "/dev/kvm", sys_module: Path = Path("/sys/module")) -> KvmInfo:
    """Tell hardware KVM from no KVM and from a para-virtual /dev/kvm."""
    modules = _loaded_modules(sys_module)
    kvm_mods = tuple(sorted(m for m in modules if m == "kvm" or m.startswith("kvm_")))
    if not os.path.exists(dev):
        return KvmInfo(False, False, f"{dev} does not exist (no KVM module loaded)", kvm_mods)
    if not os.access(dev, os.R_OK | os.W_OK):
        return KvmInfo(
            True, False, f"no permission to open {dev} (add the user to group 'kvm')", kvm_mods
        )
    try:
        fd = os.open(dev, os.O_RDWR | os.O_CLOEXEC)
    except OSError as err:
        return KvmInfo(True, False, f"cannot open {dev}: {err.strerror}", kvm_mods)
    try:
        api = _ioctl_int(fd, KVM_GET_API_VERSION)
        dbg2 = _ioctl_int(fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2)
    finally:
        os.close(fd)
    pv = [m for m in PARAVIRT_KVM_MODULES if m in modules]
    hw = [m for m in HARDWARE_KVM_MODULES if m in modules]
    if pv and not hw:
        reason = (
            f"{dev} is para-virtual KVM ({', '.join(pv)}), not hardware KVM: "
            "it creates VMs but cannot run a normal guest kernel"
        )
        return KvmInfo(True, False, reason, kvm_mods, api, dbg2)
    if not hw:
        return KvmInfo(
            True,
            False,
            f"{dev} exists but neither kvm_intel nor kvm_amd is loaded",
            kvm_mods,
            api,
            dbg2,
        )
    if api != 12:
        return KvmInfo(True, False, f"unexpected KVM API version {api}", kvm_mods, api, dbg2)
    return KvmInfo(True, True, f"hardware KVM ({', '.join(hw)})", kvm_mods, api, dbg2)


@functools.cache
def probe(qemu: str = "qemu-system-x86_64", gdb: str = "gdb") -> HostInfo:
    """Probe the host (with these QEMU and gdb binaries) once per process."""
    notes = []
    kvm = probe_kvm()
    if kvm.usable and not kvm.blockirq:
        notes.append(
            "KVM lacks KVM_GUESTDBG_BLOCKIRQ (Linux < 5.15): interrupts can be injected "
            "while single-stepping; step-landing and stuck-breakpoint checks are expected to fail"
        )
    return HostInfo(
        kernel=platform.release(),
        machine=platform.machine(),
        cpus=os.cpu_count() or 1,
        qemu=probe_qemu(qemu),
        gdb=probe_gdb(gdb),
        kvm=kvm,
        notes=notes,
    )


@dataclass(frozen=True)
class MachineKind:
    """Whether this machine is itself a virtual machine: the CPUID hypervisor
    bit (``hypervisor`` in /proc/cpuinfo's flags), and whether its CPU is
    emulated by TCG (QEMU names it ``QEMU TCG CPU``): KVM there is KVM in a
    VM, nested on the level below, not hardware."""

    virtual: bool
    emulated: bool
    cpu: str

    def describe(self) -> str:
        if not self.virtual:
            return "bare metal (no CPUID hypervisor bit)"
        how = "its CPU emulated by TCG" if self.emulated else "hardware-assisted"
        return f"a virtual machine (CPUID hypervisor bit; CPU {self.cpu!r}, {how})"


def parse_machine_kind(cpuinfo: str) -> MachineKind:
    """The :class:`MachineKind` of a /proc/cpuinfo text (the first CPU's lines)."""
    flags: list[str] = []
    model = ""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "flags" and not flags:
            flags = value.split()
        elif key == "model name" and not model:
            model = value.strip()
    return MachineKind("hypervisor" in flags, "QEMU TCG CPU" in model, model or "?")


@functools.cache
def machine_kind() -> MachineKind:
    try:
        return parse_machine_kind(Path("/proc/cpuinfo").read_text())
    except OSError:
        return MachineKind(False, False, platform.processor() or "?")


@dataclass(frozen=True)
class VmOuter:
    """The outer level below the ``guestdbg vm-run`` VM this process runs in,
    as vm-run says it (``GUESTDBG_VM_OUTER`` and ``GUESTDBG_VM_OUTER_FIXED``):
    its description and the outer-level limits its QEMU carries fixes for."""

    describe: str
    fixed: frozenset[str]


def vm_outer() -> VmOuter | None:
    """:class:`VmOuter`, or None outside a vm-run VM."""
    described = os.environ.get("GUESTDBG_VM_OUTER")
    if not described:
        return None
    fixed = os.environ.get("GUESTDBG_VM_OUTER_FIXED", "")
    return VmOuter(described, frozenset(k for k in fixed.split(",") if k))


def describe(info: HostInfo) -> str:
    """A few human lines, for ``guestdbg probe`` and the pytest report header."""
    kvm = info.kvm
    lines = [
        f"host: Linux {info.kernel} {info.machine}, {info.cpus} CPUs",
        f"qemu: {info.qemu.version or '-'} ({info.qemu.path or info.qemu.problem})",
        f"gdb: {info.gdb.version or '-'} python {info.gdb.python or 'missing'}"
        f" ({info.gdb.path or info.gdb.problem})",
        f"kvm: {'usable' if kvm.usable else 'not usable'}: {kvm.reason}",
    ]
    if kvm.guest_debug2 is not None:
        flags = "|".join(kvm.guest_debug_flags) or "none"
        blockirq = "yes" if kvm.blockirq else "no"
        lines.append(
            f"kvm: KVM_CAP_SET_GUEST_DEBUG2 = {kvm.guest_debug2:#x} ({flags}); BLOCKIRQ {blockirq}"
        )
    lines.append(f"machine: {machine_kind().describe()}")
    lines.append(f"accelerators usable here: {', '.join(info.usable_accels()) or 'none'}")
    lines.extend(f"note: {n}" for n in info.notes)
    return "\n".join(lines)
