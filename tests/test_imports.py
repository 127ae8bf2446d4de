"""No import cycle among fastring's modules (docs/architecture.md).

The module-level imports of every module form the graph checked here
(imports inside functions are the sanctioned way to defer a heavy import and
are left out). A cycle makes a module's names depend on which module a user
imports first; it must not come back.
"""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "fastring"


def modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for p in PKG.rglob("*.py"):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (p, is_pkg)
    return out


def imports(name: str, mods: dict) -> set[str]:
    """The fastring modules ``name`` imports at module level."""
    path, is_pkg = mods[name]
    pkg = name if is_pkg else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[:len(pkg.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for a in node.names:
                sub = f"{mod}.{a.name}"
                found.add(sub if sub in mods else mod)
    return {m for m in found if m in mods and m != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    mods = modules()
    graph = {m: imports(m, mods) for m in mods}
    assert graph["fastring.api"], "the graph reader found no imports at all"
    assert cycles(graph) == []


def test_cycle_detector_finds_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_module_imports_first_in_a_fresh_interpreter():
    """Each former cycle's members imported before anything else."""
    for first in ("fastring.results", "fastring.config.layers", "fastring.live.run",
                  "fastring.reference.engine", "fastring.sweep"):
        r = subprocess.run([sys.executable, "-c", f"import {first}"], cwd=ROOT,
                           capture_output=True, text=True,
                           env={"PYTHONPATH": str(ROOT), "NUMBA_DISABLE_JIT": "1",
                                "PATH": "/usr/bin:/bin"})
        assert r.returncode == 0, (first, r.stderr)


def test_the_command_tree_imports_nothing_heavy():
    """``fastring --help`` builds the tree from fastring.cli.commands: its
    module-level imports, followed through fastring's modules, reach neither
    numba nor pyarrow (each command imports what it needs when it runs)."""
    mods = modules()
    seen, todo = set(), ["fastring.cli.commands"]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(imports(name, mods))
    assert "fastring.cli.run" in seen and "fastring.cli.sweep" in seen
    for name in sorted(seen):
        tree = ast.parse(mods[name][0].read_text())
        top = {a.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import)
               for a in node.names}
        top |= {(node.module or "").split(".")[0] for node in tree.body
                if isinstance(node, ast.ImportFrom) and not node.level}
        assert not top & {"numba", "numpy", "pyarrow"}, (name, top)
