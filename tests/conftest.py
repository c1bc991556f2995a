"""Shared fixtures. Keep this file small: put fixtures in their own module and import them here."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # `tests` is not an installed package
    sys.path.insert(0, _ROOT)

# Real servers on loopback: Dovecot, SMTP sink, PostgreSQL; desk_env.
from tests.servers import (  # noqa: E402,F401
    desk_env,
    dovecot,
    postgres,
    postgres_db_url,
    postgres_url,
    smtp_sink,
)
# OAuth2: a strict local provider, Dovecot checking its tokens, an SMTP sink taking XOAUTH2/OAUTHBEARER.
from tests.oauth2_provider import oauth2_dovecot, oauth2_provider, oauth2_smtp  # noqa: E402,F401
