"""Pictures of cascades (graphviz), grain tables (rich, HTML) and the self-contained report.

A cascade is drawn left to right: its head (physical, or presenting a target's image), then its
targets in cascade order, each edge labelled with the map, its type and state. Where a map's
source is not its cascade neighbour (a cascade of cascades, a restore), a dashed edge joins the
source to the target. Snapshot targets are drawn as dashed boxes (thin), clones as solid ones.
"""

from __future__ import annotations

import html
import json
from typing import Any

import graphviz
from rich.table import Table

from .walk import Snapshot

COLOURS = {"clone": "#1f6f8b", "snapshot": "#b5651d", "mixed": "#555555"}


def cascade_graph(snap: Snapshot) -> graphviz.Digraph:
    """Every cascade of a snapshot as one graph."""
    g = graphviz.Digraph(
        "cascades",
        graph_attr={"rankdir": "LR", "fontname": "Helvetica", "bgcolor": "white"},
        node_attr={"fontname": "Helvetica", "shape": "box", "style": "rounded"},
        edge_attr={"fontname": "Helvetica", "fontsize": "10"},
    )
    by_target = {m.target: m for m in snap.maps.values()}
    if not snap.cascades:
        g.node("none", "no active maps: every volume reads its own grains", shape="plaintext")
    for i, c in enumerate(snap.cascades):
        colour = COLOURS.get(c["type"], "#555555")
        with g.subgraph(name=f"cluster_{i}") as sub:
            sub.attr(label=f"{c['type']} cascade", color=colour, fontcolor=colour)
            head = f"c{i}_0"
            targets = {v for x in snap.cascades for v in x["volumes"][1:]}
            if c["head_mode"] != "physical":
                mode = "\\n(image of its target position)"
            elif c["volumes"][0] in targets:
                mode = "\\n(frozen: contents before the restore)"
            else:
                mode = ""
            sub.node(head, f"{c['volumes'][0]}{mode}", style="rounded,bold")
            prev = head
            for place, volume in enumerate(c["volumes"][1:], start=1):
                node = f"c{i}_{place}"
                m = by_target.get(volume)
                dashed = m is not None and m.type == "snapshot"
                offline = " (offline)" if volume in snap.offline else ""
                sub.node(
                    node,
                    f"{volume}{offline}",
                    style="rounded,dashed" if dashed else "rounded",
                    color="red" if offline else colour,
                )
                label = f"{m.name}\\n{m.type}, {m.state} {m.progress}%" if m else ""
                sub.edge(prev, node, label=label, color=colour)
                prev = node
    for i, c in enumerate(snap.cascades):
        for place, volume in enumerate(c["volumes"][1:], start=1):
            m = by_target.get(volume)
            neighbour = c["volumes"][place - 1]
            if m is not None and m.source != neighbour:
                g.node(f"src_{m.name}", m.source, shape="ellipse", color="#888888")
                g.edge(
                    f"src_{m.name}",
                    f"c{i}_{place}",
                    style="dashed",
                    color="#888888",
                    label=f"source of {m.name}",
                )
    return g


def render(snap: Snapshot, fmt: str) -> bytes:
    """The picture as svg or png bytes (graphviz's `dot` does the layout)."""
    return cascade_graph(snap).pipe(format=fmt)


def grain_table(snap: Snapshot) -> Table:
    """Per volume and grain: held physically, and where a read is served from."""
    width = max((len(v) for v in snap.served.values()), default=0)
    table = Table(title=f"after step {snap.index}: grains held (■) and where reads come from")
    table.add_column("volume")
    for g in range(width):
        table.add_column(f"grain {g}")
    for volume in sorted(snap.served):
        if volume in snap.offline:
            table.add_row(volume, *(["offline"] * width))
            continue
        cells = []
        for g, source in enumerate(snap.served[volume]):
            mark = "■" if snap.held[volume][g] else "□"
            cells.append(mark if source == volume else f"{mark} via {source}")
        table.add_row(volume, *cells)
    return table


def _html_table(snap: Snapshot) -> str:
    width = max((len(v) for v in snap.served.values()), default=0)
    head = "".join(f"<th>grain {g}</th>" for g in range(width))
    rows = []
    for volume in sorted(snap.served):
        if volume in snap.offline:
            cells = f"<td colspan='{width}' class='offline'>offline</td>"
        else:
            cells = "".join(
                f"<td class='{'held' if snap.held[volume][g] else 'through'}'>"
                f"{'own' if src == volume else 'via ' + html.escape(src)}</td>"
                for g, src in enumerate(snap.served[volume])
            )
        rows.append(f"<tr><th>{html.escape(volume)}</th>{cells}</tr>")
    return f"<table><tr><th>volume</th>{head}</tr>{''.join(rows)}</table>"


STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:2em;max-width:70em}
section{border-top:1px solid #ccc;padding:.5em 0}
section.failure{background:#fff0f0;border-left:6px solid #c00;padding-left:1em}
pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:2px 8px}
td.held{background:#d9f2d9}td.through{background:#f2f2f2}td.offline{background:#f9d6d6}
.explain{color:#333}.bad{color:#c00;font-weight:bold}
"""


def html_report(title: str, snaps: list[Snapshot], summary: str = "") -> str:
    """One self-contained HTML file: every step, its words, its picture and its table."""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
    ]
    if summary:
        parts.append(f"<p>{html.escape(summary)}</p>")
    failed = next((s for s in snaps if s.problem), None)
    if failed is not None:
        parts.append(
            f"<p class='bad'>First failed expectation at step {failed.index} "
            f"(trace line {failed.line}): {html.escape(failed.problem or '')} "
            f"<a href='#step{failed.index}'>jump</a></p>"
        )
    for s in snaps:
        cls = " class='failure'" if s is failed else ""
        svg = render(s, "svg").decode()
        svg = svg[svg.find("<svg") :]  # drop the XML prolog: inline SVG
        words = "\n".join(s.lines)
        parts.append(
            f"<section id='step{s.index}'{cls}><h2>Step {s.index}</h2>"
            f"<pre>{html.escape(_request(s.request))}</pre>"
            f"<pre class='explain'>{html.escape(words)}</pre>{svg}{_html_table(s)}</section>"
        )
    parts.append("</body></html>")
    return "".join(parts)


def _request(request: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in request.items() if k != "expect"})
