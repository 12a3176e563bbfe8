"""The pytest plugin: options, the matrix, fixtures, verdicts, artifacts.

Registered as a ``pytest11`` entry point, so it is active wherever the
package is installed; it does nothing expensive unless a test asks for a
guest. The matrix is ordinary parametrisation of the ``point`` fixture
(accel x smp x kernel tree, ids like ``tcg-smp2``) and ``bp_kind``
(``sw``/``hw``); ``--repeat N`` runs each guest test N times.

Per test, the artifacts directory holds console.log, qemu-stderr.log,
qmp.log, mi.log, remote.log and findings.json; it is kept when the test
fails (or always with ``--keep-artifacts``).
"""

from __future__ import annotations

import dataclasses
import json
import platform
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from framework import host, images
from framework.errors import GuestdbgError
from framework.gdb import Debugger
from framework.qemu import Guest, GuestSpec, spec_for
from framework.scenarios import ScenarioResult, Session

ARTIFACT_FILES = "console.log, qemu-stderr.log, qmp.log, mi.log, remote.log, findings.json"


@dataclass(frozen=True)
class MatrixPoint:
    """One guest configuration of the matrix."""

    accel: str
    smp: int
    tree: str | None  # a kernel tree path, None for the default tree
    tree_label: str | None = None

    @property
    def id(self) -> str:
        parts = [self.tree_label] if self.tree_label else []
        return "-".join([*parts, self.accel, f"smp{self.smp}"])


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("guestdbg", "guest-debug suite (guestdbg)")
    g.addoption(
        "--accel",
        default=None,
        help="comma list of accelerators: tcg,kvm (default: those the host probe "
        "finds usable; KVM cases on a host without usable KVM skip with the reason)",
    )
    g.addoption("--smp", default="2", help="comma list of vCPU counts (default 2)")
    g.addoption(
        "--cpu", default=None, help="QEMU -cpu model (default: QEMU's for TCG, host for KVM)"
    )
    g.addoption("--memory", type=int, default=512, help="guest RAM in MiB (default 512)")
    g.addoption(
        "--kernel-tree",
        action="append",
        default=[],
        metavar="PATH",
        help="a built kernel tree to test, or 'default' (the 6.1 tree built from "
        "linux-source-6.1) or 'debian-cloud' (Debian's cloud kernel with its -dbg vmlinux); "
        "repeatable, each is a matrix value (default: default)",
    )
    g.addoption(
        "--sstep",
        default=None,
        help="QEMU single-step flags for the known-good scenarios, e.g. 0x7 "
        "(default: QEMU's own default)",
    )
    g.addoption(
        "--bp-kind",
        default="sw,hw",
        help="comma list: sw (int3), hw (debug registers); default sw,hw",
    )
    g.addoption("--repeat", type=int, default=1, help="run each guest test N times")
    g.addoption(
        "--artifacts", default="artifacts", help="per-test artifacts root (default ./artifacts)"
    )
    g.addoption("--keep-artifacts", action="store_true", help="keep artifacts of passing tests too")
    g.addoption("--boot-timeout", type=float, default=90.0, help="seconds to reach the shell")
    g.addoption(
        "--stop-timeout",
        type=float,
        default=60.0,
        help="seconds gdb may wait for a command's result or a stop",
    )
    g.addoption("--qemu", default="qemu-system-x86_64", help="the QEMU binary")
    g.addoption("--gdb", default="gdb", help="the gdb binary")


def pytest_configure(config: pytest.Config) -> None:
    for line in (
        "guest: boots a real guest under QEMU",
        "control: a positive control: plants a defect and must find it",
        "needs_blockirq: under KVM, expected to fail without KVM_GUESTDBG_BLOCKIRQ",
        "distro: Debian's cloud kernel (installs about 330 MB as root the first time)",
    ):
        config.addinivalue_line("markers", line)
    config.stash[_findings_key] = []
    _CONFIG["config"] = config


_CONFIG: dict[str, pytest.Config] = {}
_findings_key = pytest.StashKey[list[tuple[str, str, list[str]]]]()
_report_key = pytest.StashKey[dict[str, pytest.TestReport]]()


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _accels(config: pytest.Config) -> list[str]:
    value = config.getoption("--accel")
    return _csv(value) if value else (host.probe().usable_accels() or ["tcg"])


def _trees(config: pytest.Config) -> list[str | None]:
    trees: list[str | None] = list(config.getoption("--kernel-tree")) or [None]
    return trees


def matrix(config: pytest.Config) -> list[MatrixPoint]:
    trees = _trees(config)
    points = []
    for tree in trees:
        named = tree is not None and (len(trees) > 1 or tree != images.DEFAULT_TREE)
        label = Path(tree).name if tree and named else None
        for accel in _accels(config):
            for smp in _csv(config.getoption("--smp")):
                points.append(MatrixPoint(accel, int(smp), tree, label))
    return points


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    config = metafunc.config
    if "point" in metafunc.fixturenames:
        points = matrix(config)
        # Module scope: a module's tests on one matrix point can share a guest.
        metafunc.parametrize("point", points, ids=[p.id for p in points], scope="module")
    if "bp_kind" in metafunc.fixturenames:
        kinds = _csv(config.getoption("--bp-kind"))
        bad = [k for k in kinds if k not in ("sw", "hw")]
        if bad:
            raise pytest.UsageError(f"--bp-kind: unknown kind(s) {', '.join(bad)}; use sw,hw")
        metafunc.parametrize("bp_kind", kinds)
    repeat = config.getoption("--repeat")
    if repeat > 1 and "point" in metafunc.fixturenames:
        metafunc.fixturenames.append("guestdbg_repeat")
        metafunc.parametrize(
            "guestdbg_repeat", range(1, repeat + 1), ids=[f"run{i}" for i in range(1, repeat + 1)]
        )


def _release_of(tree: str | None) -> str:
    """The kernel release under test, without building anything."""
    try:
        if tree == images.DISTRO_TREE:
            from framework import distro

            found = distro.installed_kernel()
            return (
                f"{found.release} (Debian cloud kernel)"
                if found
                else "Debian cloud kernel, not installed yet"
            )
        if tree and tree != images.DEFAULT_TREE:
            return images.KernelTree.at(tree).release
        entry = images.cache_dir() / f"kernel-{images.default_kernel_key()}"
        release = entry / "linux" / "include" / "config" / "kernel.release"
        if (entry / ".complete").exists():
            return release.read_text().strip() + " (default tree)"
        return "default tree, not built yet"
    except GuestdbgError as err:
        return f"unusable: {err.message}"


def pytest_report_header(config: pytest.Config) -> list[str]:
    info = host.probe()
    lines = [f"guestdbg: {line}" for line in host.describe(info).splitlines()]
    for tree in _trees(config):
        lines.append(f"guestdbg: kernel under test: {_release_of(tree)}")
    lines.append("guestdbg: matrix: " + ", ".join(p.id for p in matrix(config)))
    return lines


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report, so fixtures can see whether the test failed."""
    report: pytest.TestReport = yield
    item.stash.setdefault(_report_key, {})[report.when] = report
    return report


# -- fixtures ---------------------------------------------------------------
_images: dict[str | None, images.GuestImage] = {}


def _image_for(tree: str | None) -> images.GuestImage:
    if tree not in _images:
        _images[tree] = images.guest_image(images.kernel_tree(tree))
    return _images[tree]


@pytest.fixture(scope="module")
def image(point: MatrixPoint) -> images.GuestImage:
    """The guest images (built or found in the cache) for this matrix point."""
    try:
        return _image_for(point.tree)
    except GuestdbgError as err:
        pytest.fail(f"cannot prepare the guest images: {err}", pytrace=False)


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Iterator[Path]:
    """This test's artifacts directory; removed after a pass unless --keep-artifacts."""
    root = Path(request.config.getoption("--artifacts"))
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid).strip("_")[:150]
    path = (root / name).resolve()
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    request.node.user_properties.append(("artifacts", str(path)))
    yield path
    reports = request.node.stash.get(_report_key, {})
    failed = any(r.failed for r in reports.values())
    if not failed and not request.config.getoption("--keep-artifacts"):
        shutil.rmtree(path, ignore_errors=True)


def _spec(
    request: pytest.FixtureRequest, point: MatrixPoint, image: images.GuestImage
) -> GuestSpec:
    config = request.config
    return spec_for(
        image,
        accel=point.accel,
        smp=point.smp,
        cpu=config.getoption("--cpu"),
        memory_mb=config.getoption("--memory"),
        boot_timeout=config.getoption("--boot-timeout"),
        qemu=config.getoption("--qemu"),
        name=request.node.name[:60],
    )


def _skip_or_xfail(request: pytest.FixtureRequest, point: MatrixPoint) -> None:
    info = host.probe()
    problem = info.accel_problem(point.accel)
    if problem:
        pytest.skip(problem)
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


def _record_point(
    request: pytest.FixtureRequest, point: MatrixPoint, image: images.GuestImage
) -> None:
    info = host.probe()
    request.node.user_properties.extend(
        [
            ("accel", point.accel),
            ("smp", point.smp),
            ("kernel_release", image.tree.release),
            ("qemu_version", info.qemu.version or ""),
            ("host_kernel", platform.release()),
            ("gdb_version", info.gdb.version or ""),
        ]
    )


def _boot(
    request: pytest.FixtureRequest,
    point: MatrixPoint,
    image: images.GuestImage,
    artifacts: Path,
    paused: bool = False,
) -> Guest:
    spec = dataclasses.replace(_spec(request, point, image), paused=paused)
    g = Guest(spec, artifacts=artifacts)
    try:
        g.__enter__()
    except GuestdbgError as err:
        pytest.fail(f"infrastructure: the guest could not be started: {err}", pytrace=False)
    return g


@pytest.fixture
def guest(
    request: pytest.FixtureRequest, point: MatrixPoint, image: images.GuestImage, artifacts: Path
) -> Iterator[Guest]:
    """A freshly booted guest for this test (closed, with QEMU gone, afterwards)."""
    _skip_or_xfail(request, point)
    _record_point(request, point, image)
    g = _boot(request, point, image, artifacts)
    try:
        yield g
    finally:
        g.close()


@pytest.fixture
def paused_guest(
    request: pytest.FixtureRequest, point: MatrixPoint, image: images.GuestImage, artifacts: Path
) -> Iterator[Guest]:
    """A guest started with its vCPUs stopped at reset (-S), for attaching
    before the kernel runs; ``wait_ready()`` once it is resumed."""
    _skip_or_xfail(request, point)
    _record_point(request, point, image)
    g = _boot(request, point, image, artifacts, paused=True)
    try:
        yield g
    finally:
        g.close()


@pytest.fixture
def early_session(
    image: images.GuestImage, paused_guest: Guest, debugger: Debugger, artifacts: Path
) -> Session:
    """Guest (paused at reset) + debugger, for early-boot scenarios."""
    return Session(image, paused_guest, debugger, artifacts)


@pytest.fixture(scope="module")
def shared_guest(
    request: pytest.FixtureRequest, point: MatrixPoint, image: images.GuestImage
) -> Iterator[Guest]:
    """One guest for the tests of a module on one matrix point, for scenarios
    that leave it as they found it (the known-good runs; controls boot their
    own). Its console log is kept under ``<artifacts>/shared/`` when a test
    failed."""
    problem = host.probe().accel_problem(point.accel)
    if problem:
        pytest.skip(problem)
    root = Path(request.config.getoption("--artifacts")).resolve() / "shared"
    root.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{request.module.__name__}-{point.id}")
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))  # unique per xdist worker
    failed_before = request.session.testsfailed
    g = _boot(request, point, image, path)
    try:
        yield g
    finally:
        g.close()
        failed = request.session.testsfailed > failed_before
        if not failed and not request.config.getoption("--keep-artifacts"):
            shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def console(guest: Guest) -> Any:
    """The guest's serial console (framework.console.Console)."""
    return guest.console


@pytest.fixture
def qmp(guest: Guest) -> Guest:
    """QMP access: ``qmp.qmp("query-status")``, ``qmp.inject_nmi()``, ``qmp.registers()``."""
    return guest


@pytest.fixture
def debugger(
    request: pytest.FixtureRequest, image: images.GuestImage, artifacts: Path
) -> Iterator[Debugger]:
    """gdb with the vmlinux loaded, not attached yet; detached and ended afterwards."""
    config = request.config
    with Debugger(
        gdb=config.getoption("--gdb"),
        artifacts=artifacts,
        timeout=config.getoption("--stop-timeout"),
    ) as dbg:
        dbg.load(image.tree.vmlinux)
        yield dbg


@pytest.fixture
def session(
    request: pytest.FixtureRequest,
    image: images.GuestImage,
    guest: Guest,
    debugger: Debugger,
    artifacts: Path,
) -> Session:
    """Guest + debugger for one scenario."""
    sstep = request.config.getoption("--sstep")
    request.node.user_properties.append(("sstep_flags", sstep or "qemu-default"))
    return Session(image, guest, debugger, artifacts)


@pytest.fixture
def shared_session(
    request: pytest.FixtureRequest,
    point: MatrixPoint,
    image: images.GuestImage,
    shared_guest: Guest,
    debugger: Debugger,
    artifacts: Path,
) -> Iterator[Session]:
    """Like ``session``, on the module's shared guest; this test's slice of the
    console goes to its own artifacts as console.log."""
    _skip_or_xfail(request, point)
    _record_point(request, point, image)
    if not shared_guest.running:
        pytest.fail(
            f"infrastructure: the shared guest is gone: {shared_guest.exit_reason()}", pytrace=False
        )
    sstep = request.config.getoption("--sstep")
    request.node.user_properties.append(("sstep_flags", sstep or "qemu-default"))
    request.node.user_properties.append(("shared_guest", str(shared_guest.artifacts)))
    s = Session(image, shared_guest, debugger, artifacts)
    yield s
    (artifacts / "console.log").write_text(s.console_text())


@pytest.fixture
def sstep_override(request: pytest.FixtureRequest) -> int | None:
    """--sstep as an int, for the known-good scenarios (controls set their own)."""
    value = request.config.getoption("--sstep")
    return int(value, 0) if value else None


# -- verdicts -----------------------------------------------------------------
def _record(
    request_node: Any, result: ScenarioResult, artifacts: Path, expected: list[str]
) -> None:
    result.write(artifacts / "findings.json")
    request_node.user_properties.append(("findings", json.dumps(sorted(result.kinds()))))
    notes = [f"(expected: {e})" for e in expected]
    if result.data.get("re_hits"):
        notes.append(f"(re-hits: {result.data['re_hits']}/{result.data['resumes']} resumes)")
    if result.data.get("stalled_steps"):
        notes.append(f"(stalled steps: {result.data['stalled_steps']}/{len(result.data['steps'])})")
    # user_properties travel with the report, also from pytest-xdist workers.
    request_node.user_properties.append(("scenario", result.name))
    request_node.user_properties.append(("notes", " ".join(notes)))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect each scenario's findings for the terminal summary."""
    props = dict(report.user_properties)
    if report.when != "call" or "scenario" not in props:
        return
    config = _CONFIG.get("config")
    if config is None:
        return
    kinds = json.loads(str(props.get("findings", "[]")))
    config.stash[_findings_key].append(
        (report.nodeid, str(props["scenario"]), [*kinds, str(props.get("notes", ""))])
    )


def bug_report(result: ScenarioResult, headline: str, artifacts: Path) -> str:
    lines = [headline, f"Scenario: {result.name}: {result.did}."]
    for f in result.findings:
        lines.append("Detector " + f.describe())
    lines.append(f"Artifacts: {artifacts} ({ARTIFACT_FILES})")
    return "\n".join(lines)


def expect_clean(request: pytest.FixtureRequest, result: ScenarioResult, artifacts: Path) -> None:
    """Fail with a bug report when any detector fired."""
    _record(request.node, result, artifacts, [])
    if result.findings:
        kinds = ", ".join(sorted(result.kinds()))
        pytest.fail(
            bug_report(result, f"guest debugging defect found: {kinds}", artifacts), pytrace=False
        )


def expect_found(
    request: pytest.FixtureRequest,
    result: ScenarioResult,
    artifacts: Path,
    kind: str,
    allowed: tuple[str, ...] = (),
) -> None:
    """A positive control: ``kind`` must be found; other findings (except
    ``allowed`` ones the planted defect also causes) fail it."""
    _record(request.node, result, artifacts, [kind])
    if kind not in result.kinds():
        pytest.fail(
            bug_report(
                result,
                f"positive control did not find its defect: no '{kind}' finding "
                "(the detector no longer fires, or the stimulus no longer works)",
                artifacts,
            ),
            pytrace=False,
        )
    extra = result.kinds() - {kind, *allowed}
    if extra:
        pytest.fail(
            bug_report(
                result,
                f"positive control found more than its defect: {', '.join(sorted(extra))}",
                artifacts,
            ),
            pytrace=False,
        )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    rows = config.stash.get(_findings_key, [])
    if not rows:
        return
    tr = terminalreporter
    tr.section("guestdbg findings")
    for nodeid, scenario, kinds in sorted(rows):
        found = ", ".join(k for k in kinds if k and not k.startswith("(")) or "none"
        notes = " ".join(k for k in kinds if k.startswith("("))
        tr.write_line(f"{nodeid}: {scenario}: {found} {notes}".rstrip())
