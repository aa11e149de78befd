"""Block Kit builders (slack_sdk.models, which validate) and plain-text fallbacks."""
