"""Where the upstream data files live (CRDs, chart values): ../shared next to the repository,
or the folder named by ``AI_PLATFORM_SHARED``. They are read from there, never copied in."""

from __future__ import annotations

import os
from pathlib import Path

SHARED_DIR = Path(os.environ.get("AI_PLATFORM_SHARED") or Path(__file__).resolve().parents[2] / "shared")
CRDS_DIR = SHARED_DIR / "schemas" / "crds"
CHARTS_DIR = SHARED_DIR / "charts"
