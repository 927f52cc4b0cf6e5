"""Every bound applied to TLS-RPT reports, in one place.

Reports come from whoever shares a file or pastes text; these keep reading one
bounded in memory and time whatever it holds.
"""

from __future__ import annotations

MIB = 1024 * 1024

MAX_REPORT_BYTES = 10 * MIB  # one file after decompression (also the most downloaded)
MAX_PASTED_BYTES = 1 * MIB  # text pasted into a message
MAX_ARCHIVE_MEMBERS = 20  # files read out of one .zip (or attachments of one e-mail)
MAX_NESTING = 3  # archives inside archives (a .json.gz inside a .zip inside an e-mail)
MAX_COUNT = 10**15  # a session count beyond this is not believed (capped, and said)
MAX_TEXT = 2000  # characters kept of any one string field (names, policy lines)
MAX_POLICY_LINES = 200  # lines kept of one policy-string

# What is shown (terminal, Slack): the rest is counted as "and N more".
MAX_SENDERS_SHOWN = 5
MAX_POLICIES_SHOWN = 5  # per sender
MAX_GROUPS_SHOWN = 5  # failure groups per policy
MAX_REASONS_SHOWN = 3  # distinct failure-reason-codes per group
MAX_NOTES_SHOWN = 6
MAX_FILES_PER_MESSAGE = 10  # Slack's own limit of files on one message
MAX_DOMAINS_CHECKED = 5  # policy domains checked afresh per Slack request
MAX_DOMAINS_CHECKED_CLI = 50  # ... per `mtasts tlsrpt` run
