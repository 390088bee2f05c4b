"""The picture of a stack: its top-level components and what each waits for.

    python -m offline.graph dev --out build/dev

From a render's recording: one node per component directly under the stack, an edge A --> B when
a resource of B depends on a resource of A (``depends_on`` or an input), a dotted edge when B only
uses a provider A owns (a Kubernetes provider: B's objects go away before A's cluster). Writes
``graph.mmd`` (Mermaid; GitHub shows it in Markdown), ``graph.dot`` (Graphviz) and ``graph.svg``
when Graphviz's ``dot`` is on the PATH (Debian package ``graphviz``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

DEPENDS = "depends"
PROVIDER = "provider"


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    name: str
    resources: int


@dataclass(frozen=True)
class Graph:
    nodes: list[Node]
    edges: dict[tuple[str, str], str]
    """(from id, to id) -> ``depends`` or ``provider``; "to" waits for "from"."""


def component_graph(recording) -> Graph:
    by_urn = recording.by_urn()

    def owner(urn: str):
        """The outermost component above ``urn`` (or ``urn`` itself), below the stack."""
        found, r = None, by_urn.get(urn)
        while r is not None:
            if not r.custom:
                found = r
            r = by_urn.get(r.parent)
        return found

    tops = sorted({o.urn: o for r in recording.registrations if (o := owner(r.urn))}.values(), key=lambda r: (r.type, r.name))
    ids = {r.urn: f"n{i}" for i, r in enumerate(tops)}
    counts = dict.fromkeys(ids, 0)
    edges: dict[tuple[str, str], str] = {}
    for r in recording.registrations:
        me = owner(r.urn)
        if not r.custom or me is None:
            continue
        counts[me.urn] += 1
        needs = set(r.dependencies).union(*r.property_dependencies.values())
        for kind, urns in ((DEPENDS, needs), (PROVIDER, {r.provider} if r.provider else set())):
            for urn in urns:
                other = owner(urn)
                key = (ids[other.urn], ids[me.urn]) if other is not None and other.urn != me.urn else None
                if key and (kind == DEPENDS or key not in edges):  # a dependency outranks a provider
                    edges[key] = kind
    nodes = [Node(ids[r.urn], r.type.rsplit(":", 1)[-1], r.name, counts[r.urn]) for r in tops]
    return Graph(nodes, dict(sorted(edges.items(), key=lambda e: (int(e[0][0][1:]), int(e[0][1][1:])))))


def _count(resources: int) -> str:
    return f"{resources} resource{'' if resources == 1 else 's'}"


def mermaid(graph: Graph) -> str:
    lines = ["flowchart LR"]
    lines += [f'  {n.id}["{n.type}<br/>{n.name}<br/><small>{_count(n.resources)}</small>"]' for n in graph.nodes]
    lines += [f"  {a} --> {b}" if kind == DEPENDS else f"  {a} -. provider .-> {b}" for (a, b), kind in graph.edges.items()]
    return "\n".join(lines) + "\n"


def dot(graph: Graph, title: str = "stack") -> str:
    lines = [f'digraph "{title}" {{', "  rankdir=LR;", '  node [shape=box, style=rounded, fontname="Helvetica"];']
    lines += [f'  {n.id} [label="{n.type}\\n{n.name}\\n{_count(n.resources)}"];' for n in graph.nodes]
    lines += [
        f"  {a} -> {b};" if kind == DEPENDS else f'  {a} -> {b} [style=dashed, label="provider"];' for (a, b), kind in graph.edges.items()
    ]
    return "\n".join(lines) + "\n}\n"


def svg(dot_source: str) -> str | None:
    """SVG from Graphviz's ``dot``; None when it is not installed."""
    if shutil.which("dot") is None:
        return None
    return subprocess.run(["dot", "-Tsvg"], input=dot_source, capture_output=True, text=True, check=True).stdout


def write(recording, out: Path) -> list[Path]:
    """Write ``graph.mmd``, ``graph.dot`` and (with Graphviz) ``graph.svg`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    graph = component_graph(recording)
    files = {"graph.mmd": mermaid(graph), "graph.dot": dot(graph, recording.stack)}
    image = svg(files["graph.dot"])
    if image is not None:
        files["graph.svg"] = image
    for name, text in files.items():
        (out / name).write_text(text)
    return [out / name for name in files]


def main(argv: list[str] | None = None) -> int:
    import warnings

    from offline.render import ROOT, render
    from stacks.errors import ConfigError

    parser = argparse.ArgumentParser(prog="python -m offline.graph", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--out", type=Path, help="output folder (default: build/<stack>)")
    parser.add_argument("--root", type=Path, default=ROOT, help="project folder with __main__.py and the stack files")
    options = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    try:
        recording = render(options.stack, options.root)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in write(recording, options.out or options.root / "build" / options.stack):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
