"""A nightly as KCIDB data, the format labs submit to KernelCI, validated
with KernelCI's own ``kcidb-io`` before it is written.

The objects (schema of ``kcidb_io.schema.LATEST``, 5.3 when written):

- one **checkout** per kernel tree: its git commit when the tree is a git
  checkout, else its release, with the sha256 of its bzImage and .config;
- one **build** per tree and kernel config (``status`` PASS: it was built and
  booted; a tree that does not build never reaches the suite);
- one **test** per case, ``path`` ``guestdbg.<test>.<matrix point>``, its
  environment (accelerator, QEMU, gdb, host kernel; for kvm-nested the nested
  host kernel, its KVM's guest-debug bits (BLOCKIRQ) and the outer level) and
  its artifacts as output files.

Statuses say what the test knows about the kernel under test: a debug defect
a judge found is FAIL; a case that could not judge (QEMU or gdb died, a guest
that never booted, a silent positive control) is ERROR; a skip is SKIP. An
expected failure (xfail: a limit of this host or outer level that the suite
names) ran to completion without judging the kernel: DONE, with its cause in
``comment`` and ``misc.xfail``, never hidden. An xpass is PASS, said so.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from guestdbg.errors import GuestdbgError
from guestdbg.results.nights import Case, Night

ARCHITECTURE = "x86_64"
EXCERPT_LIMIT = 16384  # the schema's maxLength of log_excerpt

NESTED_PROPERTIES = ("host_kernel", "kvm_guest_debug2", "sstep_flags_reported", "outer_level")
ENVIRONMENT_PROPERTIES = (
    "accel",
    "smp",
    "qemu",
    "qemu_version",
    "gdb",
    "gdb_version",
    "sstep_flags",
    "machine_kernel",
    "guest_start",
)


def status_of(case: Case) -> str:
    """The KCIDB status of a case (see the module docstring)."""
    if case.outcome in ("failed", "error"):
        return "ERROR" if case.infrastructure else "FAIL"
    return {
        "passed": "PASS",
        "xpassed": "PASS",
        "xfailed": "DONE",
        "skipped": "SKIP",
    }.get(case.outcome, "ERROR")


def _text(s: str, limit: int | None = None) -> str:
    """Text the schema accepts: no NUL; cut from the front, the end is where the cause is."""
    s = s.replace("\0", "")
    return s[-limit:] if limit and len(s) > limit else s


def _slug(s: str) -> str:
    """A KCIDB path component: letters, digits, _ and -."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", s).strip("_") or "_"


def _run_id(night: Night) -> str:
    stamp = night.started.strftime("%Y%m%dT%H%M%SZ") if night.started else "unknown"
    digest = hashlib.sha256((night.path / "summary.json").read_bytes()).hexdigest()[:10]
    return f"{stamp}-{digest}"


def _trees(night: Night) -> list[dict[str, Any]]:
    """trees.json, or (older nights) the trees the summary's header and the
    cases' JUnit properties name."""
    if night.trees:
        return night.trees
    seen: dict[str, dict[str, Any]] = {}
    for line in night.summary.get("header", []):
        m = re.match(r"kernel under test: (\S+) \((.*)\)$", line)
        if m:
            seen.setdefault(m.group(2), {"label": Path(m.group(2)).name, "root": m.group(2)})
            seen[m.group(2)]["release"] = m.group(1)
    for c in night.cases:
        root = c.properties.get("kernel_tree", "")
        if root and root not in seen:
            seen[root] = {
                "label": Path(root).name,
                "root": root,
                "release": c.properties.get("kernel_release", ""),
            }
    return list(seen.values())


def _tree_of(case: Case, trees: list[dict[str, Any]]) -> tuple[dict[str, Any], bool]:
    """The tree a case ran on, and whether that is known (a case that failed
    before it recorded its tree goes by its matrix point's tree label, or to
    the first tree, said so in its misc)."""
    root = case.properties.get("kernel_tree")
    for t in trees:
        if root and _same_root(t.get("root", ""), root):
            return t, True
    for t in trees:
        if t.get("label") and case.point.startswith(f"{t['label']}-"):
            return t, False
    return trees[0], False


def _same_root(a: str, b: str) -> bool:
    """Two spellings of a tree's path (``~/`` in trimmed fixtures)."""
    return Path(a).expanduser() == Path(b).expanduser()


def _checkout(t: dict[str, Any], origin: str, run: str, night: Night) -> dict[str, Any]:
    build_hash = t.get("bzimage_sha256", "")
    name = t.get("git_commit") or f"{t.get('release', 'unknown')}-{build_hash[:16] or 'unhashed'}"
    co: dict[str, Any] = {
        "id": f"{origin}:{run}:{_slug(t.get('label', ''))}:{name}",
        "origin": origin,
        "valid": True,
        "comment": f"Linux {t.get('release', '?')}"
        + ("" if t.get("git_commit") else f" (not a git checkout; bzImage sha256 {build_hash})"),
        "misc": {
            k: t[k]
            for k in ("label", "release", "bzimage_sha256", "config_sha256", "git_dirty")
            if k in t
        },
    }
    if night.started:
        co["start_time"] = night.started.isoformat()
    if t.get("git_commit"):
        co["git_commit_hash"] = t["git_commit"]
        if t.get("git_describe"):
            co["git_commit_name"] = t["git_describe"]
        if str(t.get("git_remote", "")).startswith("https://"):
            co["git_repository_url"] = t["git_remote"]
        if t.get("git_branch") and t["git_branch"] != "HEAD":
            co["git_repository_branch"] = t["git_branch"]
    return co


def _build(t: dict[str, Any], checkout: dict[str, Any], night: Night) -> dict[str, Any]:
    config = t.get("config_sha256", "")
    b: dict[str, Any] = {
        "id": f"{checkout['id']}:{config[:12] or 'config'}",
        "checkout_id": checkout["id"],
        "origin": checkout["origin"],
        "architecture": ARCHITECTURE,
        "config_name": f"{t.get('label', 'tree')} .config sha256 {config[:12] or 'unknown'}",
        "status": "PASS",
        "comment": f"Linux {t.get('release', '?')}, built and booted by the guestdbg suite",
        "misc": {k: t[k] for k in ("bzimage_sha256", "config_sha256") if k in t},
    }
    if night.started:
        b["start_time"] = night.started.isoformat()
    return b


def _files(case: Case, night: Night, base: str) -> list[dict[str, str]]:
    """The case's kept artifacts (and its recorded scenario) as output files."""
    files = []
    if case.artifacts is not None:
        for f in sorted(case.artifacts.iterdir()):
            if f.is_file():
                files.append((f.name, f))
    elif case.scenario_file is not None:
        files.append(("findings.json", case.scenario_file))
    out = []
    for name, f in files:
        try:
            rel = f.resolve().relative_to(night.path.resolve())
        except ValueError:
            continue  # outside the output directory: not published with it
        out.append({"name": name, "url": base.rstrip("/") + "/" + rel.as_posix()})
    return out


def _environment(case: Case, night: Night) -> dict[str, Any]:
    p = case.properties
    misc: dict[str, Any] = {k: p[k] for k in ENVIRONMENT_PROPERTIES if p.get(k)}
    host = p.get("host_kernel") if p.get("accel") != "kvm-nested" else p.get("machine_kernel")
    if host:
        misc["host_kernel"] = host
    kvm = [line for line in night.summary.get("header", []) if line.startswith("kvm:")]
    if kvm:
        misc["host_kvm"] = "; ".join(line[4:].strip() for line in kvm)
    nested = {k: p[k] for k in NESTED_PROPERTIES if p.get(k) and "outer_level" in p}
    if nested:
        misc["nested_host"] = nested
    parts = [
        f"{p.get('accel', '?')} with {p.get('smp', '?')} vCPU(s)",
        f"QEMU {p.get('qemu_version') or '?'}",
        f"gdb {p.get('gdb_version') or '?'}",
        f"host Linux {host or '?'}",
    ]
    if nested:
        parts.append(
            f"nested host Linux {nested.get('host_kernel', '?')} "
            f"({nested.get('kvm_guest_debug2', '?')}), outer level {nested.get('outer_level', '?')}"
        )
    return {"comment": _text(", ".join(parts)), "misc": misc}


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _comment(case: Case) -> str:
    """One line; the whole text goes to log_excerpt or misc."""
    if case.outcome in ("failed", "error"):
        if case.infrastructure:
            return f"could not judge: {case.cause or 'no cause recorded'}"
        return f"debug defect found: {', '.join(case.findings) or 'no finding recorded'}"
    if case.outcome == "xfailed":
        return f"expected failure (xfail): {_first_line(case.message)}"
    if case.outcome == "xpassed":
        return f"passed although expected to fail: {_first_line(case.message)}"
    if case.outcome == "skipped":
        # pytest's skip text: "('file', line, 'Skipped: why')"
        m = re.search(r"Skipped: (.*?)['\"]?\)?$", case.message.strip())
        return f"skipped: {m.group(1) if m else _first_line(case.message)}"
    if case.expected:
        # A positive control, or a case that expects a defect on this host (no BLOCKIRQ).
        return f"found what it expected here: {', '.join(case.expected)}"
    return "judged clean: no detector fired"


def _test(case: Case, build: dict[str, Any], night: Night, run: str, base: str) -> dict[str, Any]:
    point = _slug(case.point)
    t: dict[str, Any] = {
        "id": f"{build['origin']}:{run}:{_slug(case.nodeid)}",
        "build_id": build["id"],
        "origin": build["origin"],
        "path": f"guestdbg.{_slug(case.test)}" + (f".{point}" if case.point else ""),
        "status": status_of(case),
        "comment": _text(_comment(case))[:1000],
        "duration": round(case.seconds, 3),
        "environment": _environment(case, night),
        "misc": {
            "nodeid": case.nodeid,
            "outcome": case.outcome,
            "findings": case.findings,
        },
    }
    if night.started:
        t["start_time"] = night.started.isoformat()
    misc = t["misc"]
    if case.verdict:
        misc["verdict"] = case.verdict
    if case.infrastructure and case.cause:
        misc["cause"] = case.cause
    if case.expected:
        misc["control_of"] = case.expected[0]
    if case.reruns:  # the status is the last attempt's; why the earlier ones failed
        misc["reruns"] = [_text(why, EXCERPT_LIMIT) for why in case.reruns]
    if case.outcome in ("xfailed", "xpassed"):
        misc["xfail"] = _text(case.message)[:EXCERPT_LIMIT]
    data = (case.scenario or {}).get("data", {})
    for key in ("re_hits", "resumes", "stalled_steps", "sstep_flags", "host_injections"):
        if data.get(key) is not None:
            misc[key] = data[key]
    if case.message and case.outcome in ("failed", "error", "xpassed"):
        t["log_excerpt"] = _text(case.message, EXCERPT_LIMIT)
    files = _files(case, night, base)
    log = next((f for f in files if f["name"] == "console.log"), None)
    if log:
        t["log_url"] = log["url"]
        files.remove(log)
    if files:
        t["output_files"] = files
    return t


def kcidb_data(night: Night, origin: str, artifacts_url: str | None = None) -> dict[str, Any]:
    """The night as KCIDB data (checked by :func:`validate` when written)."""
    import kcidb_io

    schema = kcidb_io.schema.LATEST
    run = _run_id(night)
    base = artifacts_url or night.path.resolve().as_uri()
    checkouts, builds, by_root = [], [], {}
    for t in _trees(night):
        co = _checkout(t, origin, run, night)
        b = _build(t, co, night)
        checkouts.append(co)
        builds.append(b)
        by_root[t.get("root")] = b
    tests = []
    trees = _trees(night)
    if night.cases and not trees:
        raise GuestdbgError(f"{night.path} names no kernel tree: no trees.json, header or JUnit")
    for case in night.cases:
        tree, known = _tree_of(case, trees)
        test = _test(case, by_root[tree.get("root")], night, run, base)
        if not known:
            test["misc"]["kernel_tree_unrecorded"] = True
        tests.append(test)
    return {
        "version": {"major": schema.major, "minor": schema.minor},
        "checkouts": checkouts,
        "builds": builds,
        "tests": tests,
    }


def validate(data: dict[str, Any]) -> None:
    """kcidb-io's verdict on ``data``; a GuestdbgError saying where it is wrong."""
    import jsonschema
    import kcidb_io

    try:
        kcidb_io.schema.LATEST.validate(data)
    except jsonschema.exceptions.ValidationError as err:
        where = "/".join(str(p) for p in err.absolute_path)
        raise GuestdbgError(
            f"the KCIDB data is not valid at {where or 'top'}: {err.message}"
        ) from err


def write_kcidb(data: dict[str, Any], path: Path) -> None:
    """Validate, then write (nothing is written when it is not valid)."""
    validate(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
