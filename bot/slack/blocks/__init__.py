"""Block Kit builders: pure functions from a Report (or text) to a Slack payload."""
