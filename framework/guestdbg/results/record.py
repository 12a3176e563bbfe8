"""What a nightly keeps for its KCIDB data and its report, beyond JUnit and
the summaries: which kernel builds it tested (``trees.json``), and each
case's recorded scenario (``scenarios/<case>.json``, a copy of the
``findings.json`` that the artifacts fixture deletes after a pass) so the
report can draw step traces of passing cases too.

The copy is taken by a pytest plugin object in the nightly's own process;
with ``-n`` (pytest-xdist) the workers run the tests and passing cases keep
no scenario (failures keep theirs in the artifacts anyway).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

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


class ScenarioKeeper:
    """A pytest plugin object: before a case's teardown removes its artifacts,
    copy its ``findings.json`` to ``<out>/scenarios/<artifacts name>.json``."""

    def __init__(self, out: Path) -> None:
        self.dir = out / SCENARIOS_DIR

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        artifacts = dict(item.user_properties).get("artifacts")
        if artifacts:
            found = Path(str(artifacts), "findings.json")
            if found.is_file():
                self.dir.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(found, self.dir / f"{found.parent.name}.json")
        return (yield)
