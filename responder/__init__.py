"""Drafting from templates, the approval state machine, posting, and the service-level clock."""
