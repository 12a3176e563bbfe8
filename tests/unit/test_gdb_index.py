"""gdb's symbol indexes in the cache: the most recently loaded are kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from guestdbg.debugger import gdb


def test_prune_keeps_the_most_recently_loaded_and_the_fresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUESTDBG_CACHE", str(tmp_path))
    index = gdb.index_dir()
    index.mkdir()
    now = time.time()
    ages = {"aa": 60, "bb": 2 * 3600, "cc": 5 * 86400, "dd": 9 * 86400}
    for build_id, age in ages.items():
        f = index / f"{build_id}.gdb-index"
        f.write_bytes(b"")
        os.utime(f, (now - age, now - age))
    (index / "other-file").write_bytes(b"")
    assert [f.name for f in gdb.prune_indexes(keep=1)] == [
        "bb.gdb-index",
        "cc.gdb-index",
        "dd.gdb-index",
    ]
    assert sorted(f.name for f in index.iterdir()) == ["aa.gdb-index", "other-file"]
    # Loaded within the grace period: kept whatever the count.
    assert gdb.prune_indexes(keep=0) == []
