"""End to end: install, run, then an editable install over it (issue #12).

numba used to write its compiled kernels into the installed package's
``__pycache__``; that directory outlived the uninstall that ``pip install -e``
does and shadowed the editable install as an empty namespace package, so even
``fastring --version`` failed. The kernels now live in the user's cache
directory (``fastring.kernel_cache``).

The venv is made without pip and borrows this environment's packages (numba,
numpy, pyarrow, pip; never fastring) through a ``.pth`` file, so nothing big
is downloaded;
pip still fetches setuptools for its isolated build.
"""
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _sh(cmd, env, **kw):
    return subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=900, **kw)


@pytest.mark.slow
def test_install_run_then_editable_install(tmp_path):
    src = tmp_path / "src"                  # a copy: the editable install
    src.mkdir()                             # writes into its source tree
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "fastring", src / "fastring",
                    ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    py = venv / "bin" / "python"
    purelib = Path(_sh([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                       None).stdout.strip())
    parent = [p for p in site.getsitepackages() if Path(p).is_dir()]
    parent.append(sysconfig.get_path("purelib"))
    # borrow every package but fastring itself: where this environment has
    # fastring installed (CI does), a path to it would shadow the installs
    # under test (the editable finder comes after sys.path's entries)
    borrowed = tmp_path / "borrowed"
    borrowed.mkdir()
    for sp in dict.fromkeys(parent):
        for entry in Path(sp).iterdir():
            name = entry.name.lower()
            if "fastring" in name or entry.suffix == ".pth":
                continue
            if not (borrowed / entry.name).exists():
                (borrowed / entry.name).symlink_to(entry)
    (purelib / "parent-env.pth").write_text(f"{borrowed}\n")

    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "NUMBA_CACHE_DIR", "VIRTUAL_ENV")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"

    r = _sh([py, "-m", "pip", "install", "-q", str(src)], env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = _sh([venv / "bin" / "fastring", "run", "--events", "2000", "--strategy",
             "nofault", "--no-progress", "--out", tmp_path / "out"], env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    installed = purelib / "fastring"
    assert not list(installed.rglob("*.nb[ic]")), "kernels cached inside the package"
    assert list((tmp_path / "cache" / "fastring" / "numba").rglob("*.nbi"))

    r = _sh([py, "-m", "pip", "install", "-q", "-e", str(src)], env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert not installed.exists()
    r = _sh([venv / "bin" / "fastring", "--version"], env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith("fastring ")
    r = _sh([py, "-c", "import fastring; print(fastring.__file__)"], env, cwd=tmp_path)
    assert Path(r.stdout.strip()) == src / "fastring" / "__init__.py"


def test_kernels_cached_outside_the_package():
    from fastring import kernel_cache
    from numba.core import config
    assert os.environ["NUMBA_CACHE_DIR"] == config.CACHE_DIR
    assert not kernel_cache.package_cache_dir().is_relative_to(kernel_cache.PACKAGE_DIR)


def test_numba_cache_dir_is_honoured(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "nc"),
           "PYTHONPATH": str(ROOT), "NUMBA_DISABLE_JIT": "0"}
    r = _sh([sys.executable, "-c",
             "from fastring import kernel_cache as k; from fastring import engine;"
             "print(k.package_cache_dir()); print(engine.run_chunk._cache._cache_path);"
             "print(*k.all_cache_dirs())"],
            env)
    assert r.returncode == 0, r.stderr
    mine, numbas, *dirs = r.stdout.split()
    assert Path(mine).parent == Path(numbas).parent == tmp_path / "nc"
    assert mine in dirs and numbas in dirs     # the engine's is fastring/sim's
