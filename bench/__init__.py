"""Benchmarks of mtasts-bot: latency against the critical path, peers, many domains, Slack.

Each bench is one command (`.venv/bin/python -m bench.<name>`); `bench.run_all`
runs them all and writes bench/results/latest.md. See bench/README.md.
"""
