"""The baseline for benchmark 2: a Bolt app that only acks, served exactly like cx-pulse
(same waitress server, same thread count), started as its own process."""

from __future__ import annotations

import os
import re
import sys

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.slack.web import make_server


def only_ack(ack: Ack) -> None:
    ack()


def main() -> None:
    port, secret = int(sys.argv[1]), sys.argv[2]
    # The same client cx-pulse gets: token and API URL from the environment (the emulator).
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(signing_secret=secret, client=client)
    app.action(re.compile(".*"))(only_ack)
    make_server(SlackRequestHandler(app), host="127.0.0.1", port=port).run()


if __name__ == "__main__":
    main()
