"""Issue 10, property-based: whatever an attacker sends, each mail yields exactly one record (a
message or a quarantine) within the time limit, and ingesting it again changes nothing.

Hypothesis combines the hostile shapes of the issue: nested multiparts and message/rfc822 a
thousand deep, thousands of recipients, NUL and 8-bit bytes in headers, unknown and lying
charsets, megabyte header lines, 50,000 headers, unclosed or missing boundaries, broken base64 and
quoted-printable, encoded-word bombs, deep address groups and comments, reused Message-IDs with
other content, traversal and reserved attachment names. Mail goes through the real worker pool
(the same `ingest()` as the watcher) into a real SQLite database.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlmodel import func, select

from bot.desk import opened_desk
from handlers.intake import Source, ingest
from models.tickets import Message
from tests.desk import settings_from_env

DESK = "eocic@eocic-desk.example"
TIME_LIMIT = 5.0
BOUND = TIME_LIMIT + 10.0  # the limit, plus storing a few megabytes on a loaded machine
_nonce = itertools.count()


def _nested_multipart(depth: int, closed: bool) -> bytes:
    head = b"".join(b'--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (i, i + 1) for i in range(depth))
    tail = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth + 1))) if closed else b""
    return (b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n' + head
            + b"--b%d\r\nContent-Type: text/plain\r\n\r\ndeep inside\r\n" % depth + tail)


def _nested_rfc822(depth: int) -> bytes:
    inner = b"Subject: innermost\r\n\r\nhello\r\n"
    for i in range(depth):
        inner = b"Content-Type: message/rfc822\r\nSubject: level %d\r\n\r\n" % i + inner
    return inner


def _attachment(name: str, encoding: str, payload: bytes) -> bytes:
    return (b'Content-Type: multipart/mixed; boundary="A"\r\n\r\n--A\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n'
            b"--A\r\nContent-Type: application/octet-stream; name=\"" + name.encode("utf-8", "surrogateescape") + b"\"\r\n"
            b"Content-Disposition: attachment; filename=\"" + name.encode("utf-8", "surrogateescape") + b"\"\r\n"
            b"Content-Transfer-Encoding: " + encoding.encode() + b"\r\n\r\n" + payload + b"\r\n--A--\r\n")


HEADER_SHAPES = {
    "recipients": lambda n: b"To: " + b", ".join(b"r%d@victim%d.example" % (i, i % 7) for i in range(n)) + b"\r\n",
    "nul-and-8bit": lambda n: b"Subject: \x00\xff\xfe\x80 caf\xe9 \x00" * (n // 100 + 1) + b"\r\nX-Bin: \x00\x01\x02\r\n",
    "megabyte-line": lambda n: b"Subject: " + b"A" * (1024 * 1024) + b"\r\n",
    "many-headers": lambda n: b"".join(b"X-H%d: v\r\n" % i for i in range(50_000)),
    "encoded-word-bomb": lambda n: b"Subject: " + b" ".join([b"=?utf-8?b?" + base64.b64encode("=?utf-8?q?é?=".encode()) + b"?="] * n) + b"\r\n",
    "deep-comments": lambda n: b"Reply-To: " + b"(" * n + b"x" + b")" * n + b" <c@x.example>\r\n",
    "deep-groups": lambda n: b"Cc: " + b"".join(b"g%d: " % i for i in range(n)) + b"a@b.example" + b";" * n + b"\r\n",
    "encoded-list-from": lambda n: b"Reply-To: =?utf-8?q?" + b"=2C_".join(b"v%d@victim.example" % i for i in range(min(n, 300))) + b"?=\r\n",
    "no-domain": lambda n: b"Reply-To: !channel, eve\r\n",
}
BODY_SHAPES = {
    "plain": lambda n: b"Content-Type: text/plain\r\n\r\nHello desk, question about EU funding.\r\n",
    "nested-multipart-closed": lambda n: _nested_multipart(n, True),
    "nested-multipart-unclosed": lambda n: _nested_multipart(n, False),
    "missing-boundary": lambda n: b"Content-Type: multipart/mixed\r\n\r\n--\r\nno boundary at all\r\n",
    "nested-rfc822": lambda n: _nested_rfc822(n),
    "broken-base64": lambda n: b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b"!!!=*&^%$ SGVsbG8===" * n + b"\r\n",
    "broken-qp": lambda n: b"Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + b"=ZZ=\r\n=0=" * n + b"\r\n",
    "unknown-charset": lambda n: b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n\xe9t\xe9 \xff\xfe\r\n",
    "lying-charset": lambda n: b"Content-Type: text/plain; charset=utf-16\r\n\r\n\xe9t\xe9 is not utf-16\x00\r\n",
    "lying-utf8": lambda n: b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>\xc3\x28 \xa0\xa1 \xf0\x28\x8c\x28</p>\r\n",
    "traversal-name": lambda n: _attachment("../../../etc/passwd", "base64", base64.b64encode(b"root:x:0:0")),
    "reserved-name": lambda n: _attachment("CON.txt", "7bit", b"reserved on Windows"),
    "empty-name": lambda n: _attachment("", "base64", b"AAAA"),
    "long-name": lambda n: _attachment("x" * 5000 + ".exe", "base64", b"TVqQ"),
}


@st.composite
def hostile_mails(draw) -> bytes:
    headers = draw(st.lists(st.sampled_from(sorted(HEADER_SHAPES)), max_size=3, unique=True))
    body = draw(st.sampled_from(sorted(BODY_SHAPES)))
    size = draw(st.sampled_from([1, 10, 1000, 5000]))
    reuse = draw(st.booleans())
    nonce = next(_nonce)
    message_id = b"<reused@attacker.example>" if reuse else b"<m%d@attacker.example>" % nonce
    top = (b"From: Eve <eve@attacker.example>\r\nTo: " + DESK.encode() + b"\r\nSubject: hostile %d\r\n" % nonce
           + b"Message-ID: " + message_id + b"\r\nMIME-Version: 1.0\r\nX-Nonce: %d\r\n" % nonce)
    return top + b"".join(HEADER_SHAPES[h](size) for h in headers) + BODY_SHAPES[body](size)


class Figures:
    tried = records = quarantined = crashes = hangs = 0
    worst = 0.0


@pytest.fixture(scope="module")
def desk_loop(tmp_path_factory):
    """One desk with its worker pool for the whole suite, on an event loop of its own."""
    data = tmp_path_factory.mktemp("hostile")
    env = {"EOCIC_DATA_DIR": str(data), "EOCIC_SECRET_KEY": "test", "EOCIC_DESK_ADDRESS": DESK,
           "EOCIC_MAIL_TIME_LIMIT_SECONDS": str(TIME_LIMIT)}
    loop = asyncio.new_event_loop()
    context = opened_desk(settings_from_env(env), mail_pool=True)
    desk = loop.run_until_complete(context.__aenter__())
    yield desk, loop
    loop.run_until_complete(context.__aexit__(None, None, None))
    loop.close()
    print(f"\nhostile mail: {Figures.tried} inputs tried, {Figures.records} records ({Figures.quarantined} quarantined), "
          f"crashes {Figures.crashes}, "
          f"hangs {Figures.hangs}, worst per-mail time {Figures.worst:.2f}s (limit {TIME_LIMIT}s)")


async def _count(desk) -> int:
    async with desk.db.session() as session:
        return (await session.exec(select(func.count()).select_from(Message))).one()


@settings(max_examples=50, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(raw=hostile_mails())
def test_each_hostile_mail_is_one_record_within_the_limit_and_a_second_ingest_changes_nothing(desk_loop, raw):
    desk, loop = desk_loop
    Figures.tried += 1
    before = loop.run_until_complete(_count(desk))
    started = time.monotonic()
    try:
        result = loop.run_until_complete(ingest(raw, desk.deps, Source("hypothesis")))
    except BaseException:
        Figures.crashes += 1
        raise
    took = time.monotonic() - started
    Figures.worst = max(Figures.worst, took)
    Figures.hangs += took > BOUND
    assert took < BOUND, f"{took:.1f}s for one mail"
    after = loop.run_until_complete(_count(desk))
    assert after == before + 1, f"{after - before} records for one mail ({result.kind})"
    Figures.records += 1
    Figures.quarantined += result.quarantined
    again = loop.run_until_complete(ingest(raw, desk.deps, Source("hypothesis again")))
    assert again.message_id == result.message_id and loop.run_until_complete(_count(desk)) == after
