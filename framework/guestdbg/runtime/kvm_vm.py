"""One command run inside a KVM-capable VM that shares this machine's root:
plain ``--accel kvm`` on a machine without usable hardware KVM.

The VM runs Debian 12's cloud kernel with KVM loaded (:mod:`guestdbg.images.vm_image`),
under the same outer level as the nested KVM host
(:func:`guestdbg.runtime.nested.outer_level`: hardware KVM with nested
virtualization where the probe finds it, else TCG ``-cpu max`` with QEMU
10.0.2 from bookworm-backports — QEMU 7.2 as the outer level never fires the
nested guest's hardware breakpoints). It sees this machine's root read-only
under an overlay on tmpfs (writes inside are lost), shared by ``virtiofsd``
as virtme-ng does (Debian's 6.1 cloud kernel has no 9p), and the results
folder read-write at its own path. Inside, the one command runs in the
caller's working directory with the caller's environment (a few variables);
its output streams to this terminal (the VM's second serial port), its exit
status is the run's.

What it is for: a smoke test of the plain-KVM code path (probe, ``-accel
kvm``, KVM's guest debugging) where no hardware KVM is usable. Under an
outer TCG it is only as faithful as the nested host (``TCG_LIMITS`` in
:mod:`guestdbg.runtime.nested`): software breakpoints and steps landing in
interrupt handlers cannot be judged there, and plain ``kvm`` cases carry no
outer-level marks.

Bounded: the VM reaches the command within ``boot_timeout``, the command ends
within ``timeout``, and the VM's heartbeat (a line on its console every 5 s)
never stops for ``heartbeat_timeout``: under an outer TCG a VM sometimes
freezes (its vCPUs stop running; a CI run waited out an hour for it). A
frozen VM's state (QMP's status and its vCPUs' registers) is kept as
evidence, and the command may run again in a fresh VM (``frozen_retries``).
QEMU and both virtiofsd die with this process (SIGKILL on its death, killed
on any exit from :func:`run_in_vm`), their sockets are in the run directory
(:mod:`guestdbg.runtime.rundir`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import select
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from qemu.qmp import QMPClient

from guestdbg.errors import DeadlineError, GuestError, HostError, InputError
from guestdbg.runtime import rundir
from guestdbg.runtime.console import tail_of
from guestdbg.runtime.local import accept
from guestdbg.runtime.nested import OuterLevel, host_kernel_trouble, outer_level
from guestdbg.runtime.process import die_with_parent

VIRTIOFSD = Path("/usr/lib/qemu/virtiofsd")
MEMORY_MB = 4096
SMP = 2
BOOT_TIMEOUT = 300.0  # under an outer TCG on 2 loaded cores: ~10-60 s
APPEND = "console=ttyS0 loglevel=4 panic=-1 mitigations=off"
CONTROL = "kvm-vm"  # the results folder's subfolder with the VM's own files
START_MARKER = b"GUESTDBG-VM-START"
HEARTBEAT = b"GUESTDBG-VM-ALIVE"  # images/vm/run-command prints it every 5 s
HEARTBEAT_TIMEOUT = 180.0  # a VM under load on 2 cores: beats seen 5-12 s apart
# The caller's environment the command sees (the rest is the VM's init's).
PASSED_ENV = ("HOME", "PATH", "LANG", "LC_ALL", "USER", "LOGNAME", "XDG_CACHE_HOME", "TZ")


def problem() -> str | None:
    """None when the VM can run here, else why not (one sentence)."""
    if not VIRTIOFSD.exists():
        return f"{VIRTIOFSD} is missing (apt-get install qemu-system-common)"
    if os.geteuid() != 0:
        return "virtiofsd shares the root with sandbox=chroot, which needs root"
    return None


@dataclass(frozen=True)
class VmRun:
    """How a command in the VM went: its exit status, seconds from starting
    QEMU to the command's start (None: never started), seconds in all, and
    the VM's folder of logs."""

    status: int
    boot_seconds: float | None
    seconds: float
    control: Path


class VmFrozen(DeadlineError):
    """The VM's heartbeat stopped: its vCPUs no longer run the command."""


class _Heartbeat:
    """Watches the VM's console file for the heartbeat line; ``silent_for``
    is the seconds since the last one (or since the watch began)."""

    def __init__(self, console: Path) -> None:
        self.console = console
        self.offset = 0
        self.tail = b""
        self.last = time.monotonic()
        self.beats = 0

    def silent_for(self) -> float:
        try:
            with open(self.console, "rb") as f:
                f.seek(self.offset)
                new = f.read()
        except FileNotFoundError:
            new = b""
        if new:
            self.offset += len(new)
            seen = self.tail + new
            if HEARTBEAT in seen:
                self.beats += seen.count(HEARTBEAT)
                self.last = time.monotonic()
            self.tail = seen[-len(HEARTBEAT) :]
        return time.monotonic() - self.last


def _frozen_state(qmp_path: Path) -> str:
    """What QEMU says of a VM that stopped beating: its run state and each
    vCPU's registers (QMP, 10 s a step); or why QEMU did not say."""

    async def ask() -> str:
        client = QMPClient("guestdbg-vm-run")
        try:
            await asyncio.wait_for(client.connect(str(qmp_path)), 10.0)
            status = await asyncio.wait_for(client.execute("query-status"), 10.0)
            regs = await asyncio.wait_for(
                client.execute("human-monitor-command", {"command-line": "info registers -a"}),
                10.0,
            )
            return f"query-status: {status}\n{regs}"
        finally:
            await client.disconnect()

    try:
        return asyncio.run(ask())
    except Exception as err:  # evidence only: say why there is none
        why = f"{err.__class__.__name__}: {err}".rstrip(": ")
        return f"QMP did not answer ({why}): QEMU itself is stuck"


def _command_script(command: list[str], cwd: Path, terminal: bool, outer: OuterLevel) -> str:
    """The script run-command runs (with busybox sh). The command's output
    is a terminal inside (the VM's serial port); when it is not one here, it
    goes through a pipe, so the command does not colour or page it."""
    names = [*PASSED_ENV, *(["TERM"] if terminal else [])]
    env = [f"export {k}={shlex.quote(os.environ[k])}" for k in names if k in os.environ]
    env += [
        f"export {k}={shlex.quote(v)}"
        for k, v in sorted(os.environ.items())
        if k.startswith("GUESTDBG_") and not k.startswith("GUESTDBG_VM_OUTER")
    ]
    # What the suite inside needs to mark what this outer level cannot show.
    env += [
        f"export GUESTDBG_VM_OUTER={shlex.quote(outer.describe())}",
        f"export GUESTDBG_VM_OUTER_FIXED={shlex.quote(','.join(sorted(outer.fixed)))}",
    ]
    run = "exec " + shlex.join(command)
    if not terminal:
        run = f"set -o pipefail\n( {run} ) 2>&1 | cat"
    return "\n".join(
        [
            "# written by guestdbg vm-run; run by the VM's run-command",
            *env,
            f"cd {shlex.quote(str(cwd))} || exit 125",
            run,
            "",
        ]
    )


@contextlib.contextmanager
def _process(argv: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child that dies with us and is killed when the block ends."""
    with open(log, "ab") as out:
        out.write(f"$ {shlex.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
            start_new_session=True,  # Ctrl-C reaches us; we end it in order
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10.0)


def _wait_for_socket(path: Path, proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + 30.0
    while not path.exists():
        if proc.poll() is not None:
            raise HostError(
                f"{what} exited with status {proc.returncode} before it listened",
                evidence={f"{what} log ({log})": tail_of(log)},
            )
        if time.monotonic() > deadline:
            raise DeadlineError(
                f"{what} did not listen on {path} within 30s",
                evidence={f"{what} log ({log})": tail_of(log)},
            )
        time.sleep(0.05)


def _qemu_argv(
    outer: OuterLevel,
    kernel: Path,
    initrd: Path,
    results: Path,
    run: Path,
    memory_mb: int,
    smp: int,
) -> list[str]:
    accel = "kvm" if outer.kind == "kvm" else "tcg,thread=multi"
    return [
        outer.qemu,
        *outer.extra_args,
        "-name",
        "guestdbg-kvm-vm",
        "-machine",
        "pc",
        "-nodefaults",
        "-display",
        "none",
        "-no-reboot",
        "-accel",
        accel,
        "-cpu",
        outer.cpu,
        "-smp",
        str(smp),
        "-m",
        str(memory_mb),
        # vhost-user-fs needs the guest's RAM shared with virtiofsd.
        "-object",
        f"memory-backend-memfd,id=mem,size={memory_mb}M,share=on",
        "-numa",
        "node,memdev=mem",
        "-kernel",
        str(kernel),
        "-initrd",
        str(initrd),
        "-append",
        f"{APPEND} guestdbg.results={results}",
        "-chardev",
        f"socket,id=rootfs,path={run / 'rootfs.sock'}",
        "-device",
        "vhost-user-fs-pci,chardev=rootfs,tag=rootfs",
        "-chardev",
        f"socket,id=results,path={run / 'results.sock'}",
        "-device",
        "vhost-user-fs-pci,chardev=results,tag=results",
        "-chardev",
        f"file,id=con0,path={results / CONTROL / 'console.log'}",
        "-serial",
        "chardev:con0",
        "-chardev",
        f"socket,id=out0,path={run / 'output.sock'}",
        "-serial",
        "chardev:out0",
        "-qmp",
        f"unix:{run / 'qmp.sock'},server=on,wait=off",
    ]


def _evidence(control: Path) -> dict[str, str]:
    found = {}
    for name in (
        "console.log",
        "qemu.log",
        "virtiofsd-root.log",
        "virtiofsd-results.log",
        "frozen.txt",
    ):
        path = control / name
        if path.exists() and path.stat().st_size:
            found[f"VM {name} ({path})"] = tail_of(path)
    return found


def _console_text(control: Path) -> str:
    console = control / "console.log"
    return console.read_text(errors="replace") if console.exists() else ""


def _vm_trouble(control: Path) -> str:
    """What the VM's console says went wrong (its GUESTDBG-VM lines), or its last line."""
    text = _console_text(control)
    said = re.findall(r"GUESTDBG-VM: (.*?)\r?$", text, re.M)
    if said:
        return said[-1]
    trouble = host_kernel_trouble(text)  # the VM's kernel died (an oops, a panic)
    if trouble:
        return trouble
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return f"its console's last line: {lines[-1].strip()}" if lines else "its console is empty"


def run_in_vm(
    command: list[str],
    results: Path,
    out: BinaryIO,
    cwd: Path | None = None,
    timeout: float = 3600.0,
    boot_timeout: float = BOOT_TIMEOUT,
    memory_mb: int = MEMORY_MB,
    smp: int = SMP,
    heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
    frozen_retries: int = 0,
    say: Callable[[str], None] = lambda line: None,
) -> VmRun:
    """Run ``command`` in the VM, its output to ``out``; ``results`` (made
    if missing) is shared read-write, the VM's logs go to ``results/kvm-vm``.
    HostError/DeadlineError/GuestError, with the VM's logs, when the VM
    cannot be had or the command does not end in time. A VM that freezes
    (no heartbeat for ``heartbeat_timeout``) is VmFrozen, or, while
    ``frozen_retries`` last, the command runs again in a fresh VM (``say``
    tells the user; the frozen VM's logs move to ``kvm-vm/frozen-N``)."""
    from guestdbg.images.vm_image import vm_image

    if not command:
        raise InputError("vm-run needs a command: guestdbg vm-run -- CMD [ARGS]")
    why = problem()
    if why:
        raise HostError(f"the KVM-capable VM cannot run here: {why}")
    cwd = (cwd or Path.cwd()).resolve()
    results = results.resolve()
    if re.search(r"\s", str(results)):
        raise InputError(f"the results folder {results} has white space in its path")
    control = results / CONTROL
    control.mkdir(parents=True, exist_ok=True)
    for old in control.glob("frozen-*"):
        shutil.rmtree(old, ignore_errors=True)
    terminal = hasattr(out, "isatty") and out.isatty()
    image = vm_image()
    outer = outer_level()
    argv = functools.partial(
        _qemu_argv,
        outer,
        image.kernel.bzimage,
        image.initrd,
        results,
        memory_mb=memory_mb,
        smp=smp,
    )
    started = time.monotonic()
    for attempt in range(frozen_retries + 1):
        for name in ("status", "status.new", "console.log", "qemu.log", "output.log", "frozen.txt"):
            with contextlib.suppress(FileNotFoundError):
                (control / name).unlink()
        (control / "command").write_text(_command_script(command, cwd, terminal, outer))
        try:
            boot_seconds, qemu_died = _run_once(
                argv, results, control, out, boot_timeout, timeout, heartbeat_timeout
            )
            lost = None
            if not (control / "status").exists():
                # The VM's own kernel died (an oops, a panic), or its QEMU
                # crashed (the outer QEMU's SIGSEGV, docs/nested-hosts.md):
                # lost like a frozen VM.
                trouble = host_kernel_trouble(_console_text(control)) or qemu_died
                lost = f"the VM died: {trouble}" if trouble else None
        except VmFrozen as frozen:
            lost = str(frozen)
            if attempt == frozen_retries:
                raise
        if lost is None or attempt == frozen_retries:
            break
        kept = control / f"frozen-{attempt + 1}"
        kept.mkdir()
        for f in control.iterdir():
            if f.is_file() and f.name != "command":
                f.rename(kept / f.name)
        say(
            f"guestdbg: vm-run: {lost}; its logs and state are in {kept}; "
            f"running the command again in a fresh VM ({attempt + 1} of {frozen_retries})"
        )
    status_file = control / "status"
    status = int(status_file.read_text().strip()) if status_file.exists() else None
    seconds = time.monotonic() - started
    if status is None:
        raise GuestError(
            f"the VM ended without the command's exit status: {lost or _vm_trouble(control)}",
            evidence=_evidence(control),
        )
    return VmRun(status, boot_seconds, seconds, control)


def _run_once(
    qemu_argv: Callable[[Path], list[str]],
    results: Path,
    control: Path,
    out: BinaryIO,
    boot_timeout: float,
    timeout: float,
    heartbeat_timeout: float,
) -> tuple[float | None, str | None]:
    """One VM: the two virtiofsd, QEMU, the command's output streamed;
    returns the seconds to the command's start (None: never started) and how
    the VM's QEMU died, when it was killed by a signal (None: it exited or
    still ran when the output port closed)."""
    run = rundir.mkdtemp("kvm-vm-")
    started = time.monotonic()
    try:
        with contextlib.ExitStack() as stack:
            for tag, source, cache in (("root", Path("/"), "always"), ("results", results, "none")):
                log = control / f"virtiofsd-{tag}.log"
                log.unlink(missing_ok=True)
                sock = run / ("rootfs.sock" if tag == "root" else "results.sock")
                # The default sandbox (a mount namespace) fails on / with
                # "pivot_root ... busy"; chroot works.
                argv = [
                    str(VIRTIOFSD),
                    f"--socket-path={sock}",
                    "-o",
                    f"source={source}",
                    "-o",
                    f"cache={cache}",
                    "-o",
                    "sandbox=chroot",
                ]
                proc = stack.enter_context(_process(argv, log))
                _wait_for_socket(sock, proc, log, f"virtiofsd ({tag})")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            stack.callback(listener.close)
            listener.bind(str(run / "output.sock"))
            listener.listen(1)
            qemu = stack.enter_context(_process(qemu_argv(run), control / "qemu.log"))
            conn = accept(listener, 60.0, "the output port", qemu, control / "qemu.log")
            stack.callback(conn.close)
            boot_seconds = _stream(
                conn, qemu, out, control, started, boot_timeout, timeout, heartbeat_timeout, run
            )
            with contextlib.suppress(subprocess.TimeoutExpired):
                qemu.wait(timeout=30.0)
            rc = qemu.returncode  # read before the exit stack ends QEMU itself
            died = f"QEMU (pid {qemu.pid}) was killed by signal {-rc}" if rc and rc < 0 else None
    finally:
        shutil.rmtree(run, ignore_errors=True)
    return boot_seconds, died


def _stream(
    conn: socket.socket,
    qemu: subprocess.Popen[bytes],
    out: BinaryIO,
    control: Path,
    started: float,
    boot_timeout: float,
    timeout: float,
    heartbeat_timeout: float,
    run: Path,
) -> float | None:
    """Copy the command's output to ``out`` (and output.log) until the VM
    closes the port; the start marker ends the boot deadline and starts the
    heartbeat's watch. Returns the seconds to the command's start (None:
    never started)."""
    boot_seconds: float | None = None
    pending = b""
    deadline = started + boot_timeout
    beat = _Heartbeat(control / "console.log")
    with open(control / "output.log", "wb") as log:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                what = (
                    f"the VM did not reach the command within {boot_timeout:g}s"
                    if boot_seconds is None
                    else f"the command did not end within {timeout:g}s"
                )
                raise DeadlineError(what, evidence=_evidence(control))
            if boot_seconds is not None:
                silent = beat.silent_for()
                if silent > heartbeat_timeout:
                    (control / "frozen.txt").write_text(_frozen_state(run / "qmp.sock"))
                    raise VmFrozen(
                        f"the VM froze: no heartbeat on its console for {silent:.0f}s "
                        f"({beat.beats} beats before, {time.monotonic() - started:.0f}s "
                        "after QEMU started)",
                        evidence=_evidence(control),
                    )
            ready, _, _ = select.select([conn], [], [], min(left, 1.0))
            if not ready:
                if qemu.poll() is not None:
                    return boot_seconds
                continue
            data = conn.recv(65536)
            if not data:
                return boot_seconds
            log.write(data)
            if boot_seconds is None:
                pending += data
                mark = pending.find(START_MARKER)
                end = pending.find(b"\n", mark) if mark >= 0 else -1
                if end < 0:
                    continue
                boot_seconds = time.monotonic() - started
                deadline = time.monotonic() + timeout
                beat.last = time.monotonic()
                data = pending[end + 1 :]
            if data:
                out.write(data)
                out.flush()
