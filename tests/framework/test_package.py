"""guestdbg as kernel developers install it: a plain (not editable) install
into a fresh environment, used from a directory that is not this repo."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def sh(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with guestdbg installed from a wheel of this
    repo; its dependencies come from this environment (no network)."""
    root = tmp_path_factory.mktemp("pkg")
    build = sh(
        sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
        "-w", root / "dist", REPO, cwd=root,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (root / "dist").glob("guestdbg-*.whl")
    env = root / "venv"
    venv.create(env, with_pip=True)
    site = next((env / "lib").glob("python3*/site-packages"))
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = sh(env / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", wheel, cwd=root)
    assert install.returncode == 0, install.stderr[-2000:]
    return env


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    (tmp_path / "test_unrelated.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    return tmp_path


def test_the_import_name_is_guestdbg_not_framework(installed: Path, elsewhere: Path) -> None:
    py = installed / "bin" / "python"
    assert sh(py, "-c", "import framework", cwd=elsewhere).returncode != 0
    found = sh(py, "-c", "import guestdbg.recipes as r; print(r.CONFIG_FRAGMENT)", cwd=elsewhere)
    assert found.returncode == 0 and "site-packages/guestdbg/recipes" in found.stdout


def test_images_and_the_suite_run_from_any_directory(installed: Path, elsewhere: Path) -> None:
    images = sh(installed / "bin" / "guestdbg", "images", cwd=elsewhere)
    assert images.returncode == 0, images.stderr[-2000:]
    assert "bzImage:" in images.stdout
    run = sh(installed / "bin" / "guestdbg", "run", "-k", "boots_clean", "-q", cwd=elsewhere)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout


def test_other_pytest_sessions_see_nothing_of_guestdbg(installed: Path, elsewhere: Path) -> None:
    run = sh(installed / "bin" / "python", "-m", "pytest", "test_unrelated.py", cwd=elsewhere)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "guestdbg" not in run.stdout + run.stderr
    helptext = sh(installed / "bin" / "python", "-m", "pytest", "--help", cwd=elsewhere).stdout
    assert "guestdbg" not in helptext and "--accel" not in helptext
