"""The four layers import only what the design allows, and no module imports in a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).parent.parent
LAYERS = ("model", "reference", "harness", "proofs")
# harness reaches implementations only through the driver vocabulary (drivers load them by name)
ALLOWED = {
    "model": {"model"},
    "reference": {"reference"},
    "proofs": {"proofs", "model"},
    "harness": {"harness", "model", "proofs"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Fully qualified project modules a file imports."""
    tree = ast.parse(path.read_text())
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{alias.name}" for alias in node.names)
    return {m for m in out if m.split(".")[0] in LAYERS}


def _graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    files = [p for layer in LAYERS for p in (ROOT / layer).rglob("*.py")]
    modules = {_module_name(p) for p in files}
    for path in files:
        name = _module_name(path)
        graph.add_node(name)
        for target in _imports(path):
            while target and target not in modules:  # `from x import name` of a non-module
                target = target.rpartition(".")[0]
            if target and target != name:
                graph.add_edge(name, target)
    return graph


def test_layers_import_only_what_they_may() -> None:
    bad = [
        (src, dst)
        for src, dst in _graph().edges
        if dst.split(".")[0] not in ALLOWED[src.split(".")[0]]
    ]
    assert bad == []


# the harness's own parts, lowest first: each imports only itself and parts below it
HARNESS_PARTS = (
    "protocol",  # the vocabulary's schemas
    "drivers",  # how an implementation is reached
    "trace",  # trace files and replay
    "core",  # the lockstep session, the oracle, the step check
    "generate",  # Hypothesis generation and coverage
    "campaign",  # corpus, campaign, shrinking, verdicts
    "views",  # walks and pictures for learners
    "commands",  # the subcommands
)


def _part(module: str) -> int:
    parts = module.split(".")
    if parts[0] != "harness" or len(parts) < 2:
        return -1
    return HARNESS_PARTS.index(parts[1]) if parts[1] in HARNESS_PARTS else len(HARNESS_PARTS)


def test_harness_parts_import_only_downwards() -> None:
    upward = [
        (src, dst)
        for src, dst in _graph().edges
        if src.startswith("harness.") and dst.startswith("harness.") and _part(dst) > _part(src)
    ]
    assert upward == []


def test_harness_modules_stay_small() -> None:
    big = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "harness").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert big == {}


def test_no_import_cycles() -> None:
    graph = _graph()
    # a package's __init__ re-exporting its own modules is not a cycle between ideas
    graph.remove_edges_from([(u, v) for u, v in list(graph.edges) if v.startswith(u + ".")])
    cycles = list(nx.simple_cycles(graph))
    assert cycles == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = ROOT / "model" / "_layering_probe.py"
    bad.write_text("from reference import Engine\n")
    try:
        assert ("model._layering_probe", "reference") in _graph().edges
    finally:
        bad.unlink()


def test_every_layer_has_a_readme() -> None:
    for layer in LAYERS:
        assert (ROOT / layer / "README.md").read_text().strip()
