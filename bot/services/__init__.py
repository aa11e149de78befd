"""Use cases: send a pulse round, record an answer, build a digest. No Slack imports here."""
