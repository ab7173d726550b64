"""The run graph of one flow run: its task runs and subflow runs, their edges, states and durations."""

from __future__ import annotations

import uuid

from partita.client.resource_schemas import GraphEdge, GraphNode, RunGraph
from partita.states import StateType
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from partita_workbench.server.database.models import FlowRun, TaskRun
from partita_workbench.server.errors import ObjectNotFound


def _duration(run: FlowRun | TaskRun) -> float | None:
    if run.start_time is None:
        return None
    if run.end_time is None:
        return run.total_run_time or None
    return max(run.total_run_time, 0.0)


async def run_graph(session: AsyncSession, flow_run_id: uuid.UUID) -> RunGraph:
    """Nodes for the flow run's task runs (a subflow's task run stands for its child flow run).

    Edges come from each task run's ``task_inputs`` (upstream task runs passed
    as arguments or ``wait_for``), upstream → downstream; ``root_node_ids``
    are the nodes without upstreams.

    Raises:
        ObjectNotFound: no flow run has this id.
    """
    flow_run = await session.get(FlowRun, flow_run_id)
    if flow_run is None:
        raise ObjectNotFound("flow run", flow_run_id)
    task_runs = list(
        await session.scalars(
            select(TaskRun).where(TaskRun.flow_run_id == flow_run_id).order_by(TaskRun.created, TaskRun.id)
        )
    )
    ids = {run.id for run in task_runs}
    children = {
        child.parent_task_run_id: child
        for child in await session.scalars(select(FlowRun).where(FlowRun.parent_task_run_id.in_(ids)))
    } if ids else {}
    nodes: dict[uuid.UUID, GraphNode] = {}
    edges: list[GraphEdge] = []
    for run in task_runs:
        child = children.get(run.id)
        shown = child or run
        nodes[run.id] = GraphNode(
            id=run.id,
            kind="flow-run" if child is not None else "task-run",
            label=shown.name,
            state_type=StateType(shown.state_type) if shown.state_type else None,
            state_name=shown.state_name,
            start_time=shown.start_time,
            end_time=shown.end_time,
            duration=_duration(shown),
        )
    for run in task_runs:
        upstream: list[uuid.UUID] = []
        for inputs in (run.task_inputs or {}).values():
            for item in inputs if isinstance(inputs, list) else []:
                try:
                    source = uuid.UUID(str(item.get("id")))
                except (AttributeError, ValueError):
                    continue
                if source in nodes and source != run.id and source not in upstream:
                    upstream.append(source)
        for source in upstream:
            edges.append(GraphEdge(source=source, target=run.id))
            nodes[source].children.append(run.id)
            nodes[run.id].parents.append(source)
    edges.sort(key=lambda e: (str(e.source), str(e.target)))
    return RunGraph(
        flow_run_id=flow_run.id,
        state_type=StateType(flow_run.state_type) if flow_run.state_type else None,
        start_time=flow_run.start_time,
        end_time=flow_run.end_time,
        root_node_ids=[node.id for node in nodes.values() if not node.parents],
        nodes=list(nodes.values()),
        edges=edges,
    )
