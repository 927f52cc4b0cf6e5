"""The checker core: async, knows nothing of Slack.

`check(domain, settings)` is the one entry point the CLI and the Slack app call.
"""
