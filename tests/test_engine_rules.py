"""One test (or a few) per grain-level rule of the reference engine, with pinned data."""

from __future__ import annotations

import networkx as nx
import pytest

from reference import Engine

from .helpers import chain, clone, copies, fill, ok, read, refused, snap, volumes


@pytest.fixture
def e() -> Engine:
    return Engine(grain_size=2, policy="per-type")


# -- insertion ---------------------------------------------------------------------


def test_new_target_goes_directly_after_its_source(e: Engine) -> None:
    volumes(e, 4, "S", "T1", "T2", "T3")
    for i in (1, 2, 3):
        snap(e, f"m{i}", "S", f"T{i}")
    assert chain(e) == [["S", "T3", "T2", "T1"]]


def test_target_of_a_target_goes_directly_after_it(e: Engine) -> None:
    volumes(e, 4, "A", "B", "C", "D")
    snap(e, "ab", "A", "B")
    snap(e, "ac", "A", "C")
    snap(e, "bd", "B", "D")  # B is a target: D joins right after B, not after A
    assert chain(e) == [["A", "C", "B", "D"]]


def test_insertion_preserves_every_image(e: Engine) -> None:
    volumes(e, 6, "S", "T1", "T2")
    a = fill(e, "S", "a")
    snap(e, "m1", "S", "T1")
    b = fill(e, "S", "b")
    snap(e, "m2", "S", "T2")
    assert read(e, "T1") == a and read(e, "T2") == b and read(e, "S") == b


def test_per_type_separates_clones_from_snapshots(e: Engine) -> None:
    volumes(e, 4, "P", "K1", "K2", "S1", "S2")
    snap(e, "s1", "P", "S1")
    clone(e, "k1", "P", "K1")
    snap(e, "s2", "P", "S2")
    clone(e, "k2", "P", "K2")
    assert chain(e) == [["P", "S2", "S1"], ["P", "K2", "K1"]]


def test_mixed_policy_keeps_one_cascade() -> None:
    e = Engine(grain_size=2, policy="mixed")
    volumes(e, 4, "P", "K1", "S1")
    snap(e, "s1", "P", "S1")
    clone(e, "k1", "P", "K1")
    assert chain(e) == [["P", "K1", "S1"]]


def test_snapshot_of_a_clone_starts_a_cascade_headed_by_the_clone_image(e: Engine) -> None:
    volumes(e, 4, "P", "K", "X")
    clone(e, "k", "P", "K")
    snap(e, "x", "K", "X")
    cascades = ok(e, "cascades")["cascades"]
    assert [(c["volumes"], c["head_mode"]) for c in cascades] == [
        (["P", "K"], "physical"),
        (["K", "X"], "image"),
    ]


# -- writes --------------------------------------------------------------------------


def test_source_write_copies_only_into_the_newest_target(e: Engine) -> None:
    volumes(e, 4, "S", "T1", "T2", "T3")
    fill(e, "S", "a")
    for i in (1, 2, 3):
        snap(e, f"m{i}", "S", f"T{i}")
    answer = ok(e, "write", volume="S", block=0, data=["x", "y"])
    assert copies(answer) == [("cow", 0, "S", "T3")]
    assert read(e, "T1") == ["a0", "a1", "a2", "a3"]


def test_source_write_costs_one_copy_per_cascade_whatever_the_number_of_targets(e: Engine) -> None:
    volumes(e, 2, "S", *(f"T{i}" for i in range(20)), *(f"K{i}" for i in range(5)))
    for i in range(20):
        snap(e, f"s{i}", "S", f"T{i}")
    for i in range(5):
        clone(e, f"k{i}", "S", f"K{i}")
    answer = ok(e, "write", volume="S", block=0, data=["x", "y"])
    assert len(answer["copies"]) == 2  # one per cascade (snapshot, clone)
    again = ok(e, "write", volume="S", block=0, data=["z", "w"])
    assert again["copies"] == []  # the grain is already split on the newest targets


def test_middle_target_write_preserves_downstream_then_fills(e: Engine) -> None:
    volumes(e, 4, "S", "T1", "T2", "T3")
    a = fill(e, "S", "a")
    for i in (1, 2, 3):
        snap(e, f"m{i}", "S", f"T{i}")
    # T2 is in the middle; a partial write to grain 1 of T2
    answer = ok(e, "write", volume="T2", block=2, data=["t"])
    assert copies(answer) == [("cow", 1, "S", "T1"), ("fill", 1, "S", "T2")]
    assert read(e, "T2") == ["a0", "a1", "t", "a3"]
    assert read(e, "T1") == a and read(e, "T3") == a and read(e, "S") == a


def test_whole_grain_write_to_a_target_needs_no_fill(e: Engine) -> None:
    volumes(e, 4, "S", "T1")
    fill(e, "S", "a")
    snap(e, "m1", "S", "T1")
    answer = ok(e, "write", volume="T1", block=0, data=["x", "y"])
    assert answer["copies"] == []
    assert read(e, "T1") == ["x", "y", "a2", "a3"]


def test_last_target_write_only_fills(e: Engine) -> None:
    volumes(e, 4, "S", "T1", "T2")
    fill(e, "S", "a")
    snap(e, "m1", "S", "T1")
    snap(e, "m2", "S", "T2")
    answer = ok(e, "write", volume="T1", block=1, data=["q"])
    assert copies(answer) == [("fill", 0, "S", "T1")]
    assert read(e, "T1") == ["a0", "q", "a2", "a3"]


def test_write_spanning_grains_handles_each_grain(e: Engine) -> None:
    volumes(e, 6, "S", "T1")
    fill(e, "S", "a")
    snap(e, "m1", "S", "T1")
    answer = ok(e, "write", volume="T1", block=1, data=["p", "q", "r", "s"])
    # grain 0 and grain 2 are partly written (filled first); grain 1 wholly (no fill)
    assert copies(answer) == [("fill", 0, "S", "T1"), ("fill", 2, "S", "T1")]
    assert read(e, "T1") == ["a0", "p", "q", "r", "s", "a5"]


def test_write_to_a_volume_in_two_cascades_preserves_both(e: Engine) -> None:
    volumes(e, 4, "P", "K", "X")
    fill(e, "P", "a")
    clone(e, "k", "P", "K", rate=1)
    snap(e, "x", "K", "X")  # K: target in the clone cascade, head of a snapshot cascade
    answer = ok(e, "write", volume="K", block=0, data=["k"])
    assert copies(answer) == [("cow", 0, "P", "X"), ("fill", 0, "P", "K")]
    assert read(e, "X") == ["a0", "a1", "a2", "a3"]
    assert read(e, "K") == ["k", "a1", "a2", "a3"]


def test_reads_redirect_to_the_nearest_upstream_holder(e: Engine) -> None:
    volumes(e, 4, "S", "T1", "T2")
    fill(e, "S", "a")
    snap(e, "m1", "S", "T1")
    ok(e, "write", volume="S", block=0, data=["b0", "b1"])
    snap(e, "m2", "S", "T2")
    ok(e, "write", volume="S", block=0, data=["c0", "c1"])  # T2 holds b*, T1 holds a*
    ok(e, "write", volume="S", block=2, data=["c2", "c3"])  # T2 now holds a2 a3
    assert read(e, "T1") == ["a0", "a1", "a2", "a3"]  # grain 1 read through T2
    assert read(e, "T2") == ["b0", "b1", "a2", "a3"]


def test_reads_never_copy(e: Engine) -> None:
    volumes(e, 4, "S", "T1")
    fill(e, "S", "a")
    snap(e, "m1", "S", "T1")
    answer = ok(e, "read", volume="T1", block=0, count=4)
    assert "copies" not in answer
    assert ok(e, "status", map="m1")["progress"] == 0


# -- background copy and completion ----------------------------------------------------


def test_background_copy_moves_grains_lowest_first_and_completes(e: Engine) -> None:
    volumes(e, 6, "S", "K")
    a = fill(e, "S", "a")
    clone(e, "k", "S", "K")
    step = ok(e, "copy", map="k", grains=2)
    assert copies(step) == [("background", 0, "S", "K"), ("background", 1, "S", "K")]
    assert step["progress"] == 66 and step["state"] == "copying"
    done = ok(e, "copy", map="k", grains=5)
    assert done["copied"] == 1 and done["state"] == "idle_or_copied"
    assert chain(e) == []
    assert read(e, "K") == a


def test_copy_without_grains_moves_the_rate_band(e: Engine) -> None:
    volumes(e, 200, "S", "K1", "K2")
    clone(e, "k1", "S", "K1", rate=10)  # band 0: 1 grain a step
    clone(e, "k2", "S", "K2", rate=31)  # band 3: 8 grains a step
    assert ok(e, "copy", map="k1")["copied"] == 1
    assert ok(e, "copy", map="k2")["copied"] == 8


def test_complete_map_with_a_dependent_stays_in_its_cascade(e: Engine) -> None:
    volumes(e, 4, "S", "K1", "K2")
    fill(e, "S", "a")
    clone(e, "k1", "S", "K1", rate=1, clean_rate=0)
    clone(e, "k2", "S", "K2", rate=1, clean_rate=0)
    ok(e, "write", volume="S", block=0, data=["x", "y"])  # K2 holds grain 0; K1 reads it via K2
    ok(e, "copy", map="k2", grains=5)  # K2 complete, but K1 still depends on it
    assert ok(e, "status", map="k2")["state"] == "copying"
    assert ok(e, "status", map="k2")["progress"] == 100
    assert ok(e, "dependents", map="k2")["maps"] == ["k1"]
    done = ok(e, "copy", map="k1", grains=5)  # K1 completes: both leave
    assert [ev["map"] for ev in done["events"] if ev["cause"] == "completed"] == ["k1", "k2"]
    assert chain(e) == []


def test_clean_rate_lets_a_complete_map_clean_its_way_out(e: Engine) -> None:
    volumes(e, 4, "S", "K1", "K2")
    fill(e, "S", "a")
    clone(e, "k1", "S", "K1", rate=1, clean_rate=0)
    clone(e, "k2", "S", "K2", rate=1, clean_rate=50)
    ok(e, "write", volume="S", block=0, data=["x", "y"])
    ok(e, "copy", map="k2", grains=1)  # grain 1: now complete; K1 reads both grains from K2
    answer = ok(e, "copy", map="k2", grains=4)  # proactive cleaning, highest grain first
    assert copies(answer) == [("clean", 1, "K2", "K1"), ("clean", 0, "K2", "K1")]
    assert ok(e, "status", map="k2")["state"] == "idle_or_copied"
    assert read(e, "K1") == ["a0", "a1", "a2", "a3"]


def test_autodelete_removes_the_map_on_completion(e: Engine) -> None:
    volumes(e, 2, "S", "K")
    clone(e, "k", "S", "K", autodelete=True)
    answer = ok(e, "settle")
    assert answer["events"][-1] == {
        "map": "k",
        "from": "idle_or_copied",
        "to": "deleted",
        "cause": "autodelete",
    }
    refused(e, "unknown_map", "status", map="k")


def test_split_cuts_the_cascade_at_a_complete_target() -> None:
    e = Engine(grain_size=2, policy="mixed")
    volumes(e, 4, "S", "K", "T1")
    fill(e, "S", "a")
    snap(e, "t1", "S", "T1")
    clone(e, "k", "S", "K", rate=1, clean_rate=0)
    ok(e, "copy", map="k", grains=2)  # complete, but T1 reads every grain through K
    assert ok(e, "status", map="k")["state"] == "copying"
    refused(e, "bad_state", "stop", map="t1", split=True)  # progress < 100
    refused(e, "bad_request", "stop", map="k", split=True, force=True)
    ok(e, "create_map", map="back", source="K", target="S", copy_rate=50)
    refused(e, "restore_required", "start", map="back")  # S still heads S->K->T1
    answer = ok(e, "stop", map="k", split=True)
    assert answer["copies"] == [] and answer["state"] == "idle_or_copied"
    assert chain(e) == [["K", "T1"]]  # the cut: K heads what hung below it
    ok(e, "write", volume="S", block=0, data=["x", "y"])
    assert read(e, "T1") == ["a0", "a1", "a2", "a3"]
    # S heads nothing now, but t1 still copies from S: by the product's definition a start
    # onto S is still a restore (product.md §4), though no target reads S any more
    refused(e, "restore_required", "start", map="back")
    assert ok(e, "start", map="back", restore=True)["restoring"] is True
    assert read(e, "T1") == ["a0", "a1", "a2", "a3"]


# -- stopping and cleaning --------------------------------------------------------------


def test_stop_cleans_exactly_the_grains_a_downstream_reads(e: Engine) -> None:
    volumes(e, 8, "S", "T1", "T2")
    fill(e, "S", "a")
    snap(e, "m1", "S", "T1")
    ok(e, "write", volume="S", block=0, data=["b0", "b1"])  # T1 holds grain 0
    snap(e, "m2", "S", "T2")
    ok(e, "write", volume="S", block=0, data=["c0", "c1"])  # T2 holds grain 0; T1 has its own
    ok(e, "write", volume="S", block=4, data=["c4", "c5"])  # T2 holds grain 2; T1 reads it
    ok(e, "stop", map="m2")
    answer = ok(e, "settle")
    assert copies(answer) == [("clean", 2, "T2", "T1")]  # grain 0 is not needed by T1
    assert read(e, "T1") == [f"a{i}" for i in range(8)]
    assert ok(e, "status", map="m2")["state"] == "stopped"
    refused(e, "offline", "read", volume="T2", block=0, count=1)


def test_stop_without_dependents_ends_at_once(e: Engine) -> None:
    volumes(e, 4, "S", "T1")
    snap(e, "m1", "S", "T1")
    answer = ok(e, "stop", map="m1")
    assert answer["state"] == "stopped"
    assert [ev["to"] for ev in answer["events"]] == ["stopping", "stopped"]


def test_stop_of_a_complete_map_keeps_its_target_online(e: Engine) -> None:
    volumes(e, 4, "S", "K1", "K2")
    fill(e, "S", "a")
    clone(e, "k1", "S", "K1", rate=1, clean_rate=0)
    clone(e, "k2", "S", "K2", rate=1, clean_rate=0)
    ok(e, "write", volume="S", block=0, data=["x", "y"])
    ok(e, "copy", map="k2", grains=5)  # complete with dependent k1
    assert ok(e, "stop", map="k2")["state"] == "stopping"
    assert read(e, "K2") == ["a0", "a1", "a2", "a3"]  # online while stopping at 100
    ok(e, "settle")
    assert ok(e, "status", map="k2")["state"] == "idle_or_copied"
    assert read(e, "K1") == ["a0", "a1", "a2", "a3"]


def test_force_stop_stops_every_dependent(e: Engine) -> None:
    volumes(e, 4, "S", "T1", "T2", "T3")
    fill(e, "S", "a")
    snap(e, "m1", "S", "T1")
    ok(e, "write", volume="S", block=0, data=["b0", "b1"])
    snap(e, "m2", "S", "T2")
    ok(e, "write", volume="S", block=2, data=["c2", "c3"])
    snap(e, "m3", "S", "T3")
    ok(e, "write", volume="S", block=0, data=["d0", "d1"])
    assert ok(e, "dependents", map="m3")["maps"] == ["m1", "m2"]
    answer = ok(e, "stop", map="m3", force=True)
    assert {ev["map"]: ev["cause"] for ev in answer["events"]} == {
        "m3": "forced",
        "m2": "dependent",
        "m1": "dependent",
    }
    assert chain(e) == []
    for t in ("T1", "T2", "T3"):
        refused(e, "offline", "read", volume=t, block=0, count=1)


def test_stopping_the_source_clone_of_a_snapshot_cleans_through_the_image_head(e: Engine) -> None:
    volumes(e, 4, "P", "K", "X")
    fill(e, "P", "a")
    clone(e, "k", "P", "K", rate=1)
    snap(e, "x", "K", "X")
    ok(e, "stop", map="k")
    answer = ok(e, "settle")
    assert sorted(copies(answer)) == [("clean", 0, "P", "X"), ("clean", 1, "P", "X")]
    assert read(e, "X") == ["a0", "a1", "a2", "a3"]


# -- incremental ------------------------------------------------------------------------


def test_incremental_restart_copies_only_changed_grains(e: Engine) -> None:
    volumes(e, 8, "S", "T")
    fill(e, "S", "a")
    clone(e, "inc", "S", "T", incremental=True)
    assert len(ok(e, "settle")["copies"]) == 4
    ok(e, "write", volume="S", block=2, data=["b"])
    ok(e, "write", volume="T", block=6, data=["t"])  # a change on the target counts too
    assert ok(e, "status", map="inc")["difference"] == 50
    ok(e, "start", map="inc")
    assert sorted(c[1] for c in copies(ok(e, "settle"))) == [1, 3]
    assert read(e, "T") == read(e, "S")


def test_non_incremental_restart_copies_everything(e: Engine) -> None:
    volumes(e, 8, "S", "T")
    fill(e, "S", "a")
    clone(e, "full", "S", "T")
    ok(e, "settle")
    ok(e, "write", volume="S", block=2, data=["b"])
    ok(e, "start", map="full")
    assert len(ok(e, "settle")["copies"]) == 4


# -- restore -------------------------------------------------------------------------------


def test_restore_needs_the_flag_and_keeps_every_other_target(e: Engine) -> None:
    volumes(e, 6, "S", "T1", "T2")
    fill(e, "S", "a")
    snap(e, "m1", "S", "T1")
    ok(e, "write", volume="S", block=0, data=["b0", "b1"])
    snap(e, "m2", "S", "T2")
    ok(e, "write", volume="S", block=2, data=["c2", "c3"])
    t1, t2 = ["a0", "a1", "a2", "a3", "a4", "a5"], ["b0", "b1", "a2", "a3", "a4", "a5"]
    ok(e, "create_map", map="r", source="T1", target="S", copy_rate=50)
    refused(e, "restore_required", "start", map="r")
    refused(e, "restore_required", "prepare", map="r")
    assert ok(e, "start", map="r", restore=True)["restoring"] is True
    assert read(e, "S") == t1 and read(e, "T1") == t1 and read(e, "T2") == t2
    ok(e, "write", volume="S", block=1, data=["s"])
    ok(e, "settle")
    assert read(e, "S") == ["a0", "s", "a2", "a3", "a4", "a5"]
    assert read(e, "T1") == t1 and read(e, "T2") == t2
    assert ok(e, "status", map="r")["state"] == "idle_or_copied"


def test_one_restore_at_a_time_per_linked_set(e: Engine) -> None:
    volumes(e, 4, "S", "T1", "V", "W")
    snap(e, "m1", "S", "T1")
    ok(e, "create_map", map="r", source="T1", target="S", copy_rate=0)
    ok(e, "start", map="r", restore=True)
    snap(e, "vw", "V", "W")
    ok(e, "create_map", map="x", source="T1", target="V", copy_rate=0)  # links V to S's tree
    refused(e, "restore_required", "start", map="x")
    refused(e, "restore_in_progress", "start", map="x", restore=True)
    ok(e, "stop", map="r", force=True)
    ok(e, "start", map="x", restore=True)


# -- groups ---------------------------------------------------------------------------------


def test_group_start_orders_same_source_targets_by_copy_rate(e: Engine) -> None:
    volumes(e, 4, "P", "A", "B", "C")
    ok(e, "create_group", group="g")
    for name, target, rate in (("a", "A", 10), ("b", "B", 90), ("c", "C", 50)):
        ok(e, "create_map", map=name, source="P", target=target, copy_rate=rate, group="g")
    ok(e, "start_group", group="g")
    assert chain(e) == [["P", "B", "C", "A"]]


def test_group_start_is_all_or_nothing(e: Engine) -> None:
    volumes(e, 4, "P", "A", "B", "Q")
    ok(e, "create_group", group="g")
    ok(e, "create_map", map="a", source="P", target="A", copy_rate=0, group="g")
    ok(e, "create_map", map="b", source="A", target="B", copy_rate=0, group="g")
    refused(e, "bad_request", "start_group", group="g")  # b copies a's target
    assert ok(e, "status", map="a")["state"] == "idle_or_copied"
    ok(e, "delete_map", map="b")
    ok(e, "create_map", map="q", source="Q", target="B", copy_rate=0, group="g")
    p, q = fill(e, "P", "p"), fill(e, "Q", "q")
    ok(e, "start_group", group="g")
    assert read(e, "A") == p and read(e, "B") == q


# -- cycles --------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["per-type", "mixed"])
def test_map_cycles_are_restores_and_never_cycle_the_cascades(policy: str) -> None:
    e = Engine(grain_size=2, policy=policy)
    volumes(e, 4, "A", "B", "C")
    a = fill(e, "A", "a")
    snap(e, "ab", "A", "B")
    ok(e, "write", volume="A", block=0, data=["x"])
    snap(e, "bc", "B", "C")
    ok(e, "write", volume="B", block=2, data=["y"])
    ok(e, "create_map", map="ca", source="C", target="A", copy_rate=0)  # A -> B -> C -> A
    refused(e, "restore_required", "start", map="ca")
    ok(e, "start", map="ca", restore=True)
    assert nx.is_branching(e.topology.graph)  # every position has at most one upstream
    assert read(e, "A") == a and read(e, "C") == a
    assert read(e, "B") == ["a0", "a1", "y", "a3"]
    ok(e, "write", volume="A", block=1, data=["z"])
    ok(e, "write", volume="C", block=3, data=["w"])
    assert read(e, "A") == ["a0", "z", "a2", "a3"]
    assert read(e, "C") == ["a0", "a1", "a2", "w"]
    assert read(e, "B") == ["a0", "a1", "y", "a3"]
    assert nx.is_branching(e.topology.graph)
