"""The code's layout: no import cycle among the modules of evo, brains, encoders and genome,
imports only down the floors of docs/ARCHITECTURE.md, and no Python file long enough to
want splitting.

Imports are read with ast, not run: every import statement counts, at module top, inside
functions and under `if TYPE_CHECKING`. `import a.b` and `from a import b` (b a submodule)
import a.b; `from a.b import name` (name not a submodule) imports a.b; importing a package
imports its __init__. A parent package that Python initializes on the way to a submodule is
not counted as imported by that line (a submodule naming its own package would otherwise be
a cycle whenever the package's __init__ re-exports from it, which Python allows)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("evo", "brains", "encoders", "genome")
SIZED = (*PACKAGES, "experiments", "tests")
MAX_LINES = 400


def modules() -> dict[str, Path]:
    """Module name -> file, for every module of PACKAGES (a package is its __init__.py)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of `known` that the module `name` (at `path`) imports."""
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                out.add(sub if sub in known else source)
    return {m for m in out if m in known}


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imported(name, path, set(found)) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a -> ... -> a) through each strongly connected component that has one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan; the graph is small, so recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            components.append(component)

    for v in sorted(edges):
        if v not in index:
            connect(v)
    found = []
    for component in components:
        members, start = set(component), min(component)
        if len(component) == 1 and start not in edges[start]:
            continue
        # shortest way back to `start` inside the component (breadth first)
        previous: dict[str, str] = {}
        frontier, end = [start], None
        while frontier and end is None:
            following = []
            for v in frontier:
                for w in sorted(edges[v] & members):
                    if w == start:
                        end = v
                        break
                    if w not in previous:
                        previous[w] = v
                        following.append(w)
                if end is not None:
                    break
            frontier = following
        path = [end]
        while path[-1] != start:
            path.append(previous[path[-1]])
        found.append([*reversed(path), start])
    return found


def test_the_cycle_finder_names_a_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert sorted(cycles(edges)) == [["a", "b", "c", "a"], ["e", "e"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_relative_and_submodule_imports_resolve(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from . import sub\nfrom .sub import thing\n")
    (package / "sub.py").write_text("def f():\n    from pkg import other\n    from .other import g\n"
                                    "    import pkg.other, os\n    from pkg import name\n")
    (package / "other.py").write_text("")
    known = {"pkg", "pkg.sub", "pkg.other"}
    assert imported("pkg", package / "__init__.py", known) == {"pkg.sub"}
    assert imported("pkg.sub", package / "sub.py", known) == {"pkg.other", "pkg"}


def test_no_import_cycles():
    edges = graph()
    assert "evo.search.loop" in edges and edges["evo.search.loop"]  # the graph was read
    found = cycles(edges)
    assert not found, "import cycles:\n" + "\n".join("  " + " -> ".join(c) for c in found)


def test_no_file_over_the_line_limit():
    sizes = {path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines())
             for folder in SIZED for path in (ROOT / folder).rglob("*.py")}
    assert len(sizes) > 50  # the folders were found
    over = sorted((n, f) for f, n in sizes.items() if n > MAX_LINES)
    assert not over, f"files over {MAX_LINES} lines: " + ", ".join(f"{f} ({n})" for n, f in reversed(over))


# The floors of docs/ARCHITECTURE.md: (floor, room) by module prefix, the longest match wins.
FLOORS = {"genome": (0, "genome"), "encoders": (1, "encoders"), "brains": (1, "brains"),
          "evo.errors": (2, "base"), "evo.machine": (2, "base"), "evo.tasks": (2, "base"),
          "evo.pair": (3, "core"), "evo.records": (3, "core"), "evo.settings": (3, "core"),
          "evo.recipes": (3, "core"), "evo.summary": (3, "core"),
          "evo.execution": (4, "execution"), "evo.search": (4, "search"), "evo.rundir": (5, "rundir"),
          "evo.views": (6, "views"), "evo.runner": (7, "runner"), "evo.cli": (8, "cli"), "evo.api": (9, "api"),
          "evo": (10, "package"), "evo.__main__": (10, "package")}


def floor(module: str) -> tuple[int, str]:
    prefix = max((p for p in FLOORS if module == p or module.startswith(p + ".")), key=len)
    return FLOORS[prefix]


def test_imports_only_go_down_the_floors():
    """A module imports its own room or a lower floor: never up, never a sibling room."""
    wrong = sorted(f"{src} (floor {floor(src)[0]}) -> {dst} (floor {floor(dst)[0]})"
                   for src, dsts in graph().items() for dst in dsts
                   if floor(dst)[1] != floor(src)[1] and floor(dst)[0] >= floor(src)[0])
    assert not wrong, "imports against the floors:\n" + "\n".join(wrong)
