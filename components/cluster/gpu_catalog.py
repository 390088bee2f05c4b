"""Facts about the EC2 GPU instance types a GpuNodePool may use.

The figures (GPU model and count, EFA network cards, NVMe instance store) come from the
EC2 instance type pages (https://aws.amazon.com/ec2/instance-types/) and the MIG profile
tables from NVIDIA's MIG user guide; stack config validation and the node pool both read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GpuModel:
    name: str
    """Short accelerator label value, e.g. ``nvidia-h100-80gb``."""
    mig_slices: dict[str, int] = field(default_factory=dict)
    """MIG device profile -> devices per GPU; empty when the GPU has no MIG."""
    mig_balanced: dict[str, int] = field(default_factory=dict)
    """Devices per GPU in mig-parted's ``all-balanced`` layout."""

    @property
    def supports_mig(self) -> bool:
        return bool(self.mig_slices)


def _mig(sizes: tuple[str, str, str, str, str, str]) -> dict[str, int]:
    """The six MIG profiles NVIDIA defines for a data-center GPU, with their device counts."""
    return dict(zip(sizes, (7, 4, 3, 2, 1, 1), strict=True))


T4 = GpuModel("nvidia-t4")
A10G = GpuModel("nvidia-a10g")
L4 = GpuModel("nvidia-l4")
L40S = GpuModel("nvidia-l40s")
A100_40GB = GpuModel(
    "nvidia-a100-40gb",
    _mig(("1g.5gb", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb")),
    {"1g.5gb": 2, "2g.10gb": 1, "3g.20gb": 1},
)
A100_80GB = GpuModel(
    "nvidia-a100-80gb",
    _mig(("1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb")),
    {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1},
)
H100_80GB = GpuModel("nvidia-h100-80gb", A100_80GB.mig_slices, A100_80GB.mig_balanced)
H200_141GB = GpuModel(
    "nvidia-h200-141gb",
    _mig(("1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb")),
    {"1g.18gb": 2, "2g.35gb": 1, "3g.71gb": 1},
)
B200_180GB = GpuModel(
    "nvidia-b200-180gb",
    _mig(("1g.23gb", "1g.45gb", "2g.45gb", "3g.90gb", "4g.90gb", "7g.180gb")),
    {"1g.23gb": 2, "2g.45gb": 1, "3g.90gb": 1},
)


@dataclass(frozen=True)
class GpuInstanceType:
    name: str
    gpu: GpuModel
    gpus: int
    efa_interfaces: int = 0
    """Network cards that carry an EFA interface; 0 when the type has no EFA."""
    nvme: bool = True

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]


def _sizes(family: str, gpu: GpuModel, rows: list[tuple[str, int, int]]) -> list[GpuInstanceType]:
    return [GpuInstanceType(f"{family}.{size}", gpu, gpus, efa) for size, gpus, efa in rows]


# (size, GPUs, EFA network cards)
_G_SERIES_SIZES = [
    ("xlarge", 1, 0),
    ("2xlarge", 1, 0),
    ("4xlarge", 1, 0),
    ("8xlarge", 1, 1),
    ("12xlarge", 4, 1),
    ("16xlarge", 1, 1),
]

GPU_INSTANCE_TYPES: dict[str, GpuInstanceType] = {
    t.name: t
    for t in [
        *_sizes("g4dn", T4, [*_G_SERIES_SIZES, ("metal", 8, 1)]),
        *_sizes("g5", A10G, [*_G_SERIES_SIZES, ("24xlarge", 4, 1), ("48xlarge", 8, 1)]),
        *_sizes("g6", L4, [*_G_SERIES_SIZES, ("24xlarge", 4, 1), ("48xlarge", 8, 1)]),
        *_sizes("g6e", L40S, [*_G_SERIES_SIZES, ("24xlarge", 4, 2), ("48xlarge", 8, 4)]),
        GpuInstanceType("p4d.24xlarge", A100_40GB, 8, 4),
        GpuInstanceType("p4de.24xlarge", A100_80GB, 8, 4),
        GpuInstanceType("p5.48xlarge", H100_80GB, 8, 32),
        GpuInstanceType("p5e.48xlarge", H200_141GB, 8, 32),
        GpuInstanceType("p5en.48xlarge", H200_141GB, 8, 16),
        GpuInstanceType("p6-b200.48xlarge", B200_180GB, 8, 8),
    ]
}

GPU_FAMILIES = sorted({t.family for t in GPU_INSTANCE_TYPES.values()})


def mig_profiles(gpu: GpuModel) -> list[str]:
    """The mig-parted config names a pool may select for this GPU (``all-<profile>``)."""
    if not gpu.supports_mig:
        return []
    return ["all-balanced", *(f"all-{p}" for p in gpu.mig_slices)]


def mig_devices(gpu: GpuModel, profile: str) -> dict[str, int]:
    """MIG devices per GPU that ``profile`` (a name from :func:`mig_profiles`) creates."""
    if profile == "all-balanced":
        return dict(gpu.mig_balanced)
    return {profile.removeprefix("all-"): gpu.mig_slices[profile.removeprefix("all-")]}


def gpu_resources(instance: GpuInstanceType, mig_profile: str | None, mig_strategy: str, replicas: int | None) -> dict[str, int]:
    """Extended resources one node advertises, as the device plugin will name them."""
    share = replicas or 1
    if not mig_profile:
        return {"nvidia.com/gpu": instance.gpus * share}
    devices = mig_devices(instance.gpu, mig_profile)
    if mig_strategy == "single":
        return {"nvidia.com/gpu": instance.gpus * sum(devices.values()) * share}
    return {f"nvidia.com/mig-{size}": instance.gpus * count * share for size, count in devices.items()}
