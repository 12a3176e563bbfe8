"""What a nightly keeps for its KCIDB data and its report, beyond JUnit and
the summaries: which kernel builds it tested (``trees.json``), and each
case's recorded scenario (``scenarios/<case>.json``, a copy of the
``findings.json`` that the artifacts fixture deletes after a pass) so the
report can draw step traces of passing cases too.

The copy is taken by the plugin's artifacts fixture wherever the case runs
(with ``-n``, in a pytest-xdist worker), when the nightly names the directory.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from guestdbg.images.trees import KernelTree

SCENARIOS_DIR = "scenarios"
TREES_FILE = "trees.json"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _git(root: Path, *args: str) -> str:
    try:
        run = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return run.stdout.strip() if run.returncode == 0 else ""


def describe_tree(label: str, tree: KernelTree) -> dict[str, Any]:
    """A kernel build as KCIDB needs it: the git commit when the tree is a git
    checkout (and whether it has changes), else only its release; always the
    sha256 of its bzImage and .config, which tell two builds apart."""
    commit = _git(tree.root, "rev-parse", "--verify", "HEAD^{commit}")
    info: dict[str, Any] = {
        "label": label,
        "root": str(tree.root),
        "release": tree.release,
        "bzimage_sha256": _sha256(tree.bzimage),
        "config_sha256": _sha256(tree.config) if tree.config.is_file() else "",
    }
    if commit and _git(tree.root, "rev-parse", "--show-toplevel") == str(tree.root):
        info["git_commit"] = commit
        info["git_describe"] = _git(tree.root, "describe", "--always", "--tags")
        info["git_dirty"] = bool(_git(tree.root, "status", "--porcelain", "--untracked-files=no"))
        info["git_remote"] = _git(tree.root, "remote", "get-url", "origin")
        info["git_branch"] = _git(tree.root, "rev-parse", "--abbrev-ref", "HEAD")
    return info


def write_trees(out: Path, trees: list[dict[str, Any]]) -> None:
    (out / TREES_FILE).write_text(json.dumps(trees, indent=2))


def keep_scenario(findings: Path, scenarios: Path) -> None:
    """Copy a case's ``findings.json`` (if it wrote one) to
    ``<scenarios>/<artifacts name>.json``, before the artifacts fixture
    removes a passing case's directory. Runs where the case ran: the
    nightly's own process, or a pytest-xdist worker."""
    if findings.is_file():
        scenarios.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(findings, scenarios / f"{findings.parent.name}.json")
