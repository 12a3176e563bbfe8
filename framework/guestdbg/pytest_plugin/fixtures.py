"""The plugin's fixtures: images, guests (fresh, paused, shared), the
debugger, sessions and per-test artifacts.

Per test, the artifacts directory holds console.log, qemu-stderr.log,
qmp.log, mi.log, remote.log and findings.json; it is kept when the test
fails (or always with ``--keep-artifacts``).
"""

from __future__ import annotations

import contextlib
import glob
import platform
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guestdbg.debugger.early import EarlyDebugger, loaded_debugger
from guestdbg.debugger.gdb import Debugger
from guestdbg.errors import GuestdbgError
from guestdbg.images import kernels
from guestdbg.images.guest_image import GuestImage
from guestdbg.options import SCENARIOS_DEST
from guestdbg.pytest_plugin import levels, nested
from guestdbg.pytest_plugin.options import MatrixPoint, guest_options, opt
from guestdbg.pytest_plugin.reporting import ControlSilent, attempt_artifacts, report_key
from guestdbg.results import record
from guestdbg.runtime import host
from guestdbg.runtime.local import LOCAL
from guestdbg.runtime.placement import Placement
from guestdbg.runtime.qemu import Guest
from guestdbg.runtime.start import start_guest
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


_attempts = pytest.StashKey[int]()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Iterator[Path]:
    """This test's artifacts directory; removed after a pass unless --keep-artifacts.
    When the test runs again (pytest-rerunfailures), the failed attempt's
    directory is kept beside it as ``NAME.attempt-N``: its evidence outlives
    the rerun that passed."""
    root = Path(str(opt(request.config, "artifacts")))
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid).strip("_")[:150]
    path = (root / name).resolve()
    attempt = request.node.stash.get(_attempts, 0) + 1
    request.node.stash[_attempts] = attempt
    if attempt > 1 and path.exists():
        kept = attempt_artifacts(path, attempt - 1)
        shutil.rmtree(kept, ignore_errors=True)
        path.rename(kept)
    else:
        shutil.rmtree(path, ignore_errors=True)
        for old in root.glob(f"{glob.escape(name)}.attempt-*"):  # an earlier run's
            shutil.rmtree(old, ignore_errors=True)
    path.mkdir(parents=True)
    request.node.user_properties.append(("artifacts", str(path)))
    request.node.user_properties.append(("attempt", attempt))
    yield path
    scenarios = getattr(request.config.option, SCENARIOS_DEST, None)
    if scenarios:  # the nightly keeps every case's scenario for its report
        record.keep_scenario(path / "findings.json", Path(scenarios))
    reports = request.node.stash.get(report_key, {})
    failed = any(r.failed for r in reports.values())
    if not failed and not opt(request.config, "keep_artifacts"):
        shutil.rmtree(path, ignore_errors=True)


def _placement_problem(request: pytest.FixtureRequest, point: MatrixPoint) -> str | None:
    """Why guests of ``point`` cannot run here (a skip), or None."""
    if point.nested:
        return levels.outer_problem()
    return host.probe(point.qemu_tool().binary).accel_problem(point.accel)


def _skip_or_xfail(request: pytest.FixtureRequest, point: MatrixPoint) -> None:
    problem = _placement_problem(request, point)
    if problem:
        pytest.skip(problem)
    nested.apply_outer_marks(request, point)
    if point.accel == "kvm" and request.node.get_closest_marker("eflags_tf_visible"):
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
        and not point.nested
        and not host.probe().kvm.blockirq
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
    qemu = host.probe_qemu(point.qemu_tool().binary)
    gdb = host.probe_gdb(point.gdb_tool().binary)
    request.node.user_properties.extend(
        [
            ("accel", point.accel),
            ("smp", point.smp),
            ("kernel_release", image.tree.release),
            ("kernel_tree", str(image.tree.root)),
            ("qemu", qemu.path or ""),
            ("qemu_version", qemu.version or ""),
            # In a nested host, host_kernel is the nested host's (see nested.record_host).
            (
                "machine_kernel" if point.nested else "host_kernel",
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
    (``snapshot KEY``, ``boot …``), for the JUnit property ``guest_start``.
    The test's gdb (when it asks for one) starts loading beside it.

    The order is deliberate: what is read from pytest first, then the layers
    below, never back (farm-studio walk of the guest fixture's ``request``)."""
    wanted = guest_options(request.config, point)
    name = request.node.name[:60]
    snapshot = not opt(request.config, "no_snapshot")
    gdb, timeout = _gdb_settings(request)
    hosts = nested.pool(request.config) if point.nested else None
    _start_debugger_early(request, gdb, timeout, image, artifacts)
    where: Placement = LOCAL
    if hosts is not None:
        where = nested.host_from(hosts, request.node, point, image)
    spec = wanted.spec(image, name=name, paused=paused)
    try:
        g, how = start_guest(spec, where, SNAPSHOT_PREPARATION, artifacts, snapshot=snapshot)
    except GuestdbgError as err:
        err.evidence.update(where.evidence())  # a nested host's console tail too
        pytest.fail(f"the guest could not be started: {err}", pytrace=False)
    try:
        if not paused:
            image.tree.check_running(g.proc_version())
    except GuestdbgError as err:
        g.close()
        pytest.fail(f"the guest could not be started: {err}", pytrace=False)
    if isinstance(where, nested.NestedHost) and where.sstep_report is None and not paused:
        where.report_sstep(g, gdb)
    return g, how


@pytest.fixture
def nested_host_log(
    request: pytest.FixtureRequest, point: MatrixPoint, image: GuestImage, artifacts: Path
) -> Iterator[None]:
    """kvm-nested: the nested host's properties on the test, and its console
    slice kept as ``host-console.log`` in the test's artifacts."""
    if not point.nested or levels.outer_problem():
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
    g, how = _boot(request, point, image, artifacts, paused=True)
    request.node.user_properties.append(("guest_start", how))
    try:
        yield g
    finally:
        g.close()


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
    problem = _placement_problem(request, point)
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


def _gdb_of(request: pytest.FixtureRequest) -> str:
    """The gdb of this test's matrix point (the system's outside the matrix)."""
    point = getattr(getattr(request.node, "callspec", None), "params", {}).get("point")
    return point.gdb_tool().binary if isinstance(point, MatrixPoint) else "gdb"


def _gdb_settings(request: pytest.FixtureRequest) -> tuple[str, float]:
    """This test's gdb binary and its deadline for a result or a stop."""
    return _gdb_of(request), float(opt(request.config, "stop_timeout"))  # type: ignore[arg-type]


_early_debugger = pytest.StashKey[EarlyDebugger | None]()


def _start_debugger_early(
    request: pytest.FixtureRequest, gdb: str, timeout: float, image: GuestImage, artifacts: Path
) -> None:
    """When the test also asks for ``debugger`` (and has not got it yet),
    start it now, beside the guest."""
    if "debugger" not in request.fixturenames or not isinstance(request.node, pytest.Item):
        return  # no debugger wanted, or a module's shared guest (no test of its own)
    # A rerun (pytest-rerunfailures) may find the failed attempt's early gdb
    # still here, its finalizer not yet run: its logs and working directory
    # are in the artifacts directory this attempt recreated. Never reuse it.
    stale = request.node.stash.get(_early_debugger, None)
    if stale is not None:
        stale.release()
    early = EarlyDebugger(gdb, image.tree.vmlinux, artifacts, timeout)
    request.node.stash[_early_debugger] = early

    def release() -> None:
        early.release()
        # Gone with this attempt: a rerun (pytest-rerunfailures) of the same item
        # starts its own gdb, in its own (recreated) artifacts directory.
        with contextlib.suppress(KeyError):
            del request.node.stash[_early_debugger]

    request.addfinalizer(release)


@pytest.fixture
def debugger(
    request: pytest.FixtureRequest, image: GuestImage, artifacts: Path
) -> Iterator[Debugger]:
    """gdb with the vmlinux loaded, not attached yet; detached and ended afterwards."""
    early = request.node.stash.get(_early_debugger, None)
    request.node.stash[_early_debugger] = None  # taken: no guest fixture starts another
    try:
        if early is not None:
            dbg = early.take()
        else:
            gdb, timeout = _gdb_settings(request)
            dbg = loaded_debugger(gdb, image.tree.vmlinux, artifacts, timeout)
        with dbg:
            yield dbg
    finally:
        if early is not None:
            early.release()
        with contextlib.suppress(KeyError):
            del request.node.stash[_early_debugger]


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
    hw_only = guest.placement.hardware_breakpoints_only()
    return Session(image, guest, debugger, artifacts, hardware_breakpoints=hw_only)


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
    hw_only = guest.placement.hardware_breakpoints_only()
    s = Session(image, guest, debugger, artifacts, hardware_breakpoints=hw_only)
    yield s
    (artifacts / "console.log").write_text(s.console_text())


@pytest.fixture
def sstep_override(request: pytest.FixtureRequest) -> int | None:
    """--sstep as an int, for the known-good scenarios (controls set their own)."""
    value = opt(request.config, "sstep")
    return int(str(value), 0) if value else None
