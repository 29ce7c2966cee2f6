"""What `pip install .` ships: every package of the four layers."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).parent.parent


def test_every_layer_package_is_shipped() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    shipped = set(find_packages(str(ROOT), include=include))
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for layer in ("model", "reference", "harness", "proofs")
        for p in (ROOT / layer).rglob("__init__.py")
    }
    assert on_disk <= shipped
    assert all(any(fnmatch(name, pattern) for pattern in include) for name in shipped)


def test_console_script_points_at_the_cli() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert config["project"]["scripts"]["cascadecheck"] == "harness.cli:main"


def test_the_scenario_corpus_is_shipped_with_the_harness() -> None:
    """`check` replays harness/scenarios/ first, installed or not: they are package data."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data = config["tool"]["setuptools"]["package-data"]["harness"]
    scenarios = sorted((ROOT / "harness" / "scenarios").glob("*.json"))
    assert scenarios and all(
        any(fnmatch(str(p.relative_to(ROOT / "harness")), pattern) for pattern in data)
        for p in scenarios
    )
