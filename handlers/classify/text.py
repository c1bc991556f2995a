"""Split a mail body into what the sender wrote now, the signature, and the quoted/forwarded rest.

`split_body(text)` returns `Body(new, signature, quoted, disclaimer)`; the classifier decides on
`new` (plus the subject), and still looks at `signature` (and, weakly, `quoted`) for the
partnership. Works on plain text (ParsedMail.text is already plain text for HTML-only mail).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --------------------------------------------------------------------------- quote headers
# A line (sometimes wrapped onto two) that introduces a quoted earlier message.
_ATTRIBUTION = [
    r"on\b.{0,200}\bwrote\s*:?",                         # en (Gmail, Apple, Thunderbird)
    r"le\b.{0,200}\ba\s+[ée]crit\s*:?",                  # fr
    r"el\b.{0,200}\bescribi[óo]\s*:?",                   # es
    r"am\b.{0,200}\bschrieb\b.{0,120}:?",                # de
    r"il\b.{0,200}\bha\s+scritto\s*:?",                  # it
    r"em\b.{0,200}\bescreveu\s*:?",                      # pt
    r"no\s+dia\b.{0,200}\bescreveu\s*:?",                # pt
    r"w\s+dniu\b.{0,200}\bpisze\s*:?",                   # pl
    r"w\s+dniu\b.{0,200}\bnapisa[łl]\w*\s*:?",           # pl
    r"op\b.{0,200}\bschreef\b.{0,120}:?",                # nl
    r"den\b.{0,200}\bskrev\b.{0,120}:?",                 # sv/da/no
    r".{0,200}\b(?:wrote|a\s+[ée]crit|escribi[óo]|schrieb|ha\s+scritto|escreveu|napisa[łl]\w*|schreef|skrev|kirjoitti|írta|napsal\w*|έγραψε|a\s+scris|je\s+napisa\w*)\s*:\s*",
]
_ATTRIBUTION_RE = re.compile(r"^\s*(?:" + "|".join(_ATTRIBUTION) + r")\s*$", re.IGNORECASE)
# Every attribution above names its verb, and these stems hold no space: a line (or two joined by
# a space) without one of them cannot match, and most lines are skipped at this cheap test.
_ATTRIBUTION_VERB_RE = re.compile(r"wrote|crit|escribi|schrieb|scritto|escreveu|pisze|napisa|schreef|skrev|kirjoitti|"
                                  r"írta|napsal|έγραψε|scris")  # on casefolded text, see _DISCLAIMER_RE

_ORIGINAL_RE = re.compile(
    r"^\s*[-_=*\s]{2,}\s*(?:original\s+message|forwarded\s+message|begin\s+forwarded\s+message|"
    r"message\s+d'origine|message\s+original|message\s+transf[ée]r[ée]|mensaje\s+original|mensaje\s+reenviado|"
    r"urspr[üu]ngliche\s+nachricht|weitergeleitete\s+nachricht|messaggio\s+originale|messaggio\s+inoltrato|"
    r"mensagem\s+original|mensagem\s+encaminhada|wiadomo[śs][ćc]\s+oryginalna|oryginalna\s+wiadomo[śs][ćc]|"
    r"przekazana\s+wiadomo[śs][ćc]|oorspronkelijk\s+bericht|doorgestuurd\s+bericht|ursprungligt\s+meddelande|"
    r"vidarebefordrat\s+meddelande|original\s+meddelelse|alkuper[äa]inen\s+viesti|eredeti\s+[üu]zenet|"
    r"p[ůu]vodn[íi]\s+zpr[áa]va|mesaj\s+original|αρχικό\s+μήνυμα)\s*[-_=*\s]*:?\s*$",
    re.IGNORECASE,
)
_BEGIN_FWD_RE = re.compile(r"^\s*(?:begin\s+forwarded\s+message|d[ée]but\s+du\s+message\s+r[ée]exp[ée]di[ée]|"
                           r"inicio\s+del\s+mensaje\s+reenviado|anfang\s+der\s+weitergeleiteten\s+nachricht|"
                           r"inizio\s+messaggio\s+inoltrato|in[íi]cio\s+da\s+mensagem\s+reencaminhada)\s*:?\s*$",
                           re.IGNORECASE)
# Outlook header blocks: "From: …" followed within a few lines by "Sent: …"/"Date: …"
_FROM_WORDS = r"(?:from|de|von|da|od|van|fr[åa]n|fra|l[äa]hett[äa]j[äa]|felad[óo]|od\s*:|από|expeditor|\*from\*)"
_SENT_WORDS = (r"(?:sent|date|envoy[ée]|gesendet|datum|inviato|data|enviado|enviada|fecha|wys[łl]ano|wys[łl]ane|"
               r"verzonden|skickat|sendt|l[äa]hetetty|elk[üu]ldve|odesl[áa]no|στάλθηκε|trimis|subject|objet|betreff|"
               r"oggetto|asunto|assunto|temat|onderwerp|[äa]mne|to|[àa]|an|a|para|do|aan|till)")
_FROM_LINE_RE = re.compile(r"^\s*\**\s*" + _FROM_WORDS + r"\s*\**\s*:\s*\S", re.IGNORECASE)
_SENT_LINE_RE = re.compile(r"^\s*\**\s*" + _SENT_WORDS + r"\s*\**\s*:\s*", re.IGNORECASE)
_UNDERSCORE_RE = re.compile(r"^\s*_{8,}\s*$")

# --------------------------------------------------------------------------- signatures
_SIGNOFF = [
    # en
    r"(?:best|kind|warm|warmest|many|with\s+best|with\s+kind)\s+(?:regards|wishes)", r"regards", r"best", r"cheers",
    r"sincerely(?:\s+yours)?", r"yours(?:\s+sincerely|\s+faithfully|\s+truly)?", r"all\s+the\s+best",
    r"thanks(?:\s+(?:again|a\s+lot|in\s+advance))?", r"thank\s+you(?:\s+(?:very\s+much|in\s+advance))?",
    r"many\s+thanks", r"br", r"kr", r"rgds", r"talk\s+soon", r"speak\s+soon", r"have\s+a\s+(?:nice|good|great)\s+(?:day|week|weekend)",
    r"(?:thank\s+you|thanks|many\s+thanks|merci|gracias|danke|grazie|obrigad[oa]|dzi[ęe]kuj[ęe]|d[ěe]kuji|bedankt|tack)\s+(?:and|et|y|und|e|i|en|och|a)\s+.{0,40}",
    r"d[ěe]kuji", r"s\s+pozdravem", r"hilsen", r"mvh", r"groetjes", r"ciao", r"tschüss", r"bises", r"besos", r"beijinhos?",
    # fr
    r"(?:bien\s+)?cordialement", r"bien\s+[àa]\s+vous", r"salutations(?:\s+distingu[ée]es)?", r"merci(?:\s+d'avance|\s+beaucoup|\s+par\s+avance)?",
    r"bonne\s+(?:journ[ée]e|soir[ée]e)", r"amicalement", r"sinc[èe]res\s+salutations", r"belle\s+journ[ée]e",
    # es
    r"(?:un\s+)?(?:cordial\s+)?saludos?(?:\s+cordiales)?", r"atentamente", r"un\s+abrazo", r"gracias(?:\s+de\s+antemano)?",
    r"muchas\s+gracias", r"reciba\s+un\s+cordial\s+saludo",
    # de
    r"mit\s+freundlichen\s+gr[üu](?:ß|ss)en", r"(?:viele|beste|liebe|herzliche|freundliche|sonnige)\s+gr[üu](?:ß|ss)e(?:\s+aus\s+\w+)?",
    r"mfg", r"lg", r"vg", r"gru(?:ß|ss)", r"danke(?:\s+(?:sch[öo]n|im\s+voraus))?", r"vielen\s+dank(?:\s+im\s+voraus)?",
    # it
    r"cordiali\s+saluti", r"distinti\s+saluti", r"(?:un\s+)?saluto", r"saluti", r"grazie(?:\s+mille|\s+in\s+anticipo)?",
    r"a\s+presto", r"buona\s+giornata", r"un\s+caro\s+saluto",
    # pt
    r"(?:com\s+os\s+)?(?:melhores\s+)?cumprimentos", r"atenciosamente", r"obrigad[oa](?:\s+desde\s+j[áa])?", r"abra[çc]os?",
    r"saudações", r"votos\s+de\s+bom\s+trabalho",
    # pl
    r"pozdrawiam(?:\s+serdecznie)?", r"z\s+powa[żz]aniem", r"serdecznie\s+pozdrawiam", r"pozdrowienia", r"dzi[ęe]kuj[ęe](?:\s+bardzo)?",
    r"z\s+wyrazami\s+szacunku",
    # nl, nordic, others
    r"met\s+vriendelijke\s+groet(?:en)?", r"(?:hartelijke\s+)?groet(?:en|jes)?", r"med\s+v[äa]nlig(?:a)?\s+h[äa]lsning(?:ar)?",
    r"v[äa]nliga\s+h[äa]lsningar", r"med\s+venlig\s+hilsen", r"venlig\s+hilsen", r"yst[äa]v[äa]llisin\s+terveisin", r"terveisin",
    r"[üu]dv[öo]zlettel", r"s\s+pozdravom", r"lp", r"lep\s+pozdrav", r"srda[čc]an\s+pozdrav",
    r"cu\s+stim[ăa]", r"toate\s+cele\s+bune", r"με\s+εκτίμηση", r"φιλικά", r"ευχαριστώ", r"lugupidamisega", r"pagarbiai", r"ar\s+cie[ņn]u",
]
_SIGNOFF_RE = re.compile(r"^\s*(?:" + "|".join(_SIGNOFF) + r")\s*[,.!:;-]*\s*$", re.IGNORECASE)
# "Sent from my iPhone" and friends
_MOBILE_RE = re.compile(
    r"^\s*(?:sent\s+from\s+(?:my|mail\s+for)|get\s+outlook\s+for|envoy[ée]\s+(?:de|depuis)\s+mon|enviado\s+desde\s+mi|"
    r"von\s+meinem\s+\w+\s+gesendet|gesendet\s+von\s+meinem|inviato\s+da(?:l)?\s+(?:mio\s+)?|enviado\s+do\s+meu|"
    r"wys[łl]ane\s+z\s+(?:mojego|iphone|aplikacji)|verzonden\s+(?:met|vanaf)\s+mijn|skickat\s+fr[åa]n\s+min)",
    re.IGNORECASE,
)
_SIG_DASH_RE = re.compile(r"^\s*--\s*$")

# --------------------------------------------------------------------------- disclaimers
# Matched on casefolded text: written in lower case and without IGNORECASE, the pattern lets `re`
# skip to the places where one of its first letters stands (about 8x faster on a long paragraph).
_DISCLAIMER_RE = re.compile(
    r"(?:confidential|privileged|intended\s+(?:solely\s+|only\s+)?for\s+the|if\s+you\s+(?:have\s+)?received\s+this|"
    r"disclaimer|not\s+the\s+intended\s+recipient|please\s+consider\s+the\s+environment|"
    r"confidentiel|destinataire|ce\s+message\s+et\s+(?:toutes\s+)?les\s+pi[èe]ces|"
    r"confidencial|destinatario|este\s+mensaje\s+(?:y\s+sus\s+anexos\s+)?(?:es|puede)|aviso\s+legal|"
    r"vertraulich|nicht\s+der\s+richtige\s+adressat|diese\s+e-?mail\s+enth[äa]lt|haftungsausschluss|"
    r"riservat|destinatari[oa]|questo\s+messaggio\s+(?:e\s+i\s+suoi\s+allegati|è|potrebbe)|"
    r"destinat[áa]rio|esta\s+mensagem|"
    r"poufn|adresat|wiadomo[śs][ćc]\s+ta\s+(?:jest|mo[żz]e)|"
    r"vertrouwelijk|geadresseerde|"
    r"protection\s+des\s+donn[ée]es|datenschutz|protecci[óo]n\s+de\s+datos|"
    r"gdpr|rgpd|dsgvo|rodo)",
)


@dataclass
class Body:
    new: str
    signature: str = ""
    quoted: str = ""
    disclaimer: str = ""


def _quote_start(lines: list[str]) -> int | None:
    """Index of the first line of the quoted/forwarded part, or None."""
    n = len(lines)
    verbs: dict[int, bool] = {}

    def has_verb(k: int) -> bool:   # asked only of the lines up to the quote (and the next one)
        if k not in verbs:
            verbs[k] = _ATTRIBUTION_VERB_RE.search(lines[k].casefold()) is not None
        return verbs[k]

    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            continue
        if s.startswith(">"):
            # a run of '>' lines (allow one attribution line before it, handled above)
            return i
        if _ORIGINAL_RE.match(s) or _BEGIN_FWD_RE.match(s):
            return i
        if len(s) < 400 and (has_verb(i) or (i + 1 < n and has_verb(i + 1))):
            if has_verb(i) and _ATTRIBUTION_RE.match(s):
                return i
            if i + 1 < n and len(s) < 200:
                joined = s + " " + lines[i + 1].strip()
                if _ATTRIBUTION_RE.match(joined) and re.search(r"[:：]\s*$", joined) and not re.search(r"[:：]\s*$", s):
                    return i
        if _UNDERSCORE_RE.match(s):
            for k in range(i + 1, min(n, i + 3)):
                if _FROM_LINE_RE.match(lines[k]):
                    return i
        if _FROM_LINE_RE.match(s):
            hits = 0
            for k in range(i + 1, min(n, i + 6)):
                if _SENT_LINE_RE.match(lines[k]):
                    hits += 1
            if hits >= 1:
                return i
    return None


def _signature_start(lines: list[str]) -> int | None:
    """Index of the line where the signature (sign-off, '-- ', mobile footer) begins."""
    content_seen = 0
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            continue
        if _SIG_DASH_RE.match(line) or _MOBILE_RE.match(s):
            return i
        if _SIGNOFF_RE.match(s) and (content_seen > 0 or i > 0):
            return i
        content_seen += 1
    return None


def _cut_disclaimer(lines: list[str]) -> tuple[list[str], list[str]]:
    """Split off trailing paragraphs that look like legal/confidentiality boilerplate."""
    text = "\n".join(lines)
    paras = re.split(r"\n\s*\n", text)
    keep: list[str] = []
    cut: list[str] = []
    for p in paras:
        if cut or (len(p) > 120 and len(_DISCLAIMER_RE.findall(p.casefold())) >= 2):
            cut.append(p)
        else:
            keep.append(p)
    return "\n\n".join(keep).split("\n"), cut


def split_body(text: str) -> Body:
    """Split `text` into new text / signature / quoted part / disclaimer."""
    if not text:
        return Body("")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\u200b", "")
    lines = text.split("\n")
    q = _quote_start(lines)
    quoted = ""
    if q is not None:
        quoted = "\n".join(lines[q:])
        lines = lines[:q]
    # stray '>' lines inside the new part (inline replies keep the non-quoted lines)
    lines = [ln for ln in lines if not ln.lstrip().startswith(">")]
    lines, cut = _cut_disclaimer(lines)
    disclaimer = "\n\n".join(cut)
    s = _signature_start(lines)
    signature = ""
    if s is not None:
        signature = "\n".join(lines[s:])
        lines = lines[:s]
    new = "\n".join(lines).strip()
    return Body(new=new, signature=signature.strip(), quoted=quoted.strip(), disclaimer=disclaimer.strip())


_SUBJECT_PREFIX_RE = re.compile(
    r"^\s*(?:(?:re|aw|wg|fw|fwd|tr|rv|r|ri|i|res|enc|odp|pd|sv|vs|antw|doorst|vl|ynt|трансф|отг|απ|σχετ)\s*(?:\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)


def clean_subject(subject: str) -> str:
    return _SUBJECT_PREFIX_RE.sub("", subject or "").strip()
