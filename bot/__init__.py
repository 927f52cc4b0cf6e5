"""mtasts-bot: is a domain's MTA-STS (RFC 8461) protection really working?"""

__version__ = "0.1.0"
