"""TLS-RPT aggregate reports (RFC 8460 §4): read, summarise, compare with a fresh check.

Knows nothing of Slack: `reading` turns bytes into report JSON (bounded
decompression, and one sentence for anything that is not a report), `parse`
turns that JSON into typed `model` objects leniently, `summary` groups them per
sender and policy, `compare` holds the failures up against a checker Report of
the policy domain now, and `render_text` prints it all for the terminal.
"""
