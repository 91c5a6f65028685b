"""No code outside master/ and persist/ reaches through the master to its collaborators.

The collaborators are read from ``Master.__init__`` (every ``self.<name> = ...`` except
plain values), so a new one is covered without editing this test; ``store`` is the old
name of the cluster view and stays forbidden.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import siltfs

SRC = Path(siltfs.__file__).parent
ALLOWED_DIRS = {"master", "persist"}
VALUES = {"config", "last_check", "op_metrics", "registry"}  # not collaborators


def collaborators() -> set[str]:
    tree = ast.parse((SRC / "master" / "master.py").read_text())
    master = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Master")
    init = next(n for n in master.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    names = {
        target.attr
        for node in ast.walk(init)
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    }
    return (names - VALUES) | {"store"}


def hop_pattern(names: set[str]) -> re.Pattern[str]:
    """``master.<collaborator>`` (also ``_master.``), but not a module path such as
    ``siltfs.master.cluster``."""
    alternatives = "|".join(sorted(names))
    return re.compile(rf"(?<![\w.])(?:[\w.]*\.)?_?master\.({alternatives})\b(?!\s*import)")


def hops(pattern: re.Pattern[str]) -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if rel.parts[0] in ALLOWED_DIRS:
            continue
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            for match in pattern.finditer(line):
                if match.group(0).startswith("siltfs."):
                    continue  # a module path
                found.append(f"{rel}:{lineno}: {match.group(0)}  ({line.strip()})")
    return found


def test_the_collaborators_are_found() -> None:
    names = collaborators()
    assert {"ns", "ms", "blocks", "persister", "jobs", "runner", "mounts", "store"} <= names
    assert not names & VALUES


def test_the_pattern_sees_a_hop_and_not_a_module_path() -> None:
    pattern = hop_pattern(collaborators())
    for hop in (
        "x = fs.master.store.overview()",
        "self._master.ms.close()",
        "with master.ms.snapshot() as txn:",
        "client.master.ns.lookup(p)",
        "self.master.persister.remove_staging_dir_if_empty(u)",
    ):
        assert pattern.search(hop), hop
    for fine in (
        "from siltfs.master.cluster import Cluster",
        "import siltfs.master.namespace",
        "fs.master.path_of_inode(inode_id)",
        "self.master.config.persist",
        "fs.master.last_check",
    ):
        match = pattern.search(fine)
        assert match is None or match.group(0).startswith("siltfs."), fine


def test_no_code_outside_master_and_persist_reaches_through_the_master() -> None:
    found = hops(hop_pattern(collaborators()))
    assert not found, "reach-through hops (add a method to Master instead):\n" + "\n".join(found)
