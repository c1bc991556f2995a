"""Turn raw RFC 5322 bytes into a `ParsedMail`: headers, best text, sanitised HTML, attachments.

Parsing never raises for content problems: broken headers, unknown charsets and bad
transfer encodings are decoded with fallbacks and listed in `defects`. Only bytes that
are not a mail at all raise `UnparseableMail`, and intake quarantines those.
"""

from __future__ import annotations

import email
import email.headerregistry
import email.policy
import email.utils
import functools
import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message

import nh3
from inscriptis import get_text

from handlers.addresses import BadAddress, envelope_address

_FALLBACK_CHARSETS = ("utf-8", "cp1252", "latin-1")
_MSGID_RE = re.compile(r"<[^<>\s]+>")
_ALLOWED_TAGS = nh3.ALLOWED_TAGS - {"img"}
ADDRESS_HEADERS = {"from", "reply-to", "to", "cc"}
# Longer header values are kept as they came, not run through the stdlib's structured header
# parser, whose time grows faster than linearly on some values (a run of quotes or dots).
HEADER_PARSE_LIMIT = 8 * 1024
MAX_ADDRESS_LENGTH = 998  # one element of an address list: a header line's limit (RFC 5322)
MAX_COMMENT_DEPTH = 20
MAX_REFERENCES = 100  # the newest ones: enough to thread, and a bounded query


class _HeaderClasses(email.headerregistry.HeaderRegistry):
    """The stdlib's registry, which builds a new class on every call (a tenth of a header's parsing
    time), with each header name's class built once."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(key)
        return cls


_HEADER_FACTORY = _HeaderClasses()
_SHARED_POLICY = email.policy.default.clone(header_factory=_HEADER_FACTORY)
SHARED_HEADER_LENGTH = 100  # header values up to this long are parsed once per worker, not once per mail


@functools.lru_cache(maxsize=64)
def _shared_header(name: str, value: str):
    """A short header value as the modern policy parses it, kept for the mails that follow: most mail
    repeats its MIME-Version, Content-Transfer-Encoding, the parts' Content-Type and the desk's own
    address, and those stay among the 64 most recently used. Header objects are immutable, so mails
    can share one. A parsed value keeps its parse tree, up to about 0.6 KB per character of a value
    made of tokens only: the cache holds at most about 5 MB, whatever mail comes."""
    return _SHARED_POLICY.header_fetch_parse(name, value)


class _OneMailPolicy(email.policy.EmailPolicy):
    """The modern policy, with each distinct header value parsed once per mail. The stdlib parses a
    header again on every read, and reads Content-Type a dozen times per part while it parses the
    MIME tree (most of a mail's parsing time). A new policy for each mail: what it keeps of a long
    value is no larger than the mail's own headers, and is gone with the mail."""

    def __init__(self, **kw) -> None:
        super().__init__(header_factory=_HEADER_FACTORY, **kw)
        object.__setattr__(self, "_parsed", {})  # policies are immutable: this is their own cache

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):  # already a header object
            return value
        if len(value) <= SHARED_HEADER_LENGTH:
            return _shared_header(name, value)
        key = (name, value)
        header = self._parsed.get(key)
        if header is None:
            header = self._parsed[key] = super().header_fetch_parse(name, value)
        return header


class UnparseableMail(ValueError):
    """The bytes do not form a mail we can read; intake stores and quarantines them."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    payload: bytes

    @property
    def size(self) -> int:
        return len(self.payload)


@dataclass
class ParsedMail:
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    subject: str
    from_addr: str
    from_name: str
    to: list[str]
    cc: list[str]
    date: datetime | None
    headers: dict[str, list[str]]
    text: str
    html: str | None
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    content_type: str = "text/plain"
    fingerprint: str = ""  # content_fingerprint() of the raw bytes
    reply_to: str | None = None
    # Where an acknowledgement may go, in order: the addr-spec of the one mailbox of the first Reply-To,
    # then of the first From, each when that header holds exactly one (not a list, a group or nothing),
    # checked and normalised as it goes on the envelope (`envelope_address`; one that is no address we
    # send to is left out). Taken here, in the worker, from the header's structure (never from its
    # decoded text), so recording need neither parse the headers again nor check the addresses.
    answer_to: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        """First value of a header (case-insensitive), or None."""
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def dedup_key(self) -> str:
        """Message-ID when present, else the content fingerprint (same mail, same key)."""
        return self.message_id or f"sha256:{self.fingerprint}"


def parse_mail_timed(raw: bytes) -> tuple[ParsedMail, float]:
    """`parse_mail` and the seconds it took where it ran: the caller's clock would also count the time
    the call waited in the worker pool's queue against the mail's own time limit."""
    started = time.perf_counter()
    parsed = parse_mail(raw)
    return parsed, time.perf_counter() - started


def parse_mail(raw: bytes) -> ParsedMail:
    if not raw or not raw.strip():
        raise UnparseableMail("empty message")
    try:
        msg = email.message_from_bytes(raw, policy=_OneMailPolicy())
    except Exception as exc:  # the stdlib parser is lenient; this is truly broken input
        raise UnparseableMail(f"email parser failed: {exc!r}") from exc
    if not msg.keys():
        raise UnparseableMail("no headers found")

    defects = [type(d).__name__ for d in msg.defects]
    headers, mailboxes, singles = _headers(msg, defects)
    first = lambda name: (headers.get(name) or [None])[0]  # noqa: E731
    from_name, from_addr = (mailboxes.get("from") or [("", "")])[0]
    reply_to = (mailboxes.get("reply-to") or [("", "")])[0][1]
    text, html, attachments = _bodies(msg, defects)
    return ParsedMail(
        message_id=_first_msgid(first("message-id")),
        in_reply_to=_first_msgid(first("in-reply-to")),
        references=_MSGID_RE.findall(" ".join(headers.get("references", [])))[-MAX_REFERENCES:],
        subject=_one_line(first("subject") or ""),
        from_addr=from_addr,
        from_name=from_name,
        to=[addr for _, addr in mailboxes.get("to", [])],
        cc=[addr for _, addr in mailboxes.get("cc", [])],
        date=_date(first("date")),
        headers=headers,
        text=text,
        html=html,
        attachments=attachments,
        defects=defects,
        content_type=msg.get_content_type(),
        fingerprint=content_fingerprint(raw),
        reply_to=reply_to or None,
        answer_to=_envelope_addresses(singles[key] for key in ("reply-to", "from") if key in singles),
    )


def _envelope_addresses(candidates) -> tuple[str, ...]:
    """The candidates that are addresses we send to, as they go on the envelope."""
    valid = []
    for candidate in candidates:
        try:
            valid.append(envelope_address(candidate))
        except BadAddress:
            continue
    return tuple(valid)


# Headers that the transport adds or rewrites on the way: a re-delivery may differ in them only.
TRANSPORT_HEADERS = frozenset({
    "received", "x-received", "delivered-to", "x-delivered-to", "return-path", "x-original-to", "envelope-to",
    "x-envelope-from", "x-envelope-to", "authentication-results", "arc-seal", "arc-message-signature",
    "arc-authentication-results", "received-spf", "x-spam-status", "x-spam-score", "x-spam-flag",
    "x-spam-level", "x-spam-checker-version", "x-virus-scanned", "x-virus-status", "status", "x-status",
    "x-uid", "x-keywords", "lines", "content-length", "x-imapbase",
})
_TRANSPORT_PREFIXES = (b"resent-", b"x-ms-exchange-", b"x-forefront-", b"x-microsoft-antispam", b"x-google-", b"x-gm-")
_HEADER_END_RE = re.compile(rb"\r?\n\r?\n")


def content_fingerprint(raw: bytes) -> str:
    """sha256 of what makes a mail itself: every header but the transport's (names lower-cased, values
    with whitespace collapsed, in any order) and the body (line endings and trailing whitespace
    normalised). Read from the raw bytes in one linear pass."""
    end = _HEADER_END_RE.search(raw)
    head, body = (raw[: end.start()], raw[end.end() :]) if end else (raw, b"")
    fields: list[list[bytes]] = []
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1].append(line)
        else:
            fields.append([line])
    kept = []
    for lines in fields:
        name, _, value = b" ".join(lines).partition(b":")
        name = name.strip().lower()
        if name.decode("latin-1") not in TRANSPORT_HEADERS and not name.startswith(_TRANSPORT_PREFIXES):
            kept.append(name + b":" + b" ".join(value.split()))
    digest = hashlib.sha256(b"\n".join(sorted(kept)))
    digest.update(b"\n\n" + body.replace(b"\r\n", b"\n").rstrip())
    return digest.hexdigest()


def _headers(msg: Message, defects: list[str]) -> tuple[dict[str, list[str]], dict[str, list[tuple[str, str]]], dict[str, str]]:
    """Decoded header values by lower-case name; the mailboxes (display name, address) of the address
    headers, taken from the parsed structure (never from a decoded display string, so an encoded-word
    that decodes to "a@x, b@y" stays one display name); and, of each address header whose first
    occurrence (of at most one header line) holds exactly one mailbox, that mailbox's addr-spec."""
    out: dict[str, list[str]] = {}
    mailboxes: dict[str, list[tuple[str, str]]] = {}
    singles: dict[str, str] = {}
    for name, raw_value in msg.raw_items():
        key = name.lower()
        value = str(raw_value)
        if key in ADDRESS_HEADERS:
            first = key not in out
            value, found, specs = _address_header(msg.policy, name, value, defects)
            mailboxes.setdefault(key, []).extend(found)
            if first and len(specs) == 1 and len(str(raw_value)) <= 998:
                singles[key] = specs[0]
        elif len(value) > HEADER_PARSE_LIMIT:  # the stdlib header parser is super-linear on some long values
            defects.append(f"header-too-long:{name[:60]}")
        else:
            try:
                value = str(msg.policy.header_fetch_parse(name, raw_value))
            except Exception:  # a header the modern policy cannot parse (RecursionError too): keep its raw text
                defects.append(f"bad-header:{name[:60]}")
        out.setdefault(key, []).append(storable(value.strip()))
    return out, mailboxes, singles


def _address_header(policy, name: str, value: str, defects: list[str]) -> tuple[str, list[tuple[str, str]], list[str]]:
    """Parse an address header one top-level element at a time: the stdlib parser is quadratic on a
    long list and recursive in comments, so each element is bounded in length and comment depth.
    Gives the value shown, the mailboxes found, and the addr-spec of every address the parser saw."""
    shown, found, specs = [], [], []
    for element in split_address_list(value, defects):
        try:
            header = policy.header_fetch_parse(name, element)
        except Exception:  # RecursionError, or a value the parser rejects
            defects.append(f"bad-address:{name[:60]}")
            continue
        shown.append(str(header).strip())
        found.extend(_mailboxes(header))
        specs.extend(storable(address.addr_spec) for address in getattr(header, "addresses", ()))
    return ", ".join(x for x in shown if x), found, specs


_ADDRESS_TOKEN_RE = re.compile(r'\\.|["(),<>]|[^\\"(),<>]+', re.DOTALL)


def split_address_list(value: str, defects: list[str]) -> list[str]:
    """Split at commas outside quotes, comments and angle brackets, in one pass. Elements longer than
    a header line (998) or with comments nested deeper than MAX_COMMENT_DEPTH are dropped, as defects."""
    elements, start, depth, quoted, angle, too_deep = [], 0, 0, False, False, False
    for token in _ADDRESS_TOKEN_RE.finditer(value):
        t = token.group()
        if quoted:
            quoted = t != '"'
        elif t == "(":
            depth += 1
            too_deep |= depth > MAX_COMMENT_DEPTH
        elif depth:  # inside a comment only parentheses count
            depth -= t == ")"
        elif t == '"':
            quoted = True
        elif t in "<>":
            angle = t == "<"
        elif t == "," and not angle:
            elements.append((value[start : token.start()], too_deep))
            start, too_deep = token.end(), False
    elements.append((value[start:], too_deep))
    kept = []
    for element, deep in elements:
        if len(element) > MAX_ADDRESS_LENGTH or deep:
            defects.append("address-too-long" if not deep else "address-comments-too-deep")
        elif element.strip():
            kept.append(element)
    return kept


def _mailboxes(header) -> list[tuple[str, str]]:
    """(display name, address) of each mailbox with a local part and a domain."""
    found = []
    for address in getattr(header, "addresses", ()):
        if address.username and address.domain and not any(c.isspace() for c in address.domain):
            found.append((storable(_one_line(address.display_name)), storable(address.addr_spec.strip().lower())))
    return found


def storable(value: str) -> str:
    """Text every database can hold. Raw 8-bit header bytes (kept by the parser as escaped surrogates)
    are read as UTF-8 (RFC 6532); what is still undecodable, and NUL, becomes U+FFFD."""
    if "\x00" in value or not value.isascii():
        try:
            value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
            value = value.encode("utf-8", "replace").decode("utf-8")
        value = value.replace("\x00", "\ufffd")
    return value


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _first_msgid(value: str | None) -> str | None:
    if not value:
        return None
    found = _MSGID_RE.search(value)
    if found:
        return found.group(0)
    value = value.strip()
    return f"<{value}>" if value and " " not in value else None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def decode_part(part: Message) -> str:
    """Text of a part, trying the declared charset, then common fallbacks."""
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = str(part.get_payload()).encode("utf-8", "replace")
    declared = part.get_content_charset()
    for charset in ((declared,) if declared else ()) + _FALLBACK_CHARSETS:
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", "replace")


def html_to_text(html: str) -> str:
    return get_text(html).strip()


def sanitise_html(html: str) -> str:
    return nh3.clean(html, tags=_ALLOWED_TAGS, link_rel="noopener noreferrer nofollow")


def _bodies(msg: Message, defects: list[str]) -> tuple[str, str | None, list[Attachment]]:
    plain: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    for part in _leaf_parts(msg):
        ctype = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        is_body_text = ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename
        if is_body_text:
            try:
                content = decode_part(part)
            except Exception as exc:
                defects.append(f"undecodable-part:{exc!r}")
                continue
            if ctype == "text/plain" and plain is None:
                plain = content
            elif ctype == "text/html" and html is None:
                html = content
            continue
        attachments.append(Attachment(storable(filename) or _default_name(ctype), storable(ctype), _payload_bytes(part)))
    text = plain if plain and plain.strip() else (html_to_text(html) if html else "")
    return storable(text.replace("\r\n", "\n")), storable(sanitise_html(html)) if html else None, attachments


def _leaf_parts(part: Message):
    """Leaves of the MIME tree; an attached message (message/rfc822) is one leaf, not opened."""
    if part.get_content_type() == "message/rfc822" or not part.is_multipart():
        yield part
        return
    for sub in part.get_payload():
        if isinstance(sub, Message):
            yield from _leaf_parts(sub)


def _filename(part: Message) -> str:
    try:
        return part.get_filename() or ""
    except Exception:
        return ""


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if payload is None:  # message/rfc822 and friends: keep their serialised form
        try:
            inner = part.get_payload()
            payload = (inner[0] if isinstance(inner, list) and inner else part).as_bytes()
        except Exception:
            payload = str(part.get_payload()).encode("utf-8", "replace")
    return payload


def _default_name(ctype: str) -> str:
    return {"message/delivery-status": "delivery-status.txt", "message/rfc822": "message.eml",
            "text/rfc822-headers": "headers.txt", "text/calendar": "invite.ics"}.get(ctype, "attachment.bin")
