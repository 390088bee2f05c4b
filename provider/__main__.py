"""Entry point of the component package: serves the components of ``components/`` to the engine.

Pulumi runs ``python <this folder> <engine address>``; see ``provider/host.py``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for `components`

from provider.host import host  # noqa: E402

if __name__ == "__main__":
    host()
