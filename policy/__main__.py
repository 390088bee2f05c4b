"""Entry point the Pulumi CLI runs for ``pulumi preview --policy-pack policy``.

The CLI runs this folder with the folder itself on ``sys.path``; putting its parent there too lets
the rule modules be imported as the package ``policy``, the same objects the offline tests run.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy import PACK_NAME, POLICIES  # noqa: E402

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
