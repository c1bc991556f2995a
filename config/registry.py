"""The partnership registry (config/partnerships.yaml): models, loading and name matching.

    reg = load_registry()                     # cached; load_registry(path) for another file
    reg.by_acronym("Adpack 2").acronym        # 'ADPACK²'
    normalise_acronym("EC2I")                 # 'EC2i'
    reg.find_mentions("… the Mobigoin Action partnership …")  # [Mention('MobiGoIn-Action', …)]

Matching ignores case, spaces, hyphens, dots and superscripts ("AdPack^2", "ad-pack 2" and
"ADPACK²" are the same key). Acronyms that are also ordinary words (DIA, GIVE, MAGIA, ELBE, …,
`strict_case: true` in the YAML) only count when written in capitals or next to a word such as
"partnership", "ESCP" or "project".
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).with_name("partnerships.yaml")
TYPES = ("ESCP-4i", "ESCP-S3")
STRANDS = ("strand-1", "strand-2", None)
ROLES = ("respondent", "fallback")
MAX_ALIAS_TOKENS = 5

_SUPERSCRIPTS = str.maketrans({"²": "2", "³": "3", "¹": "1", "⁴": "4", "^": " "})
_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)
# words that, next to an ambiguous acronym, show it names a partnership (many languages)
_CONTEXT_WORDS = {
    "escp", "escp4i", "escps3", "partnership", "partnerships", "partenariat", "partenariato",
    "partnerschaft", "partnerstwo", "partnerstwa", "parceria", "asociacion", "asociación",
    "consortium", "consorcio", "consorzio", "konsortium", "konsorcjum", "consórcio", "project",
    "projet", "proyecto", "progetto", "projekt", "projeto", "projecto", "cluster", "team",
    "équipe", "equipo", "network", "4i", "s3", "coordinator", "coordination", "partner",
}


class RegistryError(ValueError):
    """The registry file is missing a field or has a wrong value; the message says where."""


def squash(text: str) -> str:
    """Lower-case alphanumeric key: 'AdPack²' -> 'adpack2', 'EU-TEXTILE 2030' -> 'eutextile2030'."""
    text = unicodedata.normalize("NFKC", (text or "").translate(_SUPERSCRIPTS))
    return "".join(_TOKEN_RE.findall(text.casefold()))


@dataclass(frozen=True)
class Consent:
    source: str
    at: str


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    organisation: str
    country: str
    role: str
    consent: Consent


@dataclass(frozen=True)
class Member:
    name: str
    country: str = ""  # not every registry entry knows it


@dataclass(frozen=True)
class Partnership:
    acronym: str
    name: str
    type: str
    strand: str | None
    sectors: tuple[str, ...] = ()
    target_countries: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    strict_case: bool = False
    members: tuple[Member, ...] = ()
    domains: tuple[str, ...] = ()
    contacts: tuple[Contact, ...] = ()
    notes: str = ""


@dataclass(frozen=True)
class Mention:
    acronym: str
    start: int          # character offsets in the searched text
    end: int
    surface: str        # the text as written
    kind: str           # "alias" or "member"
    detail: str = ""    # member name for kind == "member"


@dataclass
class Registry:
    partnerships: list[Partnership]
    path: str = ""
    _by_key: dict[str, Partnership] = field(default_factory=dict, repr=False)
    _phrases: dict[str, tuple[Partnership, str, str]] = field(default_factory=dict, repr=False)
    _domains: dict[str, Partnership] = field(default_factory=dict, repr=False)
    _domain_keys: list[tuple[str, Partnership]] = field(default_factory=list, repr=False)
    _prefixes: frozenset = field(default=frozenset(), repr=False)
    _contacts: dict[str, Partnership] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for p in self.partnerships:
            for spelling in (p.acronym, *p.aliases):
                key = squash(spelling)
                other = self._by_key.get(key)
                if other is not None and other.acronym != p.acronym:
                    raise RegistryError(f"alias {spelling!r} is used by both {other.acronym} and {p.acronym}")
                self._by_key[key] = p
                self._phrases.setdefault(key, (p, "alias", ""))
            for m in p.members:
                self._phrases.setdefault(squash(m.name), (p, "member", m.name))
            for d in p.domains:
                self._domains[d.lower()] = p
            for c in p.contacts:
                self._contacts[c.email.lower()] = p
        self._prefixes = frozenset(k[:i] for k in self._phrases for i in range(1, len(k) + 1))
        # acronyms and aliases that may be spelled in a mail domain: not ordinary words, 4+ characters, longest first
        domain_keys: dict[str, Partnership] = {}
        for p in self.partnerships:
            if not p.strict_case:
                for spelling in (p.acronym, *p.aliases):
                    if len(k := squash(spelling)) >= 4:
                        domain_keys.setdefault(k, p)
        self._domain_keys = sorted(domain_keys.items(), key=lambda kv: -len(kv[0]))

    # ---------------------------------------------------------------- lookups
    @property
    def acronyms(self) -> list[str]:
        return [p.acronym for p in self.partnerships]

    def by_acronym(self, s: str | None) -> Partnership | None:
        """The partnership for any known spelling of its acronym or aliases, else None."""
        if not s:
            return None
        return self._by_key.get(squash(s))

    def normalise(self, s: str | None) -> str | None:
        """Canonical acronym for a known spelling; unknown names come back stripped; None stays None."""
        if s is None:
            return None
        p = self.by_acronym(s)
        return p.acronym if p else (s.strip() or None)

    def by_domain(self, addr_or_domain: str | None) -> Partnership | None:
        """Partnership whose registry domain (or a subdomain of it) the address uses."""
        if not addr_or_domain:
            return None
        domain = addr_or_domain.rsplit("@", 1)[-1].strip().lower().rstrip(".")
        while domain:
            if domain in self._domains:
                return self._domains[domain]
            if "." not in domain:
                break
            domain = domain.split(".", 1)[1]
        return None

    def by_domain_name(self, addr_or_domain: str | None) -> Partnership | None:
        """Partnership whose acronym is spelled in the sender's domain ('adpack2-cluster.example')."""
        if not addr_or_domain:
            return None
        domain = addr_or_domain.rsplit("@", 1)[-1].lower()
        labels = [lab for lab in domain.split(".")[:-1] if lab]
        best: Partnership | None = None
        best_len = 0
        for label in labels:
            key = squash(label)
            for k, p in self._domain_keys:
                if len(k) <= best_len:
                    break
                if key == k or (len(k) >= 5 and k in key):
                    best, best_len = p, len(k)
                    break
        return best

    def by_contact_email(self, addr: str | None) -> Partnership | None:
        if not addr:
            return None
        return self._contacts.get(addr.strip().lower())

    # ---------------------------------------------------------------- matching in text
    def find_mentions(self, text: str) -> list[Mention]:
        """Every alias or member-cluster name written in `text`, in order of appearance: at each
        token, the longest phrase of up to MAX_ALIAS_TOKENS tokens (at most 3 characters apart)."""
        if not text:
            return []
        tokens = list(_TOKEN_RE.finditer(text.translate(_SUPERSCRIPTS)))
        folded = [t.group().casefold() for t in tokens]
        n = len(tokens)
        phrases = self._phrases
        prefixes = self._prefixes
        out: list[Mention] = []
        resume = 0
        for i, key in enumerate(folded):
            if i < resume or key not in prefixes:  # most tokens start no name: one set lookup
                continue
            hit = phrases.get(key)
            found = (i, hit) if hit is not None else None
            for j in range(i + 1, min(n, i + MAX_ALIAS_TOKENS)):
                if tokens[j].start() - tokens[j - 1].end() > 3:   # too far apart to be one name
                    break
                key += folded[j]
                if key not in prefixes:
                    break
                hit = phrases.get(key)
                if hit is not None:
                    found = (j, hit)
            if found is None:
                continue
            j, (p, kind, detail) = found
            start, end = tokens[i].start(), tokens[j].end()
            surface = text[start:end]
            if kind == "alias" and p.strict_case and not self._strict_ok(surface, folded, i, j):
                continue
            out.append(Mention(p.acronym, start, end, surface, kind, detail))
            resume = j + 1
        return out

    @staticmethod
    def _strict_ok(surface: str, folded: list[str], i: int, j: int) -> bool:
        letters = [c for c in surface if c.isalpha()]
        if letters and all(c.isupper() for c in letters):
            return True
        window = folded[max(0, i - 1):i] + folded[j + 1:j + 2]
        return any(w in _CONTEXT_WORDS for w in window)


# ---------------------------------------------------------------- loading
def _tuple(value, where: str) -> tuple:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RegistryError(f"{where}: expected a list, got {type(value).__name__}")
    return tuple(value)


def _partnership(raw: dict, where: str) -> Partnership:
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: expected a mapping")
    for key in ("acronym", "name", "type"):
        if not raw.get(key):
            raise RegistryError(f"{where}: missing '{key}'")
    where = f"{where} ({raw['acronym']})"
    if raw["type"] not in TYPES:
        raise RegistryError(f"{where}: type must be one of {TYPES}, got {raw['type']!r}")
    if raw.get("strand") not in STRANDS:
        raise RegistryError(f"{where}: strand must be strand-1, strand-2 or null, got {raw.get('strand')!r}")
    members = tuple(Member(str(m["name"]), str(m.get("country", ""))) for m in _tuple(raw.get("members"), where))
    domains = tuple(str(d).lower() for d in _tuple(raw.get("domains"), where))
    for d in domains:
        if not d.endswith(".example"):
            raise RegistryError(f"{where}: domain {d!r} must end in .example (fictitious domains only)")
    contacts = []
    for c in _tuple(raw.get("contacts"), where):
        email = str(c.get("email", ""))
        if "@" not in email or not any(email.lower().endswith("@" + d) or email.lower().endswith("." + d) for d in domains):
            raise RegistryError(f"{where}: contact {c.get('name')!r} e-mail {email!r} is not at one of the partnership's domains")
        if c.get("role") not in ROLES:
            raise RegistryError(f"{where}: contact {c.get('name')!r} role must be one of {ROLES}")
        consent = c.get("consent") or {}
        if not consent.get("source") or not consent.get("at"):
            raise RegistryError(f"{where}: contact {c.get('name')!r} needs consent.source and consent.at")
        contacts.append(Contact(str(c["name"]), email, str(c.get("organisation", "")), str(c.get("country", "")),
                                c["role"], Consent(str(consent["source"]), str(consent["at"]))))
    return Partnership(
        acronym=str(raw["acronym"]), name=str(raw["name"]), type=raw["type"], strand=raw.get("strand"),
        sectors=tuple(str(s) for s in _tuple(raw.get("sectors"), where)),
        target_countries=tuple(str(s) for s in _tuple(raw.get("target_countries"), where)),
        aliases=tuple(str(s) for s in _tuple(raw.get("aliases"), where)),
        strict_case=bool(raw.get("strict_case", False)), members=members, domains=domains,
        contacts=tuple(contacts), notes=str(raw.get("notes") or ""),
    )


def parse_registry(data: dict, path: str = "") -> Registry:
    if not isinstance(data, dict) or not isinstance(data.get("partnerships"), list):
        raise RegistryError(f"{path or 'registry'}: top level must be a mapping with a 'partnerships' list")
    items = [_partnership(raw, f"{path or 'registry'}: partnerships[{i}]") for i, raw in enumerate(data["partnerships"])]
    seen: set[str] = set()
    for p in items:
        if p.acronym in seen:
            raise RegistryError(f"{path}: acronym {p.acronym!r} appears twice")
        seen.add(p.acronym)
    return Registry(items, path=path)


@functools.lru_cache(maxsize=8)
def _load(path: str) -> Registry:
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        raise RegistryError(f"registry file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise RegistryError(f"registry file {path} is not valid YAML: {exc}") from None
    return parse_registry(data, path)


def load_registry(path: str | Path | None = None) -> Registry:
    """The registry from `path` (default config/partnerships.yaml), parsed once and cached."""
    return _load(str(Path(path) if path else DEFAULT_PATH))


def normalise_acronym(s: str | None, registry: Registry | None = None) -> str | None:
    """Canonical acronym for any known spelling ('Adpack 2' -> 'ADPACK²'); unknown names are
    returned stripped, None and empty strings give None."""
    return (registry or load_registry()).normalise(s)
