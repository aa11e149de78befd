"""The Slack layer: Bolt listeners (one module per surface), the app factory and the gateway."""
