"""The emulator answers a real slack_sdk WebClient the way Slack does."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.emulator import SlackEmulator


@pytest.fixture
def emulator() -> SlackEmulator:
    emu = SlackEmulator(bot_token="xoxb-t")
    emu.start()
    yield emu  # type: ignore[misc]
    emu.stop()


def test_auth_and_pagination(emulator: SlackEmulator) -> None:
    for i in range(5):
        emulator.add_user(f"U{i}", f"user{i}")
    client = WebClient(token="xoxb-t", base_url=emulator.api_url)
    assert client.auth_test()["user_id"] == "UBOTSANDBOX"
    seen: list[str] = []
    cursor = None
    while True:
        page = client.users_list(limit=2, cursor=cursor)
        assert len(page["members"]) <= 2
        seen += [m["id"] for m in page["members"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(["UBOTSANDBOX", "USLACKBOT", "U0", "U1", "U2", "U3", "U4"])
    with pytest.raises(SlackApiError) as bad_cursor:
        client.users_list(cursor="bm9wZQ==")
    assert bad_cursor.value.response["error"] == "invalid_cursor"


def test_wrong_token_and_unknown_method(emulator: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as wrong:
        WebClient(token="xoxb-wrong", base_url=emulator.api_url).auth_test()
    assert wrong.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as unknown:
        WebClient(token="xoxb-t", base_url=emulator.api_url).api_call("nope.nothing")
    assert unknown.value.response.status_code == 404


def test_messages_to_users_land_in_their_dm_and_update_in_place(emulator: SlackEmulator) -> None:
    emulator.add_user("U1", "one")
    client = WebClient(token="xoxb-t", base_url=emulator.api_url)
    posted = client.chat_postMessage(channel="U1", text="hello", blocks=[])
    assert posted["channel"] == emulator.dm_channel("U1")
    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="changed")
    messages = emulator.messages(emulator.dm_channel("U1"))
    assert [(m["ts"], m["text"]) for m in messages] == [(posted["ts"], "changed")]
    with pytest.raises(SlackApiError) as missing:
        client.chat_postMessage(channel="UNOBODY", text="x")
    assert missing.value.response["error"] == "user_not_found"


def test_usergroups_and_files(emulator: SlackEmulator) -> None:
    emulator.add_user("U1", "one")
    emulator.add_usergroup("S1", "support", "Support", ["U1"])
    emulator.add_channel("C1", "general", ["U1"])
    client = WebClient(token="xoxb-t", base_url=emulator.api_url)
    groups = client.usergroups_list(include_users=True)["usergroups"]
    assert groups[0]["handle"] == "support"
    assert groups[0]["users"] == ["U1"]
    assert "users" not in client.usergroups_list()["usergroups"][0]
    client.files_upload_v2(channel="C1", content=b"PNG", filename="c.png", alt_txt="a chart")
    uploads = emulator.uploaded_files()
    assert uploads[0]["content"] == b"PNG"
    assert emulator.messages("C1")[-1]["files"][0]["alt_txt"] == "a chart"
