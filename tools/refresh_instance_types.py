"""Re-create ``upstream/instance-types.json``: the EC2 facts the scheduling model plans with.

Only the instance types the platform uses (the GPU catalog, ``components/cluster/gpu_catalog.py``,
and the system and CPU node groups' types, ``components/cluster/capacity.py``) are vendored, each
row as upstream publishes it:

* vCPU, memory (MiB) and GPUs from kubernetes/autoscaler
  ``cluster-autoscaler/cloudprovider/aws/ec2_instance_types.go`` at the cluster-autoscaler tag
  (the static table the autoscaler itself plans node groups with);
* ENIs and IPv4 addresses per ENI from awslabs/amazon-eks-ami
  ``nodeadm/internal/kubelet/instance-info.jsonl`` (what nodeadm computes max pods from on AL2023).

    python tools/refresh_instance_types.py                                 # from GitHub (network)
    python tools/refresh_instance_types.py --autoscaler-git DIR --eks-ami-git DIR   # local git mirrors
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from components.cluster.capacity import INSTANCE_DATA, vendored_instance_types  # noqa: E402

AUTOSCALER = {
    "repo": "kubernetes/autoscaler",
    "path": "cluster-autoscaler/cloudprovider/aws/ec2_instance_types.go",
    "tag": "cluster-autoscaler-1.35.0",
    "commit": "25fc5c74f6b0f2382b65f76edc08e15ac9f41da7",
}
EKS_AMI = {
    "repo": "awslabs/amazon-eks-ami",
    "path": "nodeadm/internal/kubelet/instance-info.jsonl",
    "tag": "main",
    "commit": "81fec2e895854f599974fe4d3d72f61c0a9aaffa",
}
_GO_ENTRY = re.compile(r'^\t"(?P<name>[^"]+)": \{\n(?P<body>(?:\t\t.*\n)+?)\t\},', re.M)
_GO_FIELD = re.compile(r"^\t\t(\w+):\s+(.+?),?$", re.M)


def _read(source: dict[str, str], git_dir: Path | None) -> str:
    if git_dir is not None:
        return subprocess.run(
            ["git", f"--git-dir={git_dir}", "show", f"{source['commit']}:{source['path']}"], check=True, capture_output=True, text=True
        ).stdout
    url = f"https://raw.githubusercontent.com/{source['repo']}/{source['commit']}/{source['path']}"
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (fixed https URL)
        return response.read().decode()


def autoscaler_rows(text: str, names: set[str]) -> dict[str, dict[str, int]]:
    rows = {}
    for match in _GO_ENTRY.finditer(text):
        if match["name"] in names:
            fields = dict(_GO_FIELD.findall(match["body"]))
            rows[match["name"]] = {"vcpu": int(fields["VCPU"]), "memoryMib": int(fields["MemoryMb"]), "gpus": int(fields["GPU"])}
    return rows


def eks_ami_rows(text: str, names: set[str]) -> dict[str, dict[str, int]]:
    rows = {}
    for line in text.splitlines():
        row = json.loads(line) if line.strip() else None
        if row and row["instanceType"] in names:
            rows[row["instanceType"]] = {"enis": row["defaultMaxENIs"], "ipsPerEni": row["ipv4AddressesPerInterface"]}
    return rows


def build(autoscaler_text: str, eks_ami_text: str) -> dict:
    names = set(vendored_instance_types())
    sizes, network = autoscaler_rows(autoscaler_text, names), eks_ami_rows(eks_ami_text, names)
    complete = sorted(set(sizes) & set(network))
    return {
        "sources": {"sizes": AUTOSCALER, "network": EKS_AMI},
        "license": "Apache-2.0 (both projects)",
        "instanceTypes": {name: {**sizes[name], **network[name]} for name in complete},
        # In the catalog but not in both tables (p5e.48xlarge is not in the autoscaler's static
        # list at this tag): the model cannot size such a pool and says so.
        "missing": {
            name: [s for s, rows in (("sizes", sizes), ("network", network)) if name not in rows] for name in sorted(names - set(complete))
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--autoscaler-git", type=Path, help="git dir of a kubernetes/autoscaler mirror")
    parser.add_argument("--eks-ami-git", type=Path, help="git dir of an awslabs/amazon-eks-ami mirror")
    parser.add_argument("--out", type=Path, default=INSTANCE_DATA)
    args = parser.parse_args(argv)
    data = build(_read(AUTOSCALER, args.autoscaler_git), _read(EKS_AMI, args.eks_ami_git))
    args.out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(data['instanceTypes'])} instance types to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
