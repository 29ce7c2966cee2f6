"""Every batch of the self-audit's wrong rules, registered in `wrong_rules.WRONG` on import
(batch A is `wrong_rules.py` itself; B-H are `wrong_rules_b.py` .. `wrong_rules_h.py`)."""

from __future__ import annotations

import wrong_rules_b  # noqa: F401
import wrong_rules_c  # noqa: F401
import wrong_rules_d  # noqa: F401
import wrong_rules_e  # noqa: F401
import wrong_rules_f  # noqa: F401
import wrong_rules_g  # noqa: F401
import wrong_rules_h  # noqa: F401
from wrong_rules import BATCH, WRONG

__all__ = ["BATCH", "WRONG"]
