"""Pure functions over numbers: no Slack, no database."""
