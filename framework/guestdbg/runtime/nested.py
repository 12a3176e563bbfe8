"""The nested KVM host: a host VM ("L1") running a chosen host kernel with KVM,
inside which QEMU runs the guest ("L2") under that KVM.

Three levels:

- the **outer level** (this machine's QEMU process running L1): hardware KVM
  with nested virtualization where the probe finds it usable (fast and
  faithful), TCG elsewhere — with QEMU 10.0.2 from bookworm-backports,
  since QEMU 7.2 as the outer level never fires the nested guest's hardware
  breakpoints (:mod:`guestdbg.images.outer_qemu`);
- the **host (L1)**: a :class:`~guestdbg.runtime.qemu.Guest` like any other,
  booting the host kernel with the initramfs of
  :mod:`guestdbg.images.host_image` (KVM loaded, network up, the guests'
  images inside), driven through the same console protocol;
- the **guest (L2)**: QEMU under test inside L1, with ``-accel kvm``. It
  reaches this machine through L1's slirp network (this machine is
  10.0.2.2 to it): its console and QMP connect to sockets guestdbg listens
  on, and its gdbstub is forwarded (``hostfwd``) to a port on 127.0.0.1.

:class:`RemoteProcess` is L2's QEMU as seen from here: the subset of
``subprocess.Popen`` a :class:`Guest` uses (poll, wait, send_signal,
returncode), carried out through L1's console. L2 never outlives L1, and L1
is an ordinary local QEMU process that never outlives its ``Guest``.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import re
import select
import shlex
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from guestdbg import kernlog
from guestdbg.errors import DeadlineError, GuestdbgError, GuestError, HostError
from guestdbg.images.host_image import L1_KVMCAPS, L1_QEMU, HostImage, host_initramfs
from guestdbg.images.host_kernels import HostKernel, host_kernel
from guestdbg.runtime import host
from guestdbg.runtime.console import tail_of
from guestdbg.runtime.local import accept_ports, accept_qmp, close_qmp, end_process, qmp_server
from guestdbg.runtime.placement import GdbStub, GuestFiles, Launch, SnapshotStore
from guestdbg.runtime.qemu import Guest
from guestdbg.runtime.snapshot_store import HostRamStore, HostSnapshot
from guestdbg.runtime.spec import GuestSpec

# How this machine looks from inside L1 (QEMU's user-mode network).
HOST_ADDRESS = "10.0.2.2"
# L2's gdbstub port inside L1; forwarded to a port on 127.0.0.1 here.
L2_GDB_PORT = 1234
L1_MEMORY_MB = 3072
L1_SMP = 2
L1_APPEND = "mitigations=off"
L1_BOOT_TIMEOUT = 240.0
# L2's QEMU connects its console and QMP within this (it starts in ~1.5 s).
L2_CONNECT_TIMEOUT = 60.0
# What L2's QEMU does on a reset or shutdown: pause (see Guest.problem).
L2_EVIDENCE_ACTIONS = ("-action", "reboot=shutdown,shutdown=pause")
# A health check's command in L1 answers within this (under load: seconds).
HEALTH_TIMEOUT = 30.0
# Boots of one nested host before its failure is the case's (one retry).
BOOT_ATTEMPTS = 2
# A QEMU in L1 that closed its console reports its exit status within this.
EXIT_REPORT_TIMEOUT = 30.0

_serial = itertools.count(1)
log = logging.getLogger("guestdbg.nested")


@dataclass(frozen=True)
class OuterLevel:
    """What runs L1: ``kvm`` (hardware KVM with nested virtualization) or
    ``tcg``; the QEMU binary and the arguments it needs."""

    kind: str
    qemu: str
    qemu_version: str
    cpu: str
    extra_args: tuple[str, ...] = ()
    # Keys of TCG_LIMITS its QEMU carries a fix for (images/nested/qemu-patches/).
    fixed: frozenset[str] = frozenset()

    @property
    def faithful(self) -> bool:
        """Whether the nested guest sees what it would see on hardware (see
        :data:`TCG_LIMITS` for what an outer TCG cannot show): hardware KVM,
        on a machine whose own CPU is not emulated by TCG."""
        return self.kind == "kvm" and not host.machine_kind().emulated

    def describe(self) -> str:
        if self.kind == "kvm":
            return f"hardware KVM with nested virtualization (QEMU {self.qemu_version})"
        fixes = f" with fixes for {', '.join(sorted(self.fixed))}" if self.fixed else ""
        return f"TCG (QEMU {self.qemu_version}{fixes}, -cpu {self.cpu})"


# What an outer TCG cannot show faithfully: defects of the outer QEMU, never
# results about the kernel or QEMU under test. Keys name them in reports.
TCG_LIMITS = {
    "sw-breakpoints": (
        "under an outer TCG the nested guest takes the debugger's int3 itself and "
        "Oopses: the outer QEMU routes int3 to the INTn intercept, not to L1's #BP "
        "intercept (raise_interrupt2() in target/i386/tcg/excp_helper.c; QEMU 7.2 "
        "and 10.0.2 as released; images/nested/qemu-patches/ fixes it)"
    ),
    "handler-landing": (
        "under an outer TCG a single-step never lands in an interrupt handler: the "
        "outer QEMU delivers the interrupt L1's KVM injects with TF cleared and no step "
        "trap, so the handler runs unseen, as the SDM and AMD's APM describe event "
        "delivery; KVM's developers reported steps landing in handlers on real AMD and "
        "Intel hosts (2021), so this is not judged here (docs/nested-hosts.md)"
    ),
    "hw-breakpoints": (
        "under an outer QEMU older than 9.1 the nested guest's hardware breakpoints "
        "never fire (DR7 not armed on VM entry; fixed in QEMU 9.1)"
    ),
}


def nested_virtualization() -> tuple[bool, str]:
    """Whether this machine's hardware KVM has nested virtualization on."""
    for module in ("kvm_amd", "kvm_intel"):
        param = Path("/sys/module") / module / "parameters" / "nested"
        if param.exists():
            value = param.read_text().strip()
            if value in ("1", "Y", "y"):
                return True, f"{module} nested={value}"
            return False, f"{module} is loaded with nested={value}"
    return False, "neither kvm_amd nor kvm_intel is loaded"


def outer_level(qemu: str = "qemu-system-x86_64") -> OuterLevel:
    """The outer level the probe finds: hardware KVM with nested
    virtualization when usable, else TCG with QEMU from bookworm-backports
    (fetched into the cache on first use)."""
    info = host.probe()
    if info.kvm.usable and nested_virtualization()[0]:
        return OuterLevel("kvm", qemu, info.qemu.version or "?", "host")
    from guestdbg.images.outer_qemu import outer_qemu

    outer = outer_qemu()
    return OuterLevel("tcg", str(outer.binary), outer.version, "max", outer.args(), outer.fixed)


def outer_level_problem() -> str | None:
    """None when kvm-nested can run here (the outer level can be built), else why not."""
    info = host.probe()
    if info.qemu.path is None:
        return info.qemu.problem
    if info.kvm.usable and nested_virtualization()[0]:
        return None
    try:
        outer_level()
    except Exception as err:  # a sentence for probe and skips
        return f"no outer level for the nested KVM host: {err}"
    return None


def probe_nested() -> dict[str, object]:
    """What ``guestdbg probe`` says about kvm-nested, without fetching anything:
    whether it can run here and what the outer level would be."""
    import shutil as _shutil

    info = host.probe()
    nested_on, why = nested_virtualization()
    machine = host.machine_kind()
    if info.kvm.usable and nested_on and machine.emulated:
        level = (
            f"hardware KVM with nested virtualization ({why}), but this machine is itself "
            f"{machine.describe()}: slow, and only as faithful as the TCG below it (software "
            "breakpoints and steps landing in interrupt handlers cannot be judged)"
        )
    elif info.kvm.usable and nested_on and machine.virtual:
        level = (
            f"hardware KVM with nested virtualization ({why}) in {machine.describe()}: "
            "the nested host is a third level of KVM, slower than on bare metal"
        )
    elif info.kvm.usable and nested_on:
        level = f"hardware KVM with nested virtualization ({why}): fast and faithful"
    else:
        reason = info.kvm.reason if not info.kvm.usable else why
        level = (
            "TCG with QEMU from bookworm-backports (fetched into the cache on first use), "
            f"because hardware KVM with nested virtualization is not usable here: {reason}; "
            "under an outer TCG steps landing in interrupt handlers cannot be judged "
            "(software breakpoints can: its QEMU is built with images/nested/qemu-patches/)"
        )
    missing = [t for t in ("apt-get", "dpkg-deb", "modinfo", "gcc") if not _shutil.which(t)]
    problem = info.qemu.problem if info.qemu.path is None else None
    if missing:
        problem = f"missing tools to build the nested host: {', '.join(missing)}"
    return {"usable": problem is None, "problem": problem, "outer_level": level}


# What L1's kernel reports when it can no longer be trusted to run guests: a CPU
# stuck (under an outer TCG, one running a nested guest sometimes never answers
# an IPI again), a task hung, an oops or a panic. A WARNING alone is not.
HOST_STUCK_KINDS = frozenset(
    {
        "SOFT_LOCKUP",
        "HARD_LOCKUP",
        "RCU_STALL",
        "HUNG_TASK",
        "WORKQUEUE_LOCKUP",
        "OOPS",
        "BUG",
        "PANIC",
    }
)


def host_kernel_trouble(console: str) -> str | None:
    """The first report on L1's console that makes it unusable, as a sentence."""
    for report in kernlog.parse_text(console):
        if report.kind in HOST_STUCK_KINDS:
            when = f", {report.start_time:g} s after boot" if report.start_time else ""
            return f"its kernel reported '{report.title}' (console line {report.start_line}{when})"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 free at this moment (for L1's hostfwd)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class KvmCaps:
    """What the host's KVM offers a debugger (read by ``kvmcaps`` inside L1)."""

    api: int
    guest_debug2: int
    nested_state: int

    @property
    def blockirq(self) -> bool:
        return bool(self.guest_debug2 & host.KVM_GUESTDBG_BLOCKIRQ)

    @property
    def flags(self) -> list[str]:
        return [name for bit, name in host.GUESTDBG_BITS.items() if self.guest_debug2 & bit]

    def describe(self) -> str:
        names = "|".join(self.flags) or "none (capability unknown: Linux < 5.15)"
        return f"KVM_CAP_SET_GUEST_DEBUG2 = {self.guest_debug2:#x} ({names})"


def parse_kvmcaps(text: str) -> KvmCaps | None:
    m = re.search(r"KVMCAPS api=(-?\d+) guest_debug2=(0x[0-9a-f]+|0) nested_state=(-?\d+)", text)
    if not m:
        return None
    return KvmCaps(int(m.group(1)), int(m.group(2), 16), int(m.group(3)))


@dataclass
class NestedHost:
    """L1: the host kernel ``host_name`` booted under the outer level, with
    the guests' (kernel, initrd) pairs inside. Use as a context manager.

    host_name: a ``--host-kernel`` value (``debian-6.1``, ``debian-5.10`` or a
        tree path). guests: (kernel, initrd) pairs L2 may boot.
    qemu: the QEMU under test, run inside L1. artifacts: L1's console log,
        QEMU stderr and QMP log go here.
    """

    host_name: str
    guests: list[tuple[Path, Path | None]]
    artifacts: Path
    qemu: str = "qemu-system-x86_64"
    boot_timeout: float = L1_BOOT_TIMEOUT
    kernel: HostKernel | None = field(default=None, init=False)
    image: HostImage | None = field(default=None, init=False)
    outer: OuterLevel | None = field(default=None, init=False)
    guest: Guest | None = field(default=None, init=False)
    caps: KvmCaps | None = field(default=None, init=False)
    gdb_port: int = field(default=0, init=False)
    boot_seconds: float | None = field(default=None, init=False)
    current: RemoteProcess | None = field(default=None, init=False)
    sstep_report: str | None = field(default=None, init=False)
    # Guests' snapshots kept in this host's RAM, by key (runtime.snapshot_store).
    snapshots: dict[str, HostSnapshot] = field(default_factory=dict, init=False)

    def __enter__(self) -> NestedHost:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self.kernel = host_kernel(self.host_name)
        self.image = host_initramfs(self.kernel, self.guests, self.qemu)
        self.outer = outer_level()
        self.gdb_port = free_port()
        spec = GuestSpec(
            kernel=self.kernel.bzimage,
            initrd=self.image.initrd,
            append=L1_APPEND,
            accel=self.outer.kind,
            smp=L1_SMP,
            cpu=self.outer.cpu,
            memory_mb=L1_MEMORY_MB,
            boot_timeout=self.boot_timeout,
            qemu=self.outer.qemu,
            name=f"nested-host-{self.kernel.name}",
            extra_args=(
                *self.outer.extra_args,
                "-netdev",
                f"user,id=n0,hostfwd=tcp:127.0.0.1:{self.gdb_port}-:{L2_GDB_PORT}",
                "-device",
                "virtio-net-pci,netdev=n0",
            ),
        )
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.guest = Guest(spec, artifacts=self.artifacts)
        self.guest.__enter__()
        self.boot_seconds = self.guest.boot_seconds
        self.check_health()

    # -- health ----------------------------------------------------------
    def problems(self) -> list[str]:
        """What is wrong with L1 now, as sentences (empty: healthy). Bounded:
        a frozen L1 (its QEMU stopped by a signal or QMP, or not answering
        QMP) or a silent command port is a problem, not a wait."""
        g = self.guest
        if g is None or not g.running:
            return [g.exit_reason() or "the nested host is not running" if g else "not started"]
        frozen = g.healthy()  # alive, answering QMP within seconds, and running
        if frozen:
            return [f"its QEMU is not usable: {frozen}"]
        text = g.console.text()
        found = re.findall(r"GUESTDBG-HOST: (.*?)\r?\n", text)
        trouble = host_kernel_trouble(text)
        if trouble:
            found.append(trouble)
        try:
            out = g.run(
                f"[ -c /dev/kvm ] && {L1_KVMCAPS}; ip -4 addr show eth0", timeout=HEALTH_TIMEOUT
            )
        except GuestdbgError as err:
            first = err.message.splitlines()[0] if err.message else err.__class__.__name__
            return [*found, f"its shell did not answer a health check: {first}"]
        caps = parse_kvmcaps(out.output)
        if caps is None:
            found.append(f"kvmcaps could not read /dev/kvm: {out.output.strip()[:200]}")
        else:
            self.caps = caps
        if "10.0.2.15" not in out.output:
            found.append("eth0 has no address 10.0.2.15")
        return found

    def check_health(self) -> None:
        """HostError with L1's console tail when L1 is not a usable KVM host."""
        problems = self.problems()
        if problems:
            raise HostError(
                f"the nested KVM host ({self.host_name}) is not usable: {problems[0]}",
                evidence=self.evidence(),
            )

    def evidence(self) -> dict[str, str]:
        if self.guest is None or self.guest.artifacts is None:
            return {}
        return {
            f"nested host console tail ({self.guest.console_log})": tail_of(self.guest.console_log)
        }

    @property
    def running(self) -> bool:
        return self.guest is not None and self.guest.running

    def close(self) -> None:
        if self.guest is not None:
            self.guest.close()

    # -- running things in L1 ---------------------------------------------
    def run(self, command: str, timeout: float = 60.0) -> str:
        """Run ``command`` in L1's shell; GuestError when it fails."""
        if self.guest is None:
            raise GuestError("the nested host is not started")
        result = self.guest.run(command, timeout=timeout)
        if not result.ok:
            raise GuestError(
                f"in the nested host: '{command}' failed with status {result.status}: "
                f"{result.output.strip()[:300]}",
                evidence=self.evidence(),
            )
        return result.output

    # -- the Placement protocol (guestdbg.runtime.placement) -------------------
    kind = "nested"

    def describe(self) -> str:
        release = self.kernel.release if self.kernel else self.host_name
        outer = self.outer.describe() if self.outer else "?"
        caps = f"; {self.caps.describe()}" if self.caps else ""
        return f"nested KVM host {release} under {outer}{caps}"

    def check(self, spec: GuestSpec) -> None:
        if not self.running:
            raise HostError(f"the nested KVM host ({self.host_name}) is not running")
        if spec.accel != "kvm":
            raise HostError(f"a nested KVM host runs guests under kvm, not {spec.accel}")

    def snapshot_store(self) -> SnapshotStore:
        return HostRamStore(self)

    def kvm_blockirq(self, spec: GuestSpec) -> bool | None:
        return self.caps.blockirq if self.caps is not None else None

    def hardware_breakpoints_only(self) -> bool:
        # An outer QEMU that lacks the int3 fix (images/nested/qemu-patches)
        # lets the nested guest take software breakpoints itself.
        outer = self.outer
        return outer is not None and not outer.faithful and "sw-breakpoints" not in outer.fixed

    def kvm_tracer(self) -> NestedHost:
        return self  # L1's tracefs (trace_start/trace_stop below)

    def launch(self, spec: GuestSpec, files: GuestFiles) -> Launch:
        """Start QEMU for ``spec`` inside L1: its console and QMP connect to
        TCP sockets here and its gdbstub is forwarded to ``127.0.0.1:gdb_port``.
        One guest at a time (the gdbstub port is L1's). Every wait is bounded;
        failures carry L2's stderr and L1's console."""
        assert self.image is not None
        if self.current is not None and self.current.poll() is None:
            self.current.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.current.wait(30)
        inside = replace(
            spec,
            kernel=Path(self.image.path_in_host(spec.kernel)),
            initrd=Path(self.image.path_in_host(spec.initrd)) if spec.initrd else None,
            qemu=L1_QEMU,
            # Under an outer TCG a nested guest sometimes resets silently: QEMU
            # then keeps it paused (instead of exiting), so Guest.problem() can
            # say so and save its registers.
            extra_args=(*spec.extra_args, *L2_EVIDENCE_ACTIONS),
        )
        release: list[Callable[[], None]] = []
        proc: RemoteProcess | None = None
        qmp, stop_log = qmp_server(("127.0.0.1", 0), files, "nested-")
        release.append(stop_log)
        try:
            qmp_port = qmp._qmp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            con_listener = _listen_tcp()
            con_port = con_listener.getsockname()[1]
            cmd_listener = _listen_tcp() if spec.command_port else None
            cmd_port = cmd_listener.getsockname()[1] if cmd_listener else None
            argv = inside.argv(
                Path(),
                Path(),
                Path(),
                f"socket,id=gdb0,host=0.0.0.0,port={L2_GDB_PORT},server=on,wait=off",
                qmp_chardev=f"socket,id=qmp0,host={HOST_ADDRESS},port={qmp_port}",
                console_chardev=f"socket,id=con0,host={HOST_ADDRESS},port={con_port}",
                command_chardev=(
                    f"socket,id=cmd0,host={HOST_ADDRESS},port={cmd_port}" if cmd_port else None
                ),
            )
            files.stderr_log.write_text(
                f"$ {shlex.join(argv)}\n# inside the nested KVM host {self.host_name} "
                f"(console: {self.guest.console_log if self.guest else '?'})\n"
            )
            started = time.monotonic()
            proc = RemoteProcess.start(self, argv, files.stderr_log)
            self.current = proc
            conn, cmd_conn = accept_ports(
                con_listener, cmd_listener, L2_CONNECT_TIMEOUT, proc, files.stderr_log
            )
            console = ConsoleRelay.start(conn, on_eof=proc.console_closed.set)
            commands = ConsoleRelay.start(cmd_conn) if cmd_conn else None
            accept_qmp(qmp, L2_CONNECT_TIMEOUT, files.stderr_log)
        except BaseException as err:
            if proc is not None:
                proc.fetch_stderr()
                end_process(proc)
            close_qmp(qmp)
            for r in reversed(release):
                r()
            if isinstance(err, GuestdbgError):
                err.evidence.update(self.evidence())
            raise
        stub = GdbStub("tcp", f"127.0.0.1:{self.gdb_port}")
        return Launch(proc, console, commands, qmp, stub, argv, started, release)

    def report_sstep(self, g: Guest, gdb: str = "gdb") -> str:
        """The single-step flags QEMU reports for a guest on this host's KVM
        (``qqemu.sstepbits``, ``qqemu.sstep``): a property of the host kernel
        and the QEMU under test, read once through the guest's gdbstub."""
        argv = [gdb, "-nx", "-batch", "-ex", f"target remote {g.gdbstub.address}"]
        argv += [
            "-ex",
            "maintenance packet qqemu.sstepbits",
            "-ex",
            "maintenance packet qqemu.sstep",
        ]
        argv += ["-ex", "detach"]
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            return f"not read ({err.__class__.__name__})"
        replies = re.findall(r'received: "([^"]*)"', out.stdout)
        if len(replies) != 2:
            return f"not read: {out.stdout.strip()[-200:]}"
        self.sstep_report = f"supported {replies[0]}; default {replies[1]}"
        return self.sstep_report

    # -- tracefs -----------------------------------------------------------
    TRACEFS = "/sys/kernel/tracing"

    def trace_start(self, events: tuple[str, ...]) -> None:
        """Clear L1's trace buffer and enable ``events`` (``kvm:kvm_exit``)."""
        t = self.TRACEFS
        cmds = [f"echo 0 > {t}/tracing_on", f"echo > {t}/trace", f"echo 8192 > {t}/buffer_size_kb"]
        cmds += [f"echo 1 > {t}/events/{e.replace(':', '/')}/enable" for e in events]
        cmds.append(f"echo 1 > {t}/tracing_on")
        self.run(" && ".join(cmds))

    def trace_stop(self, events: tuple[str, ...]) -> str:
        """Stop tracing, disable ``events`` and return the trace text."""
        t = self.TRACEFS
        cmds = [f"echo 0 > {t}/tracing_on"]
        cmds += [f"echo 0 > {t}/events/{e.replace(':', '/')}/enable" for e in events]
        self.run(" && ".join(cmds))
        return self.run(f"grep -v '^#' {t}/trace", timeout=120)


class NestedHosts:
    """The nested hosts of one session, by (host kernel, guest image): one
    running at a time (2 shared cores), each health-checked before it is
    handed out again and rebooted, bounded, when it is not healthy — its QEMU
    exited, frozen (SIGSTOP, QMP ``stop``, QMP silent), its shell silent past
    :data:`HEALTH_TIMEOUT`, its kernel reporting a lockup, stall, hung task,
    oops or panic — so one wedged host never takes later cases down with it.

    root: where each host's logs go (``<label>-<n>/``). qemu: the QEMU under
    test, run inside the hosts."""

    def __init__(self, root: Path, qemu: str = "qemu-system-x86_64") -> None:
        self.root = root
        self.qemu = qemu
        self.hosts: dict[tuple[str, str, str], NestedHost] = {}
        self.boots: dict[tuple[str, str, str], int] = {}
        self.reboots: list[str] = []  # why each unhealthy host was rebooted

    def healthy(
        self,
        host_name: str,
        guests: list[tuple[Path, Path | None]],
        label: str = "host",
        qemu: str | None = None,
    ) -> NestedHost:
        """The running, healthy host of ``host_name`` for these guests and the
        QEMU under test (default: the pool's), booted (or rebooted) here; the
        error of a host that cannot be had, with its console tail."""
        qemu = qemu or self.qemu
        key = (host_name, str(guests[0][0]) if guests else "", qemu)
        h = self.hosts.get(key)
        if h is not None:
            problems = h.problems()
            if problems:
                why = f"nested host {host_name} unhealthy, rebooting: {problems[0]}"
                log.warning("%s", why)
                self.reboots.append(why)
                self.hosts.pop(key).close()
                h = None
        if h is None:
            self.close()  # one nested host at a time
            h = self._boot(key, host_name, guests, label, qemu)
            self.hosts[key] = h
        return h

    def _boot(
        self,
        key: tuple[str, str, str],
        host_name: str,
        guests: list[tuple[Path, Path | None]],
        label: str,
        qemu: str,
    ) -> NestedHost:
        """A booted host, in ``BOOT_ATTEMPTS`` tries: a boot that died (the
        outer QEMU crashed, as the patched outer QEMU sometimes does under TCG,
        or L1's kernel died) or ran out of time is tried once more in a fresh
        directory, the failed one kept; bad input or a host without usable KVM
        is not (GuestError only)."""
        for attempt in range(1, BOOT_ATTEMPTS + 1):
            n = self.boots[key] = self.boots.get(key, 0) + 1
            h = NestedHost(host_name, guests, self.root / f"{label}-{n}", qemu=qemu)
            try:
                h.__enter__()
                return h
            except GuestError as e:
                if attempt == BOOT_ATTEMPTS:
                    raise
                why = (
                    f"nested host {host_name} did not boot, booting it once more: "
                    f"{e.message.splitlines()[0]}"
                )
                log.warning("%s", why)
                self.reboots.append(why)
        raise AssertionError("unreachable")  # the loop returns or raises

    def close(self) -> None:
        for key in list(self.hosts):
            self.hosts.pop(key).close()


class RemoteProcess:
    """A process in L1 as a :class:`Guest` sees it: the part of
    ``subprocess.Popen`` it uses (pid, poll, wait, send_signal, kill,
    returncode), event-driven: a shell in L1 starts the process and reports
    over a TCP connection to this machine (``pid N``, its stderr tail, then
    ``status S``); a thread here reads it, so poll() and wait() never talk to
    L1 (and are safe from any thread). The connection closing without a status
    means L1 or the reporting shell is gone: the process is gone with it.

    ``pid`` is L1's own QEMU process here (a frozen L1 is a frozen guest);
    ``remote_pid`` the process's pid inside L1. Signals go through L1's console.
    """

    def __init__(self, host: NestedHost, argv: list[str], stderr_log: Path) -> None:
        self.host = host
        self.argv = argv
        self.stderr_log = stderr_log
        self.returncode: int | None = None
        self.remote_pid: int | None = None
        self.tag = f"/tmp/l2-{next(_serial)}"
        l1 = host.guest.proc if host.guest is not None else None
        self.pid = l1.pid if l1 is not None else -1
        self._started = threading.Event()
        self._exited = threading.Event()
        # Set when QEMU closed its console: it is exiting, its status is on the way.
        self.console_closed = threading.Event()
        self._stderr: list[str] = []

    @classmethod
    def start(cls, host: NestedHost, argv: list[str], stderr_log: Path) -> RemoteProcess:
        proc = cls(host, argv, stderr_log)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        quoted = " ".join(_shell_quote(a) for a in argv)
        err = f"{proc.tag}.err"
        script = (
            f"( {quoted} </dev/null >{err} 2>&1 & p=$!; echo pid $p; wait $p; s=$?; "
            f"tail -c 8192 {err} | sed 's/^/err /'; echo status $s ) "
            f"| nc {HOST_ADDRESS} {port} >/dev/null"
        )
        try:
            host.run(f"setsid sh -c {_shell_quote(script)} >/dev/null 2>&1 &")
            listener.settimeout(30.0)
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                raise DeadlineError(
                    f"the process started in the nested host did not report within 30s "
                    f"(its output: {proc.tag}.err in the host)",
                    evidence=host.evidence(),
                ) from None
        finally:
            listener.close()
        threading.Thread(target=proc._read, args=(conn,), name="nested-proc", daemon=True).start()
        if not proc._started.wait(30.0) and proc.returncode is None:
            raise DeadlineError("the process in the nested host reported no pid within 30s")
        return proc

    def _read(self, conn: socket.socket) -> None:
        status: int | None = None
        try:
            with conn, conn.makefile("r", errors="replace") as lines:
                for line in lines:
                    word, _, rest = line.rstrip("\n").partition(" ")
                    if word == "pid" and rest.isdigit():
                        self.remote_pid = int(rest)
                        self._started.set()
                    elif word == "err":
                        self._stderr.append(rest)
                    elif word == "status" and rest.lstrip("-").isdigit():
                        status = int(rest)
        except OSError:
            pass
        if self._stderr:
            with contextlib.suppress(OSError), open(self.stderr_log, "a") as f:
                f.write("\n".join(self._stderr) + "\n")
        if status is None:
            self.returncode = -int(signal.SIGKILL)  # gone with the host
        else:
            # The shell says 128+N for a signal; Popen says -N.
            self.returncode = -(status - 128) if status > 128 else status
        self._started.set()
        self._exited.set()

    def poll(self) -> int | None:
        # A QEMU that closed its console is exiting; inside L1 under an outer
        # TCG tearing down its memory takes seconds, and until its status
        # arrives it must not look alive (nor frozen: it stops answering QMP).
        if self.returncode is None and self.console_closed.is_set():
            self._exited.wait(EXIT_REPORT_TIMEOUT)
            if self.returncode is None:
                self.returncode = -int(signal.SIGKILL)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(self.argv, timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def fetch_stderr(self) -> None:
        """Copy the process's output so far from L1 to ``stderr_log`` (for a
        failure while it still runs; after its exit the tail arrives by itself)."""
        g = self.host.guest
        if g is None or not g.running or self.returncode is not None:
            return
        with contextlib.suppress(GuestdbgError):
            out = g.run(f"tail -c 8192 {self.tag}.err", timeout=30)
            with open(self.stderr_log, "a") as f:
                f.write(out.output)

    def send_signal(self, sig: int) -> None:
        g = self.host.guest
        if self.returncode is not None or self.remote_pid is None or g is None or not g.running:
            return
        with contextlib.suppress(GuestdbgError):
            g.run(f"kill -{int(sig)} {self.remote_pid} 2>/dev/null", timeout=30)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ConsoleRelay:
    """Between a nested guest's serial connection and its :class:`Console`
    port (which keeps the log): passes bytes both ways and tells
    ``on_eof`` when QEMU closes the port (it is exiting; its exit status is on
    the way from the nested host). Ends when either side closes."""

    @staticmethod
    def start(conn: socket.socket, on_eof: Callable[[], None] | None = None) -> socket.socket:
        """Return the socket end the Console reads; the relay runs in a thread."""
        ours, theirs = socket.socketpair()

        def pump() -> None:
            try:
                while True:
                    readable, _, _ = select.select([conn, theirs], [], [])
                    if conn in readable:
                        data = conn.recv(65536)
                        if not data:
                            if on_eof is not None:
                                on_eof()
                            return
                        theirs.sendall(data)
                    if theirs in readable:
                        data = theirs.recv(65536)
                        if not data:
                            return
                        conn.sendall(data)
            except OSError:
                return
            finally:
                for s in (conn, theirs):
                    with contextlib.suppress(OSError):
                        s.close()

        threading.Thread(target=pump, name="nested-console-relay", daemon=True).start()
        return ours


def _listen_tcp() -> socket.socket:
    """A listener on a free port of 127.0.0.1 (L1's slirp reaches it as 10.0.2.2)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s


def _shell_quote(text: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", text):
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"


__all__ = ["TCG_LIMITS", "NestedHost", "NestedHosts", "OuterLevel", "RemoteProcess", "outer_level"]

# L1's QEMU binary path, for callers that build L2 command lines.
L2_QEMU = L1_QEMU
