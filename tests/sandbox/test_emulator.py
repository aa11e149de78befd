"""The emulator answers a real slack_sdk WebClient over HTTP, and signs what it sends like Slack."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.manifest import bot_scopes
from bot.sandbox.emulator import BOT_USER_ID, SLACKBOT_ID, SlackEmulator
from bot.sandbox.transcript import render_channel

TOKEN = "xoxb-test-token"
SECRET = "test-signing-secret"


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    valid: bool

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))

    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.form()["payload"])
        return parsed


class FakeApp:
    """A stand-in for the bot's /slack/events that checks Slack's signature the way Bolt does."""

    def __init__(self, secret: str) -> None:
        self.verifier = SignatureVerifier(secret)
        self.received: list[Received] = []
        self.answer = b""
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = dict(self.headers.items())
                valid = app.verifier.is_valid_request(body, headers)
                app.received.append(Received(headers, body, valid))
                answer = app.answer if valid else b'{"error": "invalid signature"}'
                self.send_response(200 if valid else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET) as emulator:
        emulator.add_user("U1", "ann", real_name="Ann A", tz="Europe/Berlin", tz_offset=3600)
        emulator.add_user("U2", "bob")
        emulator.add_channel("C1", "general", ["U1", "U2"])
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> WebClient:
    return WebClient(token=TOKEN, base_url=emu.api_url, timeout=5)


@pytest.fixture
def app(emu: SlackEmulator) -> Iterator[FakeApp]:
    fake = FakeApp(SECRET)
    fake.thread.start()
    emu.set_app_url(fake.url)
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def _error(excinfo: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(excinfo.value.response["error"])


def test_auth_test(client: WebClient, emu: SlackEmulator) -> None:
    answer = client.auth_test()
    assert emu.api_url.endswith("/api/")
    assert answer["user_id"] == BOT_USER_ID
    assert answer["team_id"] == "T0SANDBOX"
    assert answer["team"] == "Sandbox Inc"
    assert answer["bot_id"]
    assert answer["url"].startswith("https://")


def test_users_list_really_pages(client: WebClient, emu: SlackEmulator) -> None:
    for i in range(3, 6):
        emu.add_user(f"U{i}", f"user{i}", deleted=i == 5)
    emu.reset_calls()
    seen: list[str] = []
    cursor = ""
    while True:
        page = client.users_list(limit=2, cursor=cursor or None)
        assert 0 < len(page["members"]) <= 2
        seen += [m["id"] for m in page["members"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(["U1", "U2", "U3", "U4", "U5", SLACKBOT_ID, BOT_USER_ID])
    assert len(seen) == len(set(seen))
    assert len(emu.calls("users.list")) == 4
    members = {m["id"]: m for m in client.users_list(limit=1000, include_locale=True)["members"]}
    assert all("locale" not in m for m in client.users_list(limit=1000)["members"])  # as Slack
    assert members[SLACKBOT_ID]["is_bot"] is False  # as in real Slack
    assert members[BOT_USER_ID]["is_bot"] is True
    assert members["U5"]["deleted"] is True
    ann = members["U1"]
    assert (ann["tz"], ann["tz_offset"], ann["locale"]) == ("Europe/Berlin", 3600, "en-US")
    assert ann["profile"] == {"real_name": "Ann A", "display_name": "ann"}


def test_default_limit_cap_and_bad_cursors(client: WebClient, emu: SlackEmulator) -> None:
    for i in range(150):
        emu.add_user(f"UX{i:03d}", f"x{i}")
    first = client.users_list()
    assert len(first["members"]) == 100
    assert first["response_metadata"]["next_cursor"]
    assert len(client.users_list(limit=5000)["members"]) == 154
    with pytest.raises(SlackApiError) as garbage:
        client.users_list(cursor="not-a-cursor")
    assert _error(garbage) == "invalid_cursor"
    members_cursor = client.conversations_members(channel="C1", limit=1)["response_metadata"]
    with pytest.raises(SlackApiError) as foreign:
        client.users_list(cursor=members_cursor["next_cursor"])
    assert _error(foreign) == "invalid_cursor"


def test_users_info(client: WebClient) -> None:
    assert client.users_info(user="U2")["user"]["name"] == "bob"
    with pytest.raises(SlackApiError) as missing:
        client.users_info(user="UNOBODY")
    assert _error(missing) == "user_not_found"


def test_tokens_and_unknown_methods(emu: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as wrong:
        WebClient(token="xoxb-wrong", base_url=emu.api_url).auth_test()
    assert _error(wrong) == "invalid_auth"
    assert wrong.value.response.status_code == 200
    with pytest.raises(SlackApiError) as missing:
        WebClient(base_url=emu.api_url).auth_test()
    assert _error(missing) == "not_authed"
    with pytest.raises(SlackApiError) as unknown:
        WebClient(token=TOKEN, base_url=emu.api_url).api_call("nope.nothing")
    assert unknown.value.response.status_code == 404
    assert _error(unknown) == "unknown_method"
    # A token in the parameters works too, and is not recorded with them.
    answer = WebClient(base_url=emu.api_url).api_call("auth.test", params={"token": TOKEN})
    assert answer["ok"] is True
    assert "token" not in emu.calls("auth.test")[-1].params


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
def test_post_to_a_user_lands_in_their_dm_and_updates_in_place(
    client: WebClient, emu: SlackEmulator
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hi*"}}]
    posted = client.chat_postMessage(channel="U1", text="hello", blocks=blocks)
    dm = emu.dm_channel("U1")
    assert posted["channel"] == dm
    assert posted["message"]["blocks"] == blocks
    second = client.chat_postMessage(channel=dm, text="again")
    assert float(second["ts"]) > float(posted["ts"])

    new_blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Thanks"}}]
    updated = client.chat_update(channel=dm, ts=posted["ts"], text="changed", blocks=new_blocks)
    assert updated["ts"] == posted["ts"]
    messages = emu.messages(dm)
    assert [(m["ts"], m["text"]) for m in messages] == [
        (posted["ts"], "changed"),
        (second["ts"], "again"),
    ]
    assert messages[0]["blocks"] == new_blocks
    assert messages[0]["user"] == BOT_USER_ID
    assert emu.calls("chat.postMessage")[0].params["channel"] == "U1"

    for call, error in [
        (lambda: client.chat_postMessage(channel="UNOBODY", text="x"), "channel_not_found"),
        (lambda: client.chat_postMessage(channel="C404", text="x"), "channel_not_found"),
        (lambda: client.chat_postMessage(channel="U1"), "no_text"),
        (lambda: client.chat_update(channel=dm, ts="1.000001", text="x"), "message_not_found"),
        (lambda: client.chat_update(channel="U1", ts=posted["ts"], text="x"), "channel_not_found"),
    ]:
        with pytest.raises(SlackApiError) as failed:
            call()
        assert _error(failed) == error


def test_form_encoded_and_get_calls_decode_like_json(client: WebClient, emu: SlackEmulator) -> None:
    blocks = [{"type": "divider"}, {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]
    form = {"channel": "C1", "text": "fallback", "blocks": json.dumps(blocks)}
    client.api_call("chat.postMessage", data=form)
    assert emu.messages("C1")[0]["blocks"] == blocks
    info = client.api_call("users.info", http_verb="GET", params={"user": "U1"})
    assert info["user"]["id"] == "U1"


def test_block_kit_limits_are_enforced(client: WebClient) -> None:
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    with pytest.raises(SlackApiError) as long_text:
        client.chat_postMessage(channel="C1", text="x", blocks=too_long)
    assert _error(long_text) == "invalid_blocks"
    messages = long_text.value.response["response_metadata"]["messages"]
    assert "/blocks/0/text/text" in messages[0]
    twice = [{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}]
    with pytest.raises(SlackApiError) as duplicate:
        client.chat_postMessage(channel="C1", text="x", blocks=twice)
    assert "duplicate block_id" in duplicate.value.response["response_metadata"]["messages"][0]
    with pytest.raises(SlackApiError) as too_many:
        client.chat_postMessage(channel="C1", text="x", blocks=[{"type": "divider"}] * 51)
    assert _error(too_many) == "invalid_blocks"


def test_concurrent_posts_get_unique_increasing_ts(client: WebClient, emu: SlackEmulator) -> None:
    def post(n: int) -> None:
        for i in range(10):
            client.chat_postMessage(channel="C1", text=f"{n}-{i}")

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps = [m["ts"] for m in emu.messages("C1")]
    assert len(stamps) == len(set(stamps)) == 80
    assert stamps == sorted(stamps, key=float)
    assert len(emu.calls("chat.postMessage")) == 80


def test_conversations_members_pages(client: WebClient, emu: SlackEmulator) -> None:
    emu.add_channel("C2", "big", [f"U{i}" for i in range(5)])
    pages = []
    cursor = None
    while True:
        page = client.conversations_members(channel="C2", limit=2, cursor=cursor)
        pages.append(page["members"])
        cursor = page["response_metadata"]["next_cursor"] or None
        if cursor is None:
            break
    assert pages == [["U0", "U1"], ["U2", "U3"], ["U4"]]
    with pytest.raises(SlackApiError) as missing:
        client.conversations_members(channel="C404")
    assert _error(missing) == "channel_not_found"


def test_conversations_open(client: WebClient, emu: SlackEmulator) -> None:
    assert client.conversations_open(users="U2")["channel"]["id"] == emu.dm_channel("U2")
    assert client.conversations_members(channel=emu.dm_channel("U2"))["members"] == [
        "U2",
        BOT_USER_ID,
    ]
    with pytest.raises(SlackApiError) as missing:
        client.conversations_open(users="UNOBODY")
    assert _error(missing) == "user_not_found"


def test_usergroups(client: WebClient, emu: SlackEmulator) -> None:
    emu.add_usergroup("S1", "support", "Support", ["U1", "U2"])
    with_users = client.usergroups_list(include_users=True)["usergroups"]
    assert with_users == [
        {
            "id": "S1",
            "team_id": "T0SANDBOX",
            "is_usergroup": True,
            "handle": "support",
            "name": "Support",
            "date_delete": 0,
            "user_count": 2,
            "users": ["U1", "U2"],
        }
    ]
    plain = client.usergroups_list()["usergroups"][0]
    assert "users" not in plain
    assert plain["user_count"] == 2
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U1", "U2"]
    with pytest.raises(SlackApiError) as missing:
        client.usergroups_users_list(usergroup="S404")
    assert _error(missing) == "no_such_subteam"


def test_files_upload_v2(client: WebClient, emu: SlackEmulator) -> None:
    content = b"\x89PNG\r\n\x1a\n fake image"
    answer = client.files_upload_v2(
        channel="C1",
        content=content,
        filename="c.png",
        title="Weekly chart",
        alt_txt="a chart of empowerment",
        initial_comment="This week",
    )
    assert answer["file"]["name"] == "c.png"
    assert [c.method for c in emu.calls()] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    upload = emu.uploaded_files()[0]
    assert (upload["content"], upload["completed"], upload["channels"]) == (content, True, ["C1"])
    assert upload["mimetype"] == "image/png"
    message = emu.messages("C1")[-1]
    assert message["text"] == "This week"
    assert message["files"][0]["alt_txt"] == "a chart of empowerment"
    assert "[file: c.png — a chart of empowerment]" in render_channel([message])


def test_complete_upload_needs_the_bytes(client: WebClient) -> None:
    ticket = client.files_getUploadURLExternal(filename="x.txt", length=3)
    with pytest.raises(SlackApiError) as missing:
        client.files_completeUploadExternal(files=[{"id": ticket["file_id"], "title": "x"}])
    assert _error(missing) == "file_not_found"


def test_post_ephemeral(client: WebClient, emu: SlackEmulator) -> None:
    emu.add_user("U9", "outsider")
    answer = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert emu.ephemerals("U1") == [
        {
            "channel": "C1",
            "message_ts": answer["message_ts"],
            "text": "only you",
            "blocks": [],
            "via": "chat.postEphemeral",
        }
    ]
    assert emu.messages("C1") == []
    with pytest.raises(SlackApiError) as outsider:
        client.chat_postEphemeral(channel="C1", user="U9", text="x")
    assert _error(outsider) == "user_not_in_channel"


def test_post_ephemeral_in_a_dm_reaches_only_that_person(
    client: WebClient, emu: SlackEmulator
) -> None:
    dm = client.chat_postMessage(channel="U1", text="pulse")["channel"]
    assert dm == emu.dm_channel("U1")
    answer = client.chat_postEphemeral(channel=dm, user="U1", text="Recorded: *Agree*")
    assert emu.ephemerals("U1")[-1] == {
        "channel": dm,
        "message_ts": answer["message_ts"],
        "text": "Recorded: *Agree*",
        "blocks": [],
        "via": "chat.postEphemeral",
    }
    assert emu.ephemerals("U2") == []
    assert [c.params["user"] for c in emu.calls("chat.postEphemeral")] == ["U1"]
    with pytest.raises(SlackApiError) as not_theirs:
        client.chat_postEphemeral(channel=dm, user="U2", text="x")  # someone else's DM
    assert _error(not_theirs) == "user_not_in_channel"
    assert [m["text"] for m in emu.messages(dm)] == ["pulse"]


def test_export_holds_every_stored_version_and_no_ephemeral(
    app: FakeApp, client: WebClient, emu: SlackEmulator
) -> None:
    general = client.chat_postMessage(channel="C1", text="hello")
    client.chat_update(channel="C1", ts=general["ts"], text="hello (edited)")
    client.chat_update(channel="C1", ts=general["ts"], text="hello (again)")
    posted = _post_buttons(client)
    client.chat_postEphemeral(channel=posted["channel"], user="U1", text="only you")
    sent = emu.click_button(
        "U1",
        channel_id=posted["channel"],
        message_ts=posted["ts"],
        action_id="answer:2",
        block_id="q:one",
        value="7|one|2",
    )
    assert sent.response_url is not None
    WebhookClient(sent.response_url).send(text="gone", delete_original=True)

    exported = emu.export()
    assert [(m["channel"], m["text"], m["deleted"]) for m in exported] == [
        ("C1", "hello (again)", False),
        (posted["channel"], "q", True),
    ]
    assert [v["text"] for v in exported[0]["edits"]] == ["hello", "hello (edited)"]
    assert exported[1]["blocks"][1]["block_id"] == "q:one"
    assert "only you" not in json.dumps(exported)
    assert emu.messages(posted["channel"]) == []


def test_injected_rate_limit_is_retried_after_retry_after(emu: SlackEmulator) -> None:
    emu.fail_next("auth.test", retry_after=0)
    retrying = WebClient(
        token=TOKEN,
        base_url=emu.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    assert retrying.auth_test()["ok"] is True
    assert [c.status for c in emu.calls("auth.test")] == [429, 200]
    emu.fail_next("auth.test", retry_after=7)
    with pytest.raises(SlackApiError) as limited:
        WebClient(token=TOKEN, base_url=emu.api_url).auth_test()
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] in ("7", ["7"])


def test_signed_slash_command_is_verifiable(app: FakeApp, emu: SlackEmulator) -> None:
    sent = emu.send_slash_command("U1", "pulse now", channel_id="C1")
    assert sent.status == 200
    received = app.received[-1]
    assert received.valid
    assert received.headers["Content-Type"] == "application/x-www-form-urlencoded"
    fields = received.form()
    assert fields["command"] == "/cx"
    assert fields["text"] == "pulse now"
    assert (fields["user_id"], fields["user_name"]) == ("U1", "ann")
    assert (fields["channel_id"], fields["channel_name"]) == ("C1", "general")
    assert (fields["team_id"], fields["api_app_id"]) == ("T0SANDBOX", "A0CXPULSE")
    assert fields["response_url"] == sent.response_url
    assert fields["trigger_id"] == sent.trigger_id
    assert "X-Slack-Retry-Num" not in received.headers


def test_forged_stale_and_retried_requests(app: FakeApp, emu: SlackEmulator) -> None:
    assert emu.send_slash_command("U1", "help", signing_secret="forged").status == 401
    stale = int(time.time()) - 600
    assert emu.send_slash_command("U1", "help", timestamp=stale).status == 401
    assert [r.valid for r in app.received] == [False, False]
    retried = emu.send_event({"type": "app_home_opened", "user": "U1"}, retry_num=2)
    assert retried.status == 200
    headers = app.received[-1].headers
    assert (headers["X-Slack-Retry-Num"], headers["X-Slack-Retry-Reason"]) == ("2", "http_timeout")


def test_response_urls_are_recorded_and_applied(app: FakeApp, emu: SlackEmulator) -> None:
    sent = emu.send_slash_command("U1", "help")
    assert sent.response_url is not None
    assert sent.response_url.startswith(f"{emu.base_url}/respond/")
    # Bolt's respond() posts JSON with slack_sdk's WebhookClient, as here.
    answer = WebhookClient(sent.response_url).send(
        text="Here is help", response_type="ephemeral", replace_original=False
    )
    assert (answer.status_code, json.loads(answer.body)) == (200, {"ok": True})
    recorded = emu.responses(sent.response_url)
    assert len(recorded) == 1
    assert recorded[0]["text"] == "Here is help"
    assert recorded[0]["response_type"] == "ephemeral"
    assert recorded[0]["replace_original"] is False
    assert emu.responses(recorded[0]["id"]) == recorded
    assert emu.ephemerals("U1")[-1]["text"] == "Here is help"
    unknown = WebhookClient(f"{emu.base_url}/respond/nope").send(text="x")
    assert unknown.status_code == 404


def _post_buttons(client: WebClient) -> dict[str, Any]:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "How was it?"}},
        {
            "type": "actions",
            "block_id": "q:one",
            "elements": [
                {
                    "type": "button",
                    "action_id": f"answer:{n}",
                    "value": f"7|one|{n}",
                    "text": {"type": "plain_text", "text": str(n)},
                }
                for n in (1, 2, 3)
            ],
        },
    ]
    posted: dict[str, Any] = client.chat_postMessage(channel="U1", text="q", blocks=blocks).data
    return posted


def test_click_button_sends_a_real_block_actions_payload(
    app: FakeApp, client: WebClient, emu: SlackEmulator
) -> None:
    posted = _post_buttons(client)
    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="q (edited)")
    message = emu.messages(posted["channel"])[-1]
    block_id, action_id, value = emu.find_button(message, value="7|one|2")
    assert (block_id, action_id) == ("q:one", "answer:2")
    assert emu.find_button(message, action_id_prefix="answer:")[1] == "answer:1"
    with pytest.raises(LookupError):
        emu.find_button(message, value="nope")

    sent = emu.click_button(
        "U1",
        channel_id=posted["channel"],
        message_ts=posted["ts"],
        action_id=action_id,
        block_id=block_id,
        value=value,
    )
    assert sent.status == 200
    assert app.received[-1].valid
    payload = app.received[-1].payload()
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U1"
    assert payload["team"]["id"] == "T0SANDBOX"
    assert payload["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": posted["channel"],
        "is_ephemeral": False,
    }
    assert payload["channel"] == {"id": posted["channel"], "name": "directmessage"}
    assert payload["message"]["text"] == "q (edited)"  # the message as it is now
    assert payload["message"]["blocks"] == message["blocks"]
    action = payload["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "answer:2",
        "q:one",
        "7|one|2",
    )
    assert action["text"]["text"] == "2"
    assert (payload["response_url"], payload["trigger_id"]) == (sent.response_url, sent.trigger_id)

    assert sent.response_url is not None
    WebhookClient(sent.response_url).send(text="Recorded", replace_original=True, blocks=[])
    assert emu.messages(posted["channel"])[-1]["text"] == "Recorded"


def test_views_open_update_and_submit(app: FakeApp, client: WebClient, emu: SlackEmulator) -> None:
    posted = _post_buttons(client)
    sent = emu.click_button(
        "U1",
        channel_id=posted["channel"],
        message_ts=posted["ts"],
        action_id="answer:1",
        block_id="q:one",
        value="7|one|1",
    )
    modal = {
        "type": "modal",
        "callback_id": "comment_modal",
        "private_metadata": '{"round_id": 7}',
        "title": {"type": "plain_text", "text": "Anonymous comment"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "text",
                "label": {"type": "plain_text", "text": "Comment"},
                "element": {"type": "plain_text_input", "action_id": "comment"},
            }
        ],
    }
    opened = client.views_open(trigger_id=sent.trigger_id, view=modal)["view"]
    assert opened["id"].startswith("V")
    assert (opened["callback_id"], opened["hash"]) == (
        "comment_modal",
        emu.views()[opened["id"]]["hash"],
    )
    assert emu.view_for_trigger(sent.trigger_id or "") == emu.views()[opened["id"]]
    for trigger, error in [
        (sent.trigger_id, "exchanged_trigger_id"),
        ("1.2.3", "invalid_trigger_id"),
    ]:
        with pytest.raises(SlackApiError) as refused:
            client.views_open(trigger_id=trigger, view=modal)
        assert _error(refused) == error

    with pytest.raises(SlackApiError) as conflict:
        client.views_update(view_id=opened["id"], hash="stale", view=modal)
    assert _error(conflict) == "hash_conflict"
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal)["view"]
    assert updated["id"] == opened["id"]
    assert updated["hash"] != opened["hash"] or updated == emu.views()[opened["id"]]

    app.answer = json.dumps({"response_action": "errors", "errors": {"text": "Too short"}}).encode()
    values = {"text": {"comment": {"type": "plain_text_input", "value": "hi"}}}
    submitted = emu.submit_view("U1", view_id=opened["id"], values=values)
    assert submitted.status == 200
    assert submitted.json_body == {"response_action": "errors", "errors": {"text": "Too short"}}
    payload = app.received[-1].payload()
    assert payload["type"] == "view_submission"
    assert payload["view"]["state"] == {"values": values}
    assert payload["view"]["id"] == opened["id"]
    assert payload["view"]["callback_id"] == "comment_modal"
    assert payload["view"]["private_metadata"] == '{"round_id": 7}'
    assert payload["view"]["hash"] == emu.views()[opened["id"]]["hash"]
    with pytest.raises(LookupError):
        emu.submit_view("U1", view_id="V404", values={})


def test_modal_limits_and_trigger_expiry(app: FakeApp) -> None:
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET, trigger_lifetime=0.05) as emu:
        emu.add_user("U1", "ann")
        emu.set_app_url(app.url)
        client = WebClient(token=TOKEN, base_url=emu.api_url)
        title = {"type": "plain_text", "text": "x" * 25}
        trigger = emu.send_slash_command("U1", "x").trigger_id
        with pytest.raises(SlackApiError) as long_title:
            client.views_open(trigger_id=trigger, view={"type": "modal", "title": title})
        assert _error(long_title) == "invalid_arguments"
        assert "/view/title/text" in long_title.value.response["response_metadata"]["messages"][0]
        late = emu.send_slash_command("U1", "x").trigger_id
        time.sleep(0.1)
        with pytest.raises(SlackApiError) as expired:
            client.views_open(
                trigger_id=late, view={"type": "modal", "title": title | {"text": "x"}}
            )
        assert _error(expired) == "expired_trigger_id"


def test_views_publish_keeps_one_home_per_user(client: WebClient, emu: SlackEmulator) -> None:
    home = {"type": "home", "blocks": [{"type": "divider"}]}
    first = client.views_publish(user_id="U1", view=home)["view"]
    second = client.views_publish(user_id="U1", view=home)["view"]
    assert first["id"] == second["id"]
    assert len(emu.views()) == 1


def test_events_and_url_verification(app: FakeApp, emu: SlackEmulator) -> None:
    event = {"type": "app_home_opened", "user": "U1", "tab": "home"}
    assert emu.send_event(event).status == 200
    received = app.received[-1]
    assert received.valid
    assert received.headers["Content-Type"] == "application/json"
    envelope = json.loads(received.body)
    assert (envelope["type"], envelope["event"], envelope["team_id"]) == (
        "event_callback",
        event,
        "T0SANDBOX",
    )
    assert envelope["event_id"].startswith("Ev")
    app.answer = b'{"challenge": "abc"}'
    verified = emu.url_verification("abc")
    assert verified.json_body == {"challenge": "abc"}
    assert json.loads(app.received[-1].body)["type"] == "url_verification"


def test_stop_closes_the_socket() -> None:
    emulator = SlackEmulator().start()
    url = emulator.api_url
    emulator.stop()
    emulator.stop()  # idempotent
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}auth.test", timeout=2)  # noqa: S310
    assert emulator.calls() == []


def test_a_budget_answers_429_with_retry_after_beyond_its_rate() -> None:
    with SlackEmulator(bot_token="xoxb-t") as emulator:
        emulator.add_user("U1", "one")
        emulator.set_budget("chat.postMessage", 5)
        client = WebClient(token="xoxb-t", base_url=emulator.api_url)
        statuses, waits = [], []
        for _ in range(8):
            try:
                client.chat_postMessage(channel="U1", text="hi")
                statuses.append(200)
            except SlackApiError as error:
                statuses.append(error.response.status_code)
                waits.append(error.response.headers["Retry-After"])
        assert statuses.count(200) == 5
        assert statuses.count(429) == 3
        assert waits == ["1", "1", "1"]
        emulator.set_budget("chat.postMessage", None)
        client.chat_postMessage(channel="U1", text="again")


def _scopes_header(headers: dict[str, Any]) -> str | None:
    return {name.lower(): value for name, value in headers.items()}.get("x-oauth-scopes")


def test_every_answer_names_the_granted_scopes(client: WebClient, emu: SlackEmulator) -> None:
    granted = _scopes_header(client.auth_test().headers)
    assert granted is not None
    assert set(granted.split(",")) == set(bot_scopes())
    emu.set_scopes({"chat:write", "commands"})
    assert _scopes_header(client.users_list().headers) == "chat:write,commands"
    with pytest.raises(SlackApiError) as failed:
        client.conversations_members(channel="C404")
    assert _scopes_header(failed.value.response.headers) == "chat:write,commands"
    # A token Slack does not know learns nothing about anyone's scopes.
    with pytest.raises(SlackApiError) as refused:
        WebClient(token="xoxb-wrong", base_url=emu.api_url).auth_test()
    assert _scopes_header(refused.value.response.headers) is None
    with SlackEmulator(bot_token=TOKEN, scopes=["users:read"]) as narrow:
        answer = WebClient(token=TOKEN, base_url=narrow.api_url).auth_test()
        assert _scopes_header(answer.headers) == "users:read"


def test_conversations_info(client: WebClient, emu: SlackEmulator) -> None:
    emu.add_channel("C2", "leaders", ["U1", BOT_USER_ID])
    emu.add_channel("G1", "secret", ["U1", BOT_USER_ID], is_private=True)
    emu.add_channel("G2", "hidden", ["U2"], is_private=True)
    leaders = client.conversations_info(channel="C2", include_num_members=True)["channel"]
    assert leaders["id"] == "C2"
    assert leaders["name"] == "leaders"
    assert leaders["is_member"] is True
    assert leaders["is_private"] is False
    assert leaders["num_members"] == 2
    assert client.conversations_info(channel="C1")["channel"]["is_member"] is False
    secret = client.conversations_info(channel="G1")["channel"]
    assert (secret["is_private"], secret["is_group"], secret["is_member"]) == (True, True, True)
    dm = client.conversations_info(channel=emu.dm_channel("U2"))["channel"]
    assert (dm["is_im"], dm["user"]) == (True, "U2")
    # Unknown channels, and private ones the bot is not in, do not exist as far as it can tell.
    for unknown in ("C404", "G2"):
        with pytest.raises(SlackApiError) as missing:
            client.conversations_info(channel=unknown)
        assert _error(missing) == "channel_not_found"
