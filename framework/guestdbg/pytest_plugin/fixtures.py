"""The plugin's fixtures: images, guests (fresh, paused, shared), the
debugger, sessions and per-test artifacts.

Per test, the artifacts directory holds console.log, qemu-stderr.log,
qmp.log, mi.log, remote.log and findings.json; it is kept when the test
fails (or always with ``--keep-artifacts``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import platform
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from guestdbg.debugger.gdb import Debugger
from guestdbg.errors import DebuggerError, GuestdbgError
from guestdbg.images import kernels
from guestdbg.images.guest_image import GuestImage
from guestdbg.pytest_plugin import nested
from guestdbg.pytest_plugin.options import MatrixPoint, guest_options, opt
from guestdbg.pytest_plugin.reporting import ControlSilent, report_key
from guestdbg.runtime import host, snapshot
from guestdbg.runtime.qemu import Guest
from guestdbg.runtime.spec import GuestSpec
from guestdbg.scenarios import Session
from guestdbg.scenarios.session import SNAPSHOT_PREPARATION

_images: dict[str | None, GuestImage] = {}


def _image_for(tree: str | None) -> GuestImage:
    if tree not in _images:
        _images[tree] = kernels.image_for(tree)
    return _images[tree]


@pytest.fixture(scope="module")
def image(point: MatrixPoint) -> GuestImage:
    """The guest images (built or found in the cache) for this matrix point."""
    try:
        return _image_for(point.tree)
    except GuestdbgError as err:
        pytest.fail(f"cannot prepare the guest images: {err}", pytrace=False)


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Iterator[Path]:
    """This test's artifacts directory; removed after a pass unless --keep-artifacts."""
    root = Path(str(opt(request.config, "artifacts")))
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid).strip("_")[:150]
    path = (root / name).resolve()
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    request.node.user_properties.append(("artifacts", str(path)))
    yield path
    reports = request.node.stash.get(report_key, {})
    failed = any(r.failed for r in reports.values())
    if not failed and not opt(request.config, "keep_artifacts"):
        shutil.rmtree(path, ignore_errors=True)


def _spec(request: pytest.FixtureRequest, point: MatrixPoint, image: GuestImage) -> GuestSpec:
    return guest_options(request.config, point).spec(image, name=request.node.name[:60])


def _skip_or_xfail(request: pytest.FixtureRequest, point: MatrixPoint) -> None:
    info = host.probe(str(opt(request.config, "qemu")))
    problem = (
        nested.outer_problem() if point.accel == "kvm-nested" else info.accel_problem(point.accel)
    )
    if problem:
        pytest.skip(problem)
    if point.accel == "kvm-nested":
        nested.apply_outer_marks(request, point)
    if point.accel in ("kvm", "kvm-nested") and request.node.get_closest_marker(
        "eflags_tf_visible"
    ):
        request.applymarker(
            pytest.mark.xfail(
                reason="KVM hides EFLAGS.TF from userspace while it single-steps (kvm_get_rflags "
                "in arch/x86/kvm/x86.c clears it whenever KVM_GUESTDBG_SINGLESTEP is set): the "
                "EFLAGS half of the TF-leak detector is blind under KVM (the console half is not)",
                strict=True,
                raises=ControlSilent,
            )
        )
    if (
        point.accel == "kvm"
        and not info.kvm.blockirq
        and request.node.get_closest_marker("needs_blockirq")
    ):
        request.applymarker(
            pytest.mark.xfail(
                reason="this host's KVM lacks KVM_GUESTDBG_BLOCKIRQ (Linux < 5.15): interrupts "
                "are injected while single-stepping",
                strict=False,
            )
        )


def _record_point(request: pytest.FixtureRequest, point: MatrixPoint, image: GuestImage) -> None:
    """What this test actually ran: the QEMU and gdb binaries given (not the
    defaults), their versions, and the kernel tree."""
    qemu = host.probe_qemu(str(opt(request.config, "qemu")))
    gdb = host.probe_gdb(str(opt(request.config, "gdb")))
    request.node.user_properties.extend(
        [
            ("accel", point.accel),
            ("smp", point.smp),
            ("kernel_release", image.tree.release),
            ("kernel_tree", str(image.tree.root)),
            ("qemu", qemu.path or ""),
            ("qemu_version", qemu.version or ""),
            # kvm-nested: host_kernel is the nested host's (see nested.record_host).
            (
                "host_kernel" if point.accel != "kvm-nested" else "machine_kernel",
                platform.release(),
            ),
            ("gdb", gdb.path or ""),
            ("gdb_version", gdb.version or ""),
        ]
    )


def _boot(
    request: pytest.FixtureRequest,
    point: MatrixPoint,
    image: GuestImage,
    artifacts: Path,
    paused: bool = False,
) -> tuple[Guest, str]:
    """A ready guest (or one paused at reset): restored from the snapshot of
    its configuration unless ``paused`` or --no-snapshot; and how it started
    (``snapshot KEY``, ``boot …``), for the JUnit property ``guest_start``."""
    spec = dataclasses.replace(_spec(request, point, image), paused=paused)
    host_vm = nested.host_for(request, point, image) if point.accel == "kvm-nested" else None
    g: Guest | None = None
    try:
        if (
            paused
            or opt(request.config, "no_snapshot")
            or (spec.accel not in snapshot.ACCELS and host_vm is None)
        ):
            how = "boot (--no-snapshot)" if opt(request.config, "no_snapshot") else "boot"
            g = Guest(spec, artifacts=artifacts, nested_host=host_vm)
            g.__enter__()
        elif host_vm is not None:
            g, how = snapshot.start_in_nested_host(spec, artifacts, SNAPSHOT_PREPARATION, host_vm)
        else:
            g, how = snapshot.start_guest(spec, artifacts, SNAPSHOT_PREPARATION)
        if not paused:
            image.tree.check_running(g.proc_version())
    except GuestdbgError as err:
        if g is not None:
            g.close()
        if host_vm is not None:
            err.evidence.update(host_vm.evidence())  # the nested host's console tail too
        pytest.fail(f"the guest could not be started: {err}", pytrace=False)
    if host_vm is not None and host_vm.sstep_report is None and not paused:
        host_vm.report_sstep(g, str(opt(request.config, "gdb")))
    return g, how


@pytest.fixture
def nested_host_log(
    request: pytest.FixtureRequest, point: MatrixPoint, image: GuestImage, artifacts: Path
) -> Iterator[None]:
    """kvm-nested: the nested host's properties on the test, and its console
    slice kept as ``host-console.log`` in the test's artifacts."""
    if point.accel != "kvm-nested" or nested.outer_problem():
        yield
        return
    h = nested.host_for(request, point, image)
    nested.record_host(request, h)
    nested.apply_blockirq_marks(request, h)
    start = nested.console_offset(h)
    try:
        yield
    finally:
        if h.sstep_report and ("sstep_flags_reported", h.sstep_report) not in (
            request.node.user_properties
        ):
            request.node.user_properties.append(("sstep_flags_reported", h.sstep_report))
        nested.host_console_slice(h, start, artifacts)


@pytest.fixture
def guest(
    request: pytest.FixtureRequest,
    point: MatrixPoint,
    image: GuestImage,
    artifacts: Path,
    nested_host_log: None,
) -> Iterator[Guest]:
    """A freshly booted guest for this test (closed, with QEMU gone, afterwards)."""
    _skip_or_xfail(request, point)
    _record_point(request, point, image)
    _start_debugger_early(request, image, artifacts)
    g, how = _boot(request, point, image, artifacts)
    request.node.user_properties.append(("guest_start", how))
    try:
        yield g
    finally:
        g.close()


@pytest.fixture
def paused_guest(
    request: pytest.FixtureRequest,
    point: MatrixPoint,
    image: GuestImage,
    artifacts: Path,
    nested_host_log: None,
) -> Iterator[Guest]:
    """A guest started with its vCPUs stopped at reset (-S), for attaching
    before the kernel runs; ``wait_ready()`` once it is resumed."""
    _skip_or_xfail(request, point)
    _record_point(request, point, image)
    _start_debugger_early(request, image, artifacts)
    g, how = _boot(request, point, image, artifacts, paused=True)
    request.node.user_properties.append(("guest_start", how))
    try:
        yield g
    finally:
        g.close()


def _hw_only(point: MatrixPoint) -> bool:
    """Whether scenarios must use hardware breakpoints for their own stops
    (a nested guest under an outer TCG without the int3 fix takes software ones itself)."""
    level = nested.outer() if point.accel == "kvm-nested" else None
    return level is not None and not level.faithful and "sw-breakpoints" not in level.fixed


@pytest.fixture
def early_session(
    image: GuestImage, paused_guest: Guest, debugger: Debugger, artifacts: Path
) -> Session:
    """Guest (paused at reset) + debugger, for early-boot scenarios."""
    return Session(image, paused_guest, debugger, artifacts)


class SharedGuest:
    """The guest a test module's known-good tests share on one matrix point,
    health-checked before each reuse (QEMU alive, QMP answering, the guest
    running: no debugger holds it) and booted afresh when that fails, so one
    test's fault never fails the next."""

    def __init__(
        self, request: pytest.FixtureRequest, point: MatrixPoint, image: GuestImage, root: Path
    ) -> None:
        self._request, self._point, self._image, self._root = request, point, image, root
        self.guest: Guest | None = None
        self.how = ""  # how the current guest started
        self.reboots: list[str] = []

    def _boot(self) -> Guest:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{self._request.module.__name__}-{self._point.id}")
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self._root))  # unique per xdist worker
        guest, self.how = _boot(self._request, self._point, self._image, path)
        return guest

    def healthy(self) -> Guest:
        """The shared guest, rebooted first when the last test left it unusable."""
        if self.guest is not None:
            why = self.guest.healthy()
            if why is None:
                return self.guest
            self.reboots.append(why)
            self.guest.close()
            self.guest = None
        self.guest = self._boot()
        return self.guest

    def close(self) -> None:
        if self.guest is not None:
            self.guest.close()


@pytest.fixture(scope="module")
def shared_guest(
    request: pytest.FixtureRequest, point: MatrixPoint, image: GuestImage
) -> Iterator[SharedGuest]:
    """One guest for the tests of a module on one matrix point, for scenarios
    that leave it as they found it (the known-good runs; controls boot their
    own). Its console logs are kept under ``<artifacts>/shared/`` when a test
    failed."""
    problem = (
        nested.outer_problem()
        if point.accel == "kvm-nested"
        else host.probe(str(opt(request.config, "qemu"))).accel_problem(point.accel)
    )
    if problem:
        pytest.skip(problem)
    root = Path(str(opt(request.config, "artifacts"))).resolve() / "shared"
    root.mkdir(parents=True, exist_ok=True)
    failed_before = request.session.testsfailed
    shared = SharedGuest(request, point, image, root)
    try:
        yield shared
    finally:
        shared.close()
        failed = request.session.testsfailed > failed_before
        if not failed and not opt(request.config, "keep_artifacts"):
            for path in root.glob(
                re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{request.module.__name__}-{point.id}") + "-*"
            ):
                shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def console(guest: Guest) -> Any:
    """The guest's serial console (guestdbg.runtime.console.Console)."""
    return guest.console


@pytest.fixture
def qmp(guest: Guest) -> Guest:
    """QMP access: ``qmp.qmp("query-status")``, ``qmp.inject_nmi()``, ``qmp.registers()``."""
    return guest


def _new_debugger(config: pytest.Config, image: GuestImage, artifacts: Path) -> Debugger:
    """gdb with the vmlinux loaded (ended again if loading fails)."""
    dbg = Debugger(
        gdb=str(opt(config, "gdb")),
        artifacts=artifacts,
        timeout=float(opt(config, "stop_timeout")),  # type: ignore[arg-type]
    )
    try:
        dbg.load(image.tree.vmlinux)
    except BaseException:
        dbg.close()
        raise
    return dbg


class EarlyDebugger:
    """This test's debugger, started in a thread while its guest starts (gdb
    and the vmlinux load take as long as a restore): the ``debugger`` fixture
    takes it; one nobody took is ended at the guest's teardown. (scripts/bench
    measures a test's start with it too.)

    gdb gets SIGKILL when the thread that started it ends (PR_SET_PDEATHSIG
    names the thread, not the process), so the thread waits until the
    debugger is released."""

    WAIT = 300.0  # more than the Debugger's own deadlines (first prompt, the 120 s load)

    def __init__(self, new_debugger: Callable[[], Debugger]) -> None:
        """``new_debugger``: makes the Debugger (and loads the vmlinux)."""
        self._result: Debugger | BaseException | None = None
        self._ready = threading.Event()
        self._released = threading.Event()
        self.taken = False
        threading.Thread(
            target=self._run, args=(new_debugger,), name="early-gdb", daemon=True
        ).start()

    def _run(self, new_debugger: Callable[[], Debugger]) -> None:
        try:
            self._result = new_debugger()
        except BaseException as err:
            self._result = err
        finally:
            self._ready.set()
        self._released.wait()

    def take(self) -> Debugger:
        self.taken = True
        if not self._ready.wait(self.WAIT):
            raise DebuggerError(f"gdb was not ready with the vmlinux loaded within {self.WAIT:g}s")
        if isinstance(self._result, BaseException):
            raise self._result
        assert self._result is not None
        return self._result

    def release(self) -> None:
        """The debugger has ended (or will never be used): let the thread go."""
        if not self.taken and self._ready.wait(self.WAIT) and isinstance(self._result, Debugger):
            with contextlib.suppress(Exception):
                self._result.close()
        self._released.set()


_early_debugger = pytest.StashKey[EarlyDebugger | None]()


def _start_debugger_early(
    request: pytest.FixtureRequest, image: GuestImage, artifacts: Path
) -> None:
    """When the test also asks for ``debugger`` (and has not got it yet),
    start it now, beside the guest."""
    if "debugger" not in request.fixturenames or _early_debugger in request.node.stash:
        return
    early = EarlyDebugger(lambda: _new_debugger(request.config, image, artifacts))
    request.node.stash[_early_debugger] = early
    request.addfinalizer(early.release)


@pytest.fixture
def debugger(
    request: pytest.FixtureRequest, image: GuestImage, artifacts: Path
) -> Iterator[Debugger]:
    """gdb with the vmlinux loaded, not attached yet; detached and ended afterwards."""
    early = request.node.stash.get(_early_debugger, None)
    request.node.stash[_early_debugger] = None  # taken: no guest fixture starts another
    try:
        dbg = early.take() if early is not None else _new_debugger(request.config, image, artifacts)
        with dbg:
            yield dbg
    finally:
        if early is not None:
            early.release()


@pytest.fixture
def session(
    request: pytest.FixtureRequest,
    point: MatrixPoint,
    image: GuestImage,
    guest: Guest,
    debugger: Debugger,
    artifacts: Path,
) -> Session:
    """Guest + debugger for one scenario."""
    sstep = opt(request.config, "sstep")
    request.node.user_properties.append(("sstep_flags", sstep or "qemu-default"))
    return Session(image, guest, debugger, artifacts, hardware_breakpoints=_hw_only(point))


@pytest.fixture
def shared_session(
    request: pytest.FixtureRequest,
    point: MatrixPoint,
    image: GuestImage,
    shared_guest: SharedGuest,
    debugger: Debugger,
    artifacts: Path,
    nested_host_log: None,
) -> Iterator[Session]:
    """Like ``session``, on the module's shared guest; this test's slice of the
    console goes to its own artifacts as console.log."""
    _skip_or_xfail(request, point)
    _record_point(request, point, image)
    before = len(shared_guest.reboots)
    guest = shared_guest.healthy()
    if len(shared_guest.reboots) > before:
        request.node.user_properties.append(("shared_guest_rebooted", shared_guest.reboots[-1]))
    sstep = opt(request.config, "sstep")
    request.node.user_properties.append(("sstep_flags", sstep or "qemu-default"))
    request.node.user_properties.append(("shared_guest", str(guest.artifacts)))
    request.node.user_properties.append(("guest_start", shared_guest.how))
    s = Session(image, guest, debugger, artifacts, hardware_breakpoints=_hw_only(point))
    yield s
    (artifacts / "console.log").write_text(s.console_text())


@pytest.fixture
def sstep_override(request: pytest.FixtureRequest) -> int | None:
    """--sstep as an int, for the known-good scenarios (controls set their own)."""
    value = opt(request.config, "sstep")
    return int(str(value), 0) if value else None
