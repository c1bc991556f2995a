"""Issue 10: every text path on untrusted mail takes linear time and bounded stack.

A megabyte without a space, in every header and the body at once, goes through header decoding,
address parsing, quote/signature stripping, URL/address detection, language detection and
classification. Each token below made at least one path quadratic or recursive before the fix
(`\\S+@\\S+` in the language filter, the address regex of list mail, the stdlib's address parser
on quotes, dots and nested comments). A quadratic path takes minutes to hours on a megabyte; the
bound is generous for a loaded machine, and far below that.
"""

from __future__ import annotations

import time

import pytest

from handlers import list_mail
from handlers.classify import classify
from handlers.classify.classifier import get_classifier
from handlers.classify.language import detect
from handlers.classify.text import clean_subject, split_body
from handlers.loops import automatic_kind, bounce_details
from handlers.parsing import parse_mail
from handlers.tickets import refs_in

MB = 1024 * 1024
BOUND_SECONDS = 60.0  # per token, all paths together

TOKENS = {
    "letters": "a",
    "at-signs": "@",
    "local@": "a@",
    "digits and spaces": "1 ",
    "comment openers": "(",
    "angle brackets": "<",
    "quotes": '"',
    "dots": ".",
    "group colons": ":",
    "backslashes": "\\",
    "unclosed encoded-words": "=?utf-8?q?a",
    "url prefixes": "http://",
    "ticket refs": "[EOCIC-",
    "quote markers": "> ",
}


def hostile_mail(token: str) -> bytes:
    run = (token * (MB // len(token)))[:MB]
    headers = "".join(f"{name}: {run}\r\n" for name in ("From", "To", "Cc", "Reply-To", "Subject", "References"))
    return (headers + "Message-ID: <hostile@example.test>\r\n\r\n" + run + "\r\n").encode()


@pytest.fixture(scope="module", autouse=True)
def _classifier_loaded():
    get_classifier()


@pytest.mark.parametrize("token", list(TOKENS.values()), ids=list(TOKENS))
def test_a_megabyte_token_in_every_header_and_the_body_is_handled_in_bounded_time(token):
    raw = hostile_mail(token)
    started = time.perf_counter()
    mail = parse_mail(raw)
    body = split_body(mail.text)
    clean_subject(mail.subject)
    detect(mail.subject)
    detect(mail.text)
    verdict = classify(mail)
    automatic_kind(mail)
    bounce_details(mail)
    list_mail._ADDRESS.findall(mail.text)
    refs_in(mail.subject)
    elapsed = time.perf_counter() - started
    assert elapsed < BOUND_SECONDS, f"{elapsed:.1f}s for a megabyte of {token!r}"
    assert len(mail.text) > MB - 10 and body.new is not None and verdict.intent
    assert len(mail.references) <= 100, "threading looks at a bounded number of references"


@pytest.mark.parametrize("depth", [5_000, 50_000])
def test_deeply_nested_comments_and_groups_in_addresses_do_not_recurse(depth):
    comments = "(" * depth + "x" + ")" * depth
    groups = "".join(f"g{i}: " for i in range(depth)) + "a@b.example" + ";" * depth
    raw = (f"From: {comments} <deep@example.test>\r\nTo: {groups}\r\nCc: {comments}a@b.example\r\n"
           f"Reply-To: real@example.test\r\nSubject: deep\r\n\r\nhello\r\n").encode()
    started = time.perf_counter()
    mail = parse_mail(raw)
    assert time.perf_counter() - started < BOUND_SECONDS
    assert mail.reply_to == "real@example.test", "the well-formed header is still read"
    assert "deep@example.test" not in mail.cc and mail.from_addr in ("", "deep@example.test")
    assert any("too" in d for d in mail.defects), "the dropped addresses are listed as defects"


def test_an_encoded_word_that_decodes_to_a_list_is_one_display_name():
    raw = ("From: =?utf-8?q?a@x.example=2C_v0@victim.example=2C_v1@victim.example?= <sender@example.test>\r\n"
           "Reply-To: =?utf-8?q?v2@victim.example=2C_v3@victim.example?=\r\n"
           "To: desk@example.test\r\nSubject: hi\r\n\r\nhello\r\n").encode()
    mail = parse_mail(raw)
    assert mail.from_addr == "sender@example.test"
    assert "victim" in mail.from_name, "the decoded text stays a display name"
    assert mail.reply_to in (None, "") or "," not in mail.reply_to
