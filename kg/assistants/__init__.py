"""CityKG for large-model assistants: an MCP server whose tools answer from the graph.

* :mod:`kg.assistants.server`: :func:`~kg.assistants.server.build_server`, the tools,
  resources and prompts;
* :mod:`kg.assistants.answers`: the compact answers the tools return (over ``kg.answers``
  and ``kg.analysis``, as the CLI and the REST API compute them);
* :mod:`kg.assistants.gate`: who may call, slots, deadlines and the log line of each call;
* :mod:`kg.assistants.library`: resources (ontology, data model, docs) and prompts;
* :mod:`kg.assistants.local`: ``kg mcp``, the stdio server.

The HTTP face, ``kg serve --mcp``, lives in ``api.mcp``: it needs the API's keys,
roles and limits, and ``kg`` never imports ``api``.
"""

from __future__ import annotations

__all__: list[str] = []
