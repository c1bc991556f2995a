"""The Web API stand-in refuses what Slack refuses (issue 9), through the same client the desk uses.

Each limit is tried at the limit (accepted) and one past it (refused with Slack's error shape),
so a rule that stopped working would fail here.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.slack_api import FakeSlackApi

CHANNEL, USER = "C0TRIAGE", "U0ADA"


@pytest.fixture
async def api():
    api = await FakeSlackApi(token="xoxb-test", channels={CHANNEL: "eocic-triage"}).start()
    api.add_user(USER, "ada", "Ada Lovelace")
    yield api
    await api.stop()


@pytest.fixture
async def client(api):
    client = AsyncWebClient(token="xoxb-test", base_url=api.url, timeout=5)
    client.retry_handlers.clear()  # see every answer as Slack gives it
    yield client


async def refusal(call) -> dict:
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value.response


def section(text: str, **extra) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(action_id: str = "go", value: str = "v") -> dict:
    return {"type": "button", "text": {"type": "plain_text", "text": "Go"}, "action_id": action_id, "value": value}


def text_input(max_length: int) -> dict:
    return {"type": "input", "block_id": "answer", "label": {"type": "plain_text", "text": "Answer"},
            "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": max_length}}


def options(n: int) -> list[dict]:
    return [{"text": {"type": "plain_text", "text": f"o{i}"}, "value": str(i)} for i in range(n)]


def modal(blocks: list[dict] | None = None, **extra) -> dict:
    return {"type": "modal", "callback_id": "reply_modal", "title": {"type": "plain_text", "text": "Reply"},
            "submit": {"type": "plain_text", "text": "Send"}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": blocks or [section("hello")], **extra}


# Each case: (what, blocks at the limit, blocks one past it).
MESSAGE_LIMITS = {
    "section text 3000": ([section("a" * 3000)], [section("a" * 3001)]),
    "header text 150": ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 150}}],
                        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}]),
    "50 blocks per message": ([section("x")] * 50, [section("x")] * 51),
    "block_id 255": ([section("x", block_id="b" * 255)], [section("x", block_id="b" * 256)]),
    "block_id unique": ([section("x", block_id="one"), section("y", block_id="two")],
                        [section("x", block_id="one"), section("y", block_id="one")]),
    "action_id 255": ([{"type": "actions", "elements": [button("a" * 255)]}],
                      [{"type": "actions", "elements": [button("a" * 256)]}]),
    "action_id unique in a block": ([{"type": "actions", "elements": [button("a"), button("b")]}],
                                    [{"type": "actions", "elements": [button("a"), button("a")]}]),
    "button value 2000": ([{"type": "actions", "elements": [button(value="v" * 2000)]}],
                          [{"type": "actions", "elements": [button(value="v" * 2001)]}]),
    "100 options in a select": (
        [section("x", accessory={"type": "static_select", "action_id": "s", "options": options(100)})],
        [section("x", accessory={"type": "static_select", "action_id": "s", "options": options(101)})]),
    "5 options in an overflow": ([section("x", accessory={"type": "overflow", "action_id": "o", "options": options(5)})],
                                 [section("x", accessory={"type": "overflow", "action_id": "o", "options": options(6)})]),
    "known block types": ([{"type": "divider"}], [{"type": "bogus"}]),
    "known properties": ([section("x")], [section("x", colour="red")]),
    "non-empty text": ([section("x")], [section("")]),
}


@pytest.mark.parametrize("case", MESSAGE_LIMITS)
async def test_message_blocks_are_held_to_slacks_limits(api, client, case):
    good, bad = MESSAGE_LIMITS[case]
    assert (await client.chat_postMessage(channel=CHANNEL, text="fallback", blocks=good))["ok"]
    answer = await refusal(client.chat_postMessage(channel=CHANNEL, text="fallback", blocks=bad))
    assert answer.status_code == 200 and answer["error"] == "invalid_blocks"
    messages = answer["response_metadata"]["messages"]
    assert messages and all(m.startswith("[ERROR] ") and "[json-pointer:/blocks" in m for m in messages)
    assert len(api.of("chat.postMessage")) == 1 and api.refused("chat.postMessage")[0].error == "invalid_blocks"


async def test_blocks_without_a_text_fallback_are_refused(client):
    with pytest.warns(UserWarning, match="text"):  # the SDK warns too
        answer = await refusal(client.chat_postMessage(channel=CHANNEL, blocks=[section("x")]))
    assert answer["error"] == "invalid_arguments" and "text" in answer["response_metadata"]["messages"][0]
    with pytest.warns(UserWarning, match="text"):
        assert (await refusal(client.chat_postMessage(channel=CHANNEL, text="")))["error"] == "no_text"
    assert (await refusal(client.chat_postMessage(channel=CHANNEL, text="x" * 40_001)))["error"] == "msg_too_long"


VIEW_LIMITS = {
    "plain_text_input max_length 1..3000": (modal([text_input(3000)]), modal([text_input(20000)])),
    "plain_text_input max_length at least 1": (modal([text_input(1)]), modal([text_input(0)])),
    "title 24": (modal(title={"type": "plain_text", "text": "t" * 24}), modal(title={"type": "plain_text", "text": "t" * 25})),
    "submit 24": (modal(submit={"type": "plain_text", "text": "s" * 24}), modal(submit={"type": "plain_text", "text": "s" * 25})),
    "close 24": (modal(close={"type": "plain_text", "text": "c" * 24}), modal(close={"type": "plain_text", "text": "c" * 25})),
    "private_metadata 3000": (modal(private_metadata="m" * 3000), modal(private_metadata="m" * 3001)),
    "callback_id 255": (modal(callback_id="c" * 255), modal(callback_id="c" * 256)),
    "100 blocks per modal": (modal([section("x")] * 100), modal([section("x")] * 101)),
    "block_id unique in a view": (modal([section("x", block_id="a"), section("y", block_id="b")]),
                                  modal([section("x", block_id="a"), section("y", block_id="a")])),
    "a modal has a title": (modal(), {k: v for k, v in modal().items() if k != "title"}),
    "a modal is a modal": (modal(), {**modal(), "type": "home"}),
}


@pytest.mark.parametrize("case", VIEW_LIMITS)
async def test_modals_are_held_to_slacks_limits(api, client, case):
    good, bad = VIEW_LIMITS[case]
    assert (await client.views_open(trigger_id=api.trigger_id(), view=good))["view"]["id"]
    answer = await refusal(client.views_open(trigger_id=api.trigger_id(), view=bad))
    assert answer["error"] == "invalid_arguments"
    assert any("[json-pointer:/view" in m for m in answer["response_metadata"]["messages"])


async def test_the_home_tab_takes_100_blocks_unique_ids_and_a_known_user(api, client):
    home = {"type": "home", "blocks": [section("x")] * 100}
    assert (await client.views_publish(user_id=USER, view=home))["ok"]
    for bad in ({"type": "home", "blocks": [section("x")] * 101},
                {"type": "home", "blocks": [section("x", block_id="t"), section("y", block_id="t")]},
                modal()):
        assert (await refusal(client.views_publish(user_id=USER, view=bad)))["error"] == "invalid_arguments"
    assert (await refusal(client.views_publish(user_id="U0NOBODY", view=home)))["error"] == "user_not_found"


async def test_a_trigger_id_is_good_once_and_for_three_seconds(api, client):
    trigger = api.trigger_id()
    assert (await client.views_open(trigger_id=trigger, view=modal()))["ok"]
    assert (await refusal(client.views_open(trigger_id=trigger, view=modal())))["error"] == "exchanged_trigger_id"
    assert (await refusal(client.views_open(trigger_id="12345.98765.abcd", view=modal())))["error"] == "invalid_trigger_id"
    api.trigger_seconds = 0.2
    late = api.trigger_id()
    await asyncio.sleep(0.3)
    assert (await refusal(client.views_open(trigger_id=late, view=modal())))["error"] == "expired_trigger_id"
    assert api.trigger_seconds < 3 and FakeSlackApi().trigger_seconds == 3.0


async def test_channels_and_membership(api, client):
    assert (await refusal(client.chat_postMessage(channel="C0NOWHERE", text="hi")))["error"] == "channel_not_found"
    api.add_channel("C0PRIVATE", "advisers", member=False)
    assert (await refusal(client.chat_postMessage(channel="C0PRIVATE", text="hi")))["error"] == "not_in_channel"
    api.join("C0PRIVATE")
    assert (await client.chat_postMessage(channel="C0PRIVATE", text="hi"))["ok"]
    api.leave(CHANNEL)
    assert (await refusal(client.chat_postMessage(channel=CHANNEL, text="hi")))["error"] == "not_in_channel"
    assert (await client.chat_postMessage(channel=USER, text="a DM"))["ok"]
    assert (await refusal(client.chat_postMessage(channel="U0NOBODY", text="hi")))["error"] == "channel_not_found"
    dm = (await client.conversations_open(users=USER))["channel"]["id"]
    assert (await client.chat_postMessage(channel=dm, text="in the DM"))["ok"]


async def test_updates_need_a_message_that_still_exists(api, client):
    posted = await client.chat_postMessage(channel=CHANNEL, text="card", blocks=[section("card")])
    assert posted["ts"] == "1700000000.000001"
    assert (await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="card 2", blocks=[section("card 2")]))["ok"]
    assert api.messages[(CHANNEL, posted["ts"])]["blocks"][0]["text"]["text"] == "card 2"
    assert (await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="text only"))["ok"]
    assert api.messages[(CHANNEL, posted["ts"])]["blocks"][0]["text"]["text"] == "card 2"  # blocks kept, as in Slack
    bad = await refusal(client.chat_update(channel=CHANNEL, ts=posted["ts"], text="x", blocks=[section("a" * 3001)]))
    assert bad["error"] == "invalid_blocks"
    api.delete_message(CHANNEL, posted["ts"])
    assert (await refusal(client.chat_update(channel=CHANNEL, ts=posted["ts"], text="x")))["error"] == "message_not_found"
    assert (await refusal(client.chat_update(channel=CHANNEL, ts="1.2", text="x")))["error"] == "message_not_found"


async def test_files_go_only_through_the_external_upload(api, client):
    done = await client.files_upload_v2(channel=CHANNEL, filename="person.json", content=b'{"a": 1}')
    (file_id,) = [f["id"] for f in done["files"]]
    assert api.files[file_id]["content"] == b'{"a": 1}' and api.files[file_id]["channel"] == CHANNEL
    assert (await refusal(client.api_call("files.upload", data={"channels": CHANNEL, "content": "x"})))["error"] == \
        "method_deprecated"
    url = await client.files_getUploadURLExternal(filename="never.txt", length=3)
    missing = await refusal(client.files_completeUploadExternal(files=[{"id": url["file_id"]}], channel_id=CHANNEL))
    assert missing["error"] == "file_not_found"  # announced but never uploaded
    assert (await refusal(client.files_getUploadURLExternal(filename="", length=3)))["error"] == "invalid_arguments"
    api.leave(CHANNEL)
    with pytest.raises(SlackApiError, match="not_in_channel"):
        await client.files_upload_v2(channel=CHANNEL, filename="person.json", content=b"{}")
    assert (await refusal(client.api_call("chat.frobnicate")))["error"] == "unknown_method"


async def test_tokens(api):
    for token, error in (("xoxb-forged", "invalid_auth"), ("", "not_authed")):
        bare = AsyncWebClient(token=token or None, base_url=api.url)
        assert (await refusal(bare.auth_test()))["error"] == error
    good = AsyncWebClient(token="xoxb-test", base_url=api.url)
    assert (await good.auth_test())["user_id"] == "U0DESKBOT"
    api.revoke("xoxb-test")
    assert (await refusal(good.chat_postMessage(channel=CHANNEL, text="hi")))["error"] == "token_revoked"
    api.issue_token("xoxb-new")
    assert (await AsyncWebClient(token="xoxb-new", base_url=api.url).chat_postMessage(channel=CHANNEL, text="hi"))["ok"]


@pytest.mark.parametrize("error", ["token_revoked", "invalid_auth", "account_inactive", "missing_scope", "channel_not_found",
                                   "not_in_channel", "invalid_blocks", "invalid_arguments"])
async def test_any_error_on_demand_with_slacks_shape(api, client, error):
    api.fail_next("chat.postMessage", error)
    answer = await refusal(client.chat_postMessage(channel=CHANNEL, text="hi"))
    assert (answer.status_code, answer["ok"], answer["error"]) == (200, False, error)
    if error in ("invalid_blocks", "invalid_arguments"):
        assert answer["response_metadata"]["messages"][0].startswith("[ERROR] ")
    if error == "missing_scope":
        assert answer["needed"] and answer["provided"]
    assert (await client.chat_postMessage(channel=CHANNEL, text="hi"))["ok"]  # only the next call
    assert error in api.expected_errors


async def test_ratelimited_is_a_429_with_retry_after_and_5xx_and_disconnects_on_demand(api, client):
    api.fail_next("chat.postMessage", "ratelimited", retry_after=7)
    answer = await refusal(client.chat_postMessage(channel=CHANNEL, text="hi"))
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7" and answer["error"] == "ratelimited"
    api.fail_next("chat.postMessage", "fatal_error", status=503, times=2)
    for _ in range(2):
        assert (await refusal(client.chat_postMessage(channel=CHANNEL, text="hi"))).status_code == 503
    api.fail_next("chat.postMessage", "disconnect")
    with pytest.raises(aiohttp.ClientError):
        await client.chat_postMessage(channel=CHANNEL, text="hi")
    assert (await client.chat_postMessage(channel=CHANNEL, text="hi"))["ok"]
    assert [c.error for c in api.calls] == ["ratelimited", "fatal_error", "fatal_error", "disconnect", None]


async def test_response_urls_are_checked_and_used_at_most_five_times(api):
    url = api.response_url("cmd1")
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"text": "x", "blocks": [section("a" * 3001)]}) as resp:
            assert resp.status == 400 and await resp.text() == "invalid_blocks"
        for _ in range(5):
            async with http.post(url, json={"text": "answer"}) as resp:
                assert resp.status == 200
        async with http.post(url, json={"text": "one too many"}) as resp:
            assert resp.status == 404 and await resp.text() == "used_url"
        async with http.post(f"http://{api.host}:{api.port}/response/never-issued", json={"text": "x"}) as resp:
            assert resp.status == 404
    assert len(api.of("response")) == 5
