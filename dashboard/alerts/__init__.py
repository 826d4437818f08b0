"""The alert rule engine: rules (one module per type), pure evaluate/transition, the engine loop, the API.

- ``dashboard.alerts.rules``: rule types and ``load_rules`` (validation naming the rule and field);
- ``dashboard.alerts.machine``: ``evaluate(rule, inputs, now)`` and ``transition(states, result, now)``;
- ``dashboard.alerts.engine``: ``Engine`` (consumer group ``alerts``, one MULTI/EXEC per step);
- ``dashboard.alerts.store``: the engine's writes (states, history, output stream);
- ``dashboard.alerts.commands``: people's acknowledgements and silences, sent to the engine and answered;
- outside the package: ``dashboard.queries.alerts`` (reads) and ``dashboard.web.api.alerts`` (the HTTP API).

docs/ALERTS.md describes the rule types, levels, states, default rules and the API.
"""
