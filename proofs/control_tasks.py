"""The negative controls as tasks: each control's wrong rule, and the obligations that must
fail under it.

A control passes (for the suite) when every obligation it targets *fails* under its wrong
rule; one that proves is reported as missed. Where the failure has a shape, the row carries a
counterexample trace from the empty system when one can be replayed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from model.rules import Spec

from .availability import check_images_follow_availability, forget_revived
from .bmc import check_path
from .catalogue import MODELS, run_obligation
from .closure import check_closed
from .controls import CONTROLS, Control
from .coverage import Settings, situations
from .machine import MACHINE_CONTROLS
from .report import Row, control_row
from .shapes import reachable
from .state_claims import check_strong, weakened_invariant
from .traces import plain_trace
from .unbounded import CONTROL_OF, check_unbounded
from .verdicts import Outcome, rules_fail

# the closed set cut short: an enumeration that stops halfway is no induction, and must be caught
TRUNCATED_CONTROL = "enumeration-truncated"
# an invariant that says nothing about what volumes read proves nothing about it: it must fail
WEAKENED_CONTROL = "invariant-weakened"
# point-in-time rules that leave a volume which takes I/O without an image check nothing of it
FORGETFUL_CONTROL = "images-forget-revived"


def control_task(args: tuple[str, Settings]) -> list[Row]:
    """Worker: one control; each targeted obligation must fail (if the specification's rules
    raise before the control can be judged, it is missed, and says why)."""
    name, s = args
    try:
        return _control_rows(name, s)
    except Exception as err:
        detail = f"the control could not be judged: {rules_fail(err)}"
        return [Row(name, "control", "missed", False, 0.0, 0, detail)]


def _control_rows(name: str, s: Settings) -> list[Row]:
    rows = []
    if name in MACHINE_CONTROLS:
        control = MACHINE_CONTROLS[name]
        for o in control.outcomes():
            if o.name in control.must_fail:
                rows.append(control_row(f"{name} / {o.name}", o, control.what))
        return rows
    if name == FORGETFUL_CONTROL:
        spec = Spec(s.policy)
        o = check_images_follow_availability(situations(spec, s), forget_revived, spec)
        rule = "a target revived by a forced delete is online with no image"
        return [control_row(f"{name} / images-follow-availability", o, rule)]
    if name == WEAKENED_CONTROL:
        spec = Spec(s.policy)
        o = check_strong(spec, situations(spec, s), weakened_invariant)
        rule = "the invariant without its refinement part (only incremental agreement)"
        return [control_row(f"{name} / invariant-strong", o, rule)]
    if name == TRUNCATED_CONTROL:
        spec = Spec(s.policy)
        every = reachable(spec, s.volumes)  # in the order found: its first half is a cut-short run
        o = check_closed(spec, every[: len(every) // 2])
        rule = "the shapes n volumes reach, enumerated only halfway"
        return [control_row(f"{name} / covered-set-closed", o, rule)]
    ob = name.removesuffix("-control")
    for control_of, wrong_rules, check in MODELS:
        if ob in control_of:
            o = check(control_of[ob], {ob})[0]
            return [control_row(f"{name} / {ob}", o, wrong_rules[control_of[ob]])]
    if name.startswith("unbounded-"):
        o = check_unbounded(CONTROL_OF[ob], {ob})[0]
        return [control_row(f"{name} / {ob}", o, f"the wrong {CONTROL_OF[ob]} rule")]
    control = next(c for c in CONTROLS if c.name == name)
    for target in control.must_fail:
        o = run_obligation(target, s, control.make())
        row = control_row(f"{name} / {target}", o, control.rule)
        if o.failure is not None and o.failure.situation is not None:
            try:
                row.trace, words = _vocabulary(control, o)
            except Exception:
                row.trace, words = None, ""
            if words:
                row.detail += f"\nreplayable: {words}"
        rows.append(row)
    return rows


def _vocabulary(control: Control, o: Outcome) -> tuple[dict[str, Any] | None, str]:
    """A counterexample trace from the empty system along the failing shape's path."""
    assert o.failure is not None and o.failure.situation is not None
    if o.failure.situation.family.startswith("group-"):
        return None, ""  # built, not reached from the empty system: no replayable path
    spec = control.make()
    path = list(o.failure.situation.path)
    if o.failure.step is not None and not o.failure.step.data:
        path.append(o.failure.step)
    n = len(o.failure.situation.shape.volumes)
    for m in (1, 2):
        failed, cx = check_path(spec, n, path, m)
        if cx is not None:
            return cx.trace(), cx.explain()
        if failed:
            break
    if o.failure.step is not None and o.failure.step.data:  # a claim about copies
        path.append(o.failure.step)
    steps = "; ".join(st.label() for st in path)
    return plain_trace(spec, n, path), f"the copies of: {steps}"


CONTROL_NAMES = (
    *(c.name for c in CONTROLS),
    *MACHINE_CONTROLS,
    TRUNCATED_CONTROL,
    WEAKENED_CONTROL,
    FORGETFUL_CONTROL,
    *(f"{ob}-control" for ob in CONTROL_OF),
    *(f"{ob}-control" for control_of, _, _ in MODELS for ob in control_of),
)


def control_settings(s: Settings) -> Settings:
    """Where the controls are checked: as asked, but at no more than the default two volumes
    and cascade length K = 6. A control shows that its obligation can fail; the default
    coverage shows it for every control, and more volumes or longer cascades widen what the
    obligations cover, not that (at three volumes the controls whose failure is vacuity would
    walk all 29,012 shapes before failing, at K = 8 a third more families). The controls are
    wrong per-type rules, so they are checked under the per-type policy."""
    return replace(
        s,
        volumes=min(s.volumes, Settings.volumes),
        bound=min(s.bound, Settings.bound),
        policy=Settings.policy,
    )


def targets_of(control: str) -> tuple[str, ...]:
    """The obligations a control (by name) must make fail."""
    if control in MACHINE_CONTROLS:
        return MACHINE_CONTROLS[control].must_fail
    if control.endswith("-control"):
        return (control.removesuffix("-control"),)
    if control == TRUNCATED_CONTROL:
        return ("covered-set-closed",)
    if control == WEAKENED_CONTROL:
        return ("invariant-strong",)
    if control == FORGETFUL_CONTROL:
        return ("images-follow-availability",)
    return next(c.must_fail for c in CONTROLS if c.name == control)
