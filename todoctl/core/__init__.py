"""The work: each module returns typed results and never prints."""
