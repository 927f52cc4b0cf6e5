"""Watching domains: state comparison, flap damping, the scheduler and alert delivery.

- `state.py`: a Report distilled into the state kept per domain.
- `events.py`: two states compared → alert events (pure).
- `evaluate.py`: one check judged (believed or doubted) and the schedule (pure).
- `config.py`: the MTASTS_WATCH_* settings.
- `scheduler.py`: claims due domains (a lease), checks them in their own lane
  (`lane.py`), records state and alert intents in one transaction (`recording.py`).
- `delivery.py`: posts recorded alerts to Slack exactly once.
- `service.py`: what the Slack flows call (watch, unwatch, list).
- `sqlite_guard.py`: one scheduler per SQLite file.
"""
