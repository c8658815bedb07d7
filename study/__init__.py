"""Scheduling, the review session and the `study` command."""
