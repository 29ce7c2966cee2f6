"""The cascade rules, one method each. `Spec` is the specification; a negative control is a
subclass that overrides exactly one rule with a deliberately wrong one."""

from __future__ import annotations

from .lifecycle import LifecycleRules


class Spec(LifecycleRules):
    """Cascaded point-in-time copy under a cascade policy (`per-type` or `mixed`)."""

    def __init__(self, policy: str = "per-type") -> None:
        self.policy = policy

    @property
    def name(self) -> str:
        """How reports name this specification."""
        return f"spec[{self.policy}]"


__all__ = ["Spec"]
