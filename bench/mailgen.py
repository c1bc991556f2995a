"""Realistic sample mail for tests and benchmarks: ESCP requests of about 4 KB, written for this project.

Each mail is multipart/alternative (text + HTML) with a signature, a disclaimer and a quoted earlier
message, in one of several languages, from a fictitious cluster manager. `make_request(i)` is
deterministic: the same i gives the same bytes (and the same Message-ID).
"""

from __future__ import annotations

import email.policy
import email.utils
from email.message import EmailMessage

BODIES = [
    ("en", "Help with the mission to Japan",
     "Dear EOCIC team,\n\nOur partnership is preparing a trade mission to Osaka for fourteen SMEs next spring. "
     "Could an adviser help us design the B2B matchmaking programme and tell us which local organisations "
     "usually co-host such delegations? We would also welcome examples from other ESCP-4i.\n"),
    ("fr", "Financement des déplacements de nos PME",
     "Bonjour,\n\nNous préparons une mission au Canada avec nos PME et nous cherchons un appel européen qui "
     "cofinance les frais de voyage. Pourriez-vous nous indiquer les possibilités actuelles (COSME, "
     "Horizon Europe, Interreg) et les conditions d'éligibilité ?\n"),
    ("es", "Revisión de nuestro plan de acción",
     "Buenos días:\n\nHemos terminado el borrador del plan de acción conjunto para 2020. ¿Podría alguien del "
     "Observatorio leerlo con ojo crítico antes de nuestra reunión de coordinación del día 12?\n"),
    ("de", "Webinar-Aufzeichnung",
     "Guten Tag,\n\nleider konnte ich am letzten Webinar zwischen den Partnerschaften nicht teilnehmen. Gibt "
     "es eine Aufzeichnung oder die Folien? Wir würden im nächsten Webinar gern über unsere Erfahrungen in "
     "Südkorea berichten.\n"),
    ("it", "Strategia di coinvolgimento delle PMI",
     "Buongiorno,\n\nstiamo faticando a coinvolgere le PMI dei nostri cluster nelle attività del partenariato. "
     "Potreste aiutarci a definire una strategia di coinvolgimento e una proposta di valore per le imprese?\n"),
    ("pt", "Informação sobre serviços da UE na Índia",
     "Bom dia,\n\nque serviços europeus de apoio à internacionalização existem na Índia para as nossas PME "
     "(EEN, helpdesk de PI, centros para PME)? Precisamos de um resumo para a nossa assembleia.\n"),
]
FILLER = (
    "For context, our partnership brings together five cluster organisations and about 1,200 SMEs in the "
    "packaging, agro-food and advanced manufacturing value chains. Over the last months we have organised "
    "two scouting missions, a joint webinar series and a survey of our members' needs; the results point "
    "to a strong interest in third-country markets but limited resources to prepare them. "
)
DISCLAIMER = (
    "CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and intended solely for the "
    "addressee. If you have received it in error, please notify the sender and delete it. Any views "
    "expressed are those of the author and do not necessarily represent those of the organisation. "
)


def make_request(i: int, *, to: str = "eocic@eocic-desk.example", domain: str | None = None) -> bytes:
    lang, subject, body = BODIES[i % len(BODIES)]
    domain = domain or f"cluster{i % 97}.example"
    sender = f"manager{i}@{domain}"
    quoted = "\n".join("> " + line for line in (FILLER * 3).split(". "))
    text = (
        f"{body}\n{FILLER}\n\nBest regards,\nAlex Manager {i}\nCluster coordinator\n{domain}\n\n-- \n{DISCLAIMER}\n\n"
        f"On 2 May 2019, EOCIC wrote:\n{quoted}\n"
    )
    html = "<html><body>" + "".join(f"<p>{p}</p>" for p in text.split("\n\n")) + "</body></html>"
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = email.utils.formataddr((f"Alex Manager {i}", sender))
    msg["To"] = to
    msg["Subject"] = f"{subject} ({i})"
    msg["Date"] = email.utils.format_datetime(email.utils.localtime().replace(microsecond=0))
    msg["Message-ID"] = f"<req-{i}@{domain}>"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg.as_bytes()
