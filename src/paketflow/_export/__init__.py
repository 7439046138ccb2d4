"""Exports of a process definition: BPMN 2.0 XML (with diagram interchange), Mermaid and
Graphviz DOT. ``paketflow export`` calls :func:`main`.

Mermaid and DOT are drawn by ``transitions``' own diagram support from the compiled
machine (:func:`paketflow._compile.machine_graph`); BPMN is written from the definition
model (:mod:`paketflow._export._bpmn`).
"""

from __future__ import annotations

from paketflow._export._bpmn import to_bpmn
from paketflow._export._diagram import to_dot, to_mermaid
from paketflow._export._main import export, main

__all__ = ["export", "main", "to_bpmn", "to_dot", "to_mermaid"]
