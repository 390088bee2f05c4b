"""Digests of both stacks' offline renders: record them, or compare against a recorded list.

    python tools/render_digest.py                       # print sha256 of every rendered file
    python tools/render_digest.py --check FILE          # exit 1 if any file differs from FILE

A change that must not alter what the program declares (a refactor) keeps the digests equal;
docs/renders/ holds the lists recorded at milestones. Graphviz's SVG is left out: it depends on
the installed Graphviz, not on the program.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("dev", "prod")


def digests(out: Path) -> dict[str, str]:
    """``stack/relative/path`` -> sha256 of each file the render wrote (SVG excepted)."""
    for stack in STACKS:
        subprocess.run(
            [sys.executable, "-m", "offline.render", stack, "--out", str(out / stack)], cwd=ROOT, check=True, capture_output=True
        )
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.suffix != ".svg")
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def parse(text: str) -> dict[str, str]:
    pairs = (line.split(maxsplit=1) for line in text.splitlines() if line.strip())
    return {path: digest for digest, path in pairs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", type=Path, help="a recorded list (sha256 and path per line) to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        now = digests(Path(tmp))
    if args.check is None:
        print("\n".join(f"{digest}  {path}" for path, digest in now.items()))
        return 0
    recorded = parse(args.check.read_text())
    changed = sorted(p for p in set(now) | set(recorded) if now.get(p) != recorded.get(p))
    for path in changed:
        print(f"differs: {path}")
    print(f"{len(now)} files, {len(changed)} differ from {args.check}")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
