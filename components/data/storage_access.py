"""How a workload reaches the object store: ``StoreAccess`` and ``ObjectStoreLike``.

The contract itself is declared in :mod:`components.core.contracts` (section "data"); this module
re-exports it for the consumers that import it from the data layer.
"""

from __future__ import annotations

from ..core.contracts import ACCESS_KEY_ID, SECRET_ACCESS_KEY, ObjectStoreLike, StoreAccess

__all__ = ["ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "ObjectStoreLike", "StoreAccess"]
