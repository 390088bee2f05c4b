"""Offline render: run the real program under Pulumi's mock runtime and write what it declares.

    python -m offline.render dev --out build/dev

Writes ``plan.json`` (every resource with urn, type, parent, provider, dependencies, options and
inputs, secrets masked), ``manifests/<component>.yaml`` (every Kubernetes object),
``helm/<release>.yaml`` (chart, version and values of every Helm release),
``charts/<release>/{crds,objects}.yaml`` (what each release's pinned chart makes of those values: the
Helm SDK renders it from the chart cache, see ``offline/charts.py``; skipped, with one line saying so,
when the cache is empty) and ``graph.mmd`` /
``graph.dot`` / ``graph.svg`` (the components and what each waits for, see ``offline/graph.py``;
the SVG when Graphviz is installed) and ``placement.txt`` / ``placement.json`` (where every pod
lands, see ``offline/scheduling.py``) and ``reachability.md`` / ``reachability.json`` (who reaches
whom under the NetworkPolicies, see ``offline/reachability.py``), then prints a summary and the placement table.
No cloud credentials, Pulumi CLI or cluster needed; the output is byte-identical between runs.
"""

from __future__ import annotations

import argparse
import json
import runpy
import shutil
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from offline import charts, graph

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = "[secure-placeholder]"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


# libyaml's emitter when PyYAML has it (same output, several times faster than the pure-Python one).
class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """libyaml's emitter when PyYAML has it (several times faster); multi-line strings (scripts,
    configs, dashboards) as literal blocks, so a diff of the render reads like the file."""


def _literal_multiline(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not value.endswith((" ", "\t")) and " \n" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _literal_multiline)
DUMPER = _Dumper


def stack_config(stack: str, root: Path = ROOT) -> tuple[dict[str, str], list[str]]:
    """Config of ``Pulumi.<stack>.yaml`` as the engine hands it to a program (objects as JSON
    text); ``secure:`` values become placeholders."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        stacks = sorted(p.name.split(".")[1] for p in root.glob("Pulumi.*.yaml"))
        raise SystemExit(f"error: no stack file {path.name}; stacks: {', '.join(stacks)}")
    from stacks.stack_file import read_stack_file

    config, secret_keys = {}, []
    for key, value in read_stack_file(path).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key], value = PLACEHOLDER, None
            secret_keys.append(key)
        elif isinstance(value, str):
            config[key] = value
        else:
            config[key] = json.dumps(value)
    return config, secret_keys


def render(stack: str, root: Path = ROOT, mocks=None, recording=None):
    """Run ``__main__.py`` of ``root`` for ``stack`` under mocks (``offline.mockruntime.PlatformMocks``
    for the stack's region unless given); return the recording (``recording``, when given, holds
    what registered even when the program raises)."""
    from offline.mockruntime import PlatformMocks, run_program

    config, secret_keys = stack_config(stack, root)
    region = config.get("aws:region", "us-west-2")
    return run_program(
        lambda: runpy.run_path(str(root / "__main__.py"), run_name="__main__"),
        stack=stack,
        config=config,
        secret_keys=secret_keys,
        region=region,
        mocks=mocks or PlatformMocks(region),
        recording=recording,
    )


def kubernetes_objects(recording) -> dict[str, list[dict[str, Any]]]:
    """Kubernetes objects (not Helm releases or providers) grouped by their nearest component."""
    by_urn = recording.by_urn()
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in recording.registrations:
        if not r.custom or not r.type.startswith("kubernetes:") or r.type == HELM_RELEASE:
            continue
        owner = by_urn.get(r.parent)
        while owner is not None and owner.custom:
            owner = by_urn.get(owner.parent)
        groups.setdefault(owner.name if owner else "stack", []).append(r.inputs)
    return groups


def helm_releases(recording) -> dict[str, dict[str, Any]]:
    return {
        r.inputs.get("name", r.name): {
            "chart": r.inputs.get("chart", "").rsplit("/", 1)[-1],  # oci://.../<name> -> <name>
            "version": r.inputs.get("version"),
            "repo": r.inputs.get("repositoryOpts", {}).get("repo") or r.inputs.get("chart", "").rsplit("/", 1)[0],
            "namespace": r.inputs.get("namespace"),
            "values": r.inputs.get("values", {}),
        }
        for r in recording.of_type(HELM_RELEASE)
    }


def _dump_all(documents: list[dict]) -> str:
    ordered = sorted(documents, key=lambda d: (d.get("kind", ""), json.dumps(d.get("metadata", {}), sort_keys=True)))
    return yaml.dump_all(ordered, Dumper=DUMPER, sort_keys=True, default_flow_style=False)


def expand(recording) -> dict[str, charts.Expansion]:
    """Every Helm release of ``recording`` rendered with its pinned chart for the stack's Kubernetes version
    (:func:`offline.charts.expand_releases`); raises :class:`offline.charts.ChartCacheMissError`."""
    return charts.expand_releases(helm_releases(recording), recording.outputs["kubernetesVersion"])


def expand_if_cached(recording) -> tuple[dict[str, charts.Expansion] | None, str]:
    """The expanded releases and their summary; None and the reason when the chart tools or the
    cached charts are missing."""
    tools = charts.missing_tools()
    if tools:
        return None, f"charts: not expanded: {', '.join(tools)} not installed (pip install -r requirements-dev.txt)"
    absent = charts.missing(helm_releases(recording))
    if absent:
        return None, f"charts: not expanded: the chart cache {charts.cache_dir()} lacks {', '.join(absent)} ({charts.FILL_HINT})"
    expansions = expand(recording)
    return expansions, charts_summary(expansions)


def write_charts(expansions: dict[str, charts.Expansion], out: Path) -> None:
    """``charts/<release>/crds.yaml`` (the CRDs it installs) and ``objects.yaml`` (everything else)."""
    for name, expansion in expansions.items():
        folder = out / "charts" / name
        folder.mkdir(parents=True)
        crds = expansion.crds()
        if crds:
            (folder / "crds.yaml").write_text(_dump_all(crds))
        others = [o for o in expansion.objects if o.get("kind") != "CustomResourceDefinition"]
        if others:
            (folder / "objects.yaml").write_text(_dump_all(others))


def charts_summary(expansions: dict[str, charts.Expansion]) -> str:
    lines = [f"charts: {sum(len(e.objects) for e in expansions.values())} objects from {len(expansions)} releases"]
    width = max((len(n) for n in expansions), default=0)
    lines += [f"  {n:<{width}}  {e.chart}: {len(e.objects)} objects ({len(e.crds())} CRDs)" for n, e in expansions.items()]
    return "\n".join(lines)


def write(recording, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    (out / "manifests").mkdir(parents=True)
    (out / "helm").mkdir()
    plan = {
        "stack": recording.stack,
        "resources": [r.to_json() for r in recording.registrations],
        "outputs": recording.outputs,
    }
    (out / "plan.json").write_text(json.dumps(plan, indent=2, sort_keys=True) + "\n")
    for component, objects in sorted(kubernetes_objects(recording).items()):
        (out / "manifests" / f"{component}.yaml").write_text(_dump_all(objects))
    for release, spec in sorted(helm_releases(recording).items()):
        (out / "helm" / f"{release}.yaml").write_text(yaml.dump(spec, Dumper=DUMPER, sort_keys=True))
    graph.write(recording, out)


def summary(recording) -> str:
    by_urn = recording.by_urn()
    components: Counter = Counter()
    for r in recording.registrations:
        owner = by_urn.get(r.parent)
        while owner is not None and owner.custom:
            owner = by_urn.get(owner.parent)
        if r.custom:
            components[f"{owner.type.split(':')[-1]} {owner.name}" if owner else "(stack)"] += 1
    types = Counter(r.type for r in recording.registrations if r.custom)
    lines = [f"stack {recording.stack}: {sum(types.values())} resources, {len(recording.registrations) - sum(types.values())} components"]
    lines += ["", "resources per component:"] + [f"  {n:4d}  {c}" for c, n in sorted(components.items())]
    lines += ["", "resources per type:"] + [f"  {n:4d}  {t}" for t, n in sorted(types.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline.render", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--out", type=Path, help="output folder (default: build/<stack>)")
    parser.add_argument("--root", type=Path, default=ROOT, help="project folder with __main__.py and the stack files")
    options = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=DeprecationWarning)

    from offline import deploy_time, reachability, scheduling
    from stacks.errors import ConfigError

    started = time.perf_counter()
    try:
        recording = render(options.stack, options.root)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = options.out or options.root / "build" / options.stack
    write(recording, out)
    expansions, charts_text = expand_if_cached(recording)
    if expansions is not None:
        write_charts(expansions, out)
    objects = [o for group in kubernetes_objects(recording).values() for o in group]
    placement_text, placement_data = scheduling.report(options.stack, objects, options.root, expansions)
    scheduling.write(out, placement_text, placement_data)
    reachability.write(out, options.stack)
    print(summary(recording))
    print()
    print(deploy_time.report(recording))
    print()
    print(charts_text)
    print()
    print(placement_text, end="")
    print(f"\nwrote {out} in {time.perf_counter() - started:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
