"""An acknowledgement made from the prototype (handlers/acks.py, handlers/mail_prototype.py) must be
byte for byte the mail that composing it with the `email` package gives, except its own Date,
Message-ID and MIME boundary; where the prototype does not serve, or composing fails, the outcome is
the composed one. Whatever the sender wrote goes into an acknowledgement (name, subject, Message-IDs),
so Hypothesis writes them too.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile

from hypothesis import given, settings as hypothesis_settings, strategies as st

from config.settings import load_settings
from handlers.acks import Ack, _AckPrototype, ack_fields, compose_ack
from handlers.outgoing import outbox_fields
from templates import languages

SETTINGS = load_settings(data_dir=tempfile.mkdtemp(prefix="eocic-prototype-"), secret_key="test-secret", http_port=0)
LANGUAGES = sorted(languages("ack"))
ACK = Ack(ticket_id=12, ref="EOCIC-000012", language="de", recipient="anna.muller@baltic-forge.example",
          name="Anna Müller", subject="Anfrage: Unterstützung für Ärger mit Partnerschaften im Bereich Wasserstoff",
          in_reply_to="<CAF=abc123@mail.baltic-forge.example>", references=["<first@x.example>", "<second@x.example>"])


def normalised(raw: bytes) -> bytes:
    """Date, Message-ID and the MIME boundary blanked: the fields every mail has of its own."""
    boundary = re.search(rb'boundary="([^"]+)"', raw).group(1)
    raw = raw.replace(boundary, b"BOUNDARY")
    raw = re.sub(rb"\r\nDate: [^\r]*\r\n", b"\r\nDate: DATE\r\n", raw)
    return re.sub(rb"\r\nMessage-ID: <[^>]+>\r\n", b"\r\nMessage-ID: <ID>\r\n", raw)


def outcome(make):
    try:
        return make()
    except Exception as exc:  # composing refused it: the prototype must refuse it too
        return exc


def assert_same_mail(ack: Ack) -> None:
    reference = outcome(lambda: outbox_fields(compose_ack(SETTINGS, ack)))
    ours = outcome(lambda: ack_fields(SETTINGS, ack))
    if isinstance(reference, Exception):
        assert isinstance(ours, Exception), ours
        return
    assert not isinstance(ours, Exception), ours
    assert {k: v for k, v in ours.items() if k not in ("raw", "message_id")} == \
        {k: v for k, v in reference.items() if k not in ("raw", "message_id")}
    if "raw" in reference:
        assert normalised(ours["raw"]) == normalised(reference["raw"])
        assert f"\r\nMessage-ID: {ours['message_id']}\r\n".encode() in ours["raw"]


def test_the_prototype_serves_every_language_threaded_or_not():
    for threaded in (True, False):
        prototype = _AckPrototype.of(SETTINGS, threaded)
        assert prototype is not None, "the prototype could not be cut: every acknowledgement is composed the slow way"
        for language in [*LANGUAGES, None, "xx"]:
            ack = dataclasses.replace(ACK, language=language, in_reply_to=ACK.in_reply_to if threaded else None)
            texts = dict(zip(("subject", "text", "html"), _rendered(ack)))
            fields = prototype.fields(SETTINGS, ack, **texts)
            assert fields is not None
            assert normalised(fields["raw"]) == normalised(outbox_fields(compose_ack(SETTINGS, ack))["raw"])
            assert_same_mail(ack)


def _rendered(ack: Ack):
    from templates import render_mail

    return render_mail("ack", ack.language, ref=ack.ref, name=ack.name, subject=ack.subject,
                       response_days=SETTINGS.first_response_days)


def test_each_acknowledgement_has_its_own_message_id_and_boundary():
    first, second = ack_fields(SETTINGS, ACK), ack_fields(SETTINGS, ACK)
    assert first["message_id"] != second["message_id"]
    boundaries = [re.search(rb'boundary="([^"]+)"', f["raw"]).group(1) for f in (first, second)]
    assert boundaries[0] != boundaries[1]
    assert all(f["raw"].count(b"--" + b) == 3 for f, b in zip((first, second), boundaries))


def test_recipients_the_prototype_does_not_write_are_composed():
    for recipient in ("Anna.Muller@Baltic-Forge.example", "petr@příklad.example", "žofie@příklad.example",
                      "not an address", "a@b"):
        assert_same_mail(dataclasses.replace(ACK, recipient=recipient))


def test_long_and_odd_headers_come_out_as_composed():
    long_id = "<" + "x" * 200 + "@very-long-host.example>"
    for change in (dict(subject="Re: " * 40 + "ünïcödé " * 30), dict(subject="=?utf-8?b?ZXZlQGV2aWwuZXhhbXBsZQ==?="),
                   dict(in_reply_to=long_id), dict(references=[f"<r{i}@x.example>" for i in range(30)]),
                   dict(in_reply_to="<a b@x.example>"), dict(in_reply_to="<a@x>\r\nBcc: eve@evil.example"),
                   dict(references=["<a@x>\nBcc: eve@evil.example"]), dict(name="\"Eve\" <eve@evil.example>, bob@x"),
                   dict(subject="\udcff broken bytes"), dict(name="\u2028line\x0bbreaks\x1c"), dict(subject="")):
        assert_same_mail(dataclasses.replace(ACK, **change))


header_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from("\r\n\t =?<>@\"\\"),
                      max_size=120)


@hypothesis_settings(max_examples=300, deadline=None)
@given(name=header_text, subject=header_text, parent=st.none() | header_text,
       references=st.lists(header_text, max_size=25), language=st.sampled_from([*LANGUAGES, None]))
def test_whatever_the_sender_wrote_the_acknowledgement_is_the_composed_one(name, subject, parent, references, language):
    assert_same_mail(Ack(7, "EOCIC-000007", language, "sender@partner.example", name, subject or "(no subject)",
                         parent, references))
