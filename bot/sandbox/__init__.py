"""The sandbox: a Slack Web API emulator, a synthetic organisation and the demo."""
