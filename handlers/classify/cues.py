"""Multilingual cue lexicons: phrases that point to an intent or a service category.

They are hand-written from the catalogue (seed 000), the label scheme and how cluster managers
write, in en/fr/es/de/it/pt/pl/nl (+ a few others). They are not decisions on their own: each
lexicon becomes a feature of the linear models (so the models learn how far to trust it), and
the phrase that fired is what `reasons` shows a person.

Patterns are matched on lower-cased text; keep them short stems so that inflections match.
"""

from __future__ import annotations

import re

from config import catalogue

# ---------------------------------------------------------------------------------- intents
INTENT_CUES: dict[str, list[str]] = {
    "auto-reply": [
        r"out\s+of\s+(?:the\s+)?office", r"\booo\b", r"i\s+am\s+(?:currently\s+)?(?:away|out|on\s+(?:leave|holiday|vacation|annual|parental|maternity|sick|a\s+business\s+trip|mission)|travell?ing|absent|off)",
        r"i\s+will\s+be\s+(?:away|out|back|off|on\s+leave|absent|travell?ing)", r"(?:limited|no|restricted|intermittent)\s+access\s+to\s+(?:my\s+)?e-?mails?",
        r"(?:back|return(?:ing)?)\s+(?:in|to)\s+the\s+office", r"i\s+(?:will|shall)\s+(?:return|reply|respond)\s+(?:on|after|when|upon|as\s+soon)",
        r"annual\s+leave", r"parental\s+leave", r"maternity\s+leave", r"sick\s+leave", r"public\s+holiday",
        r"no\s+longer\s+(?:with|work(?:s|ing)?\s+(?:for|at|with)|employed|part\s+of|at\s+\w+|in\s+charge|monitored|active|in\s+use|valid)",
        r"(?:have|has)\s+left\s+(?:the|our|this)\s+(?:organi[sz]ation|company|cluster|association|team)", r"i\s+have\s+left",
        r"(?:mailbox|address|inbox|account)\s+is\s+(?:no\s+longer|not)\s+(?:monitored|in\s+use|active|read|checked)", r"not\s+monitored",
        r"auto(?:matic(?:ally)?)?[\s-]*(?:reply|response|generated|answer|matic\s+reply)", r"autoreply", r"this\s+is\s+an\s+automat",
        r"we\s+(?:have\s+)?received\s+your\s+(?:e-?mail|message|request|enquiry|inquiry)", r"(?:ticket|case|request)\s+(?:number|no\.?|id|#|reference)",
        r"do\s+not\s+reply\s+to\s+this", r"for\s+urgent\s+(?:matters|requests|issues|questions)", r"in\s+urgent\s+cases", r"please\s+contact\s+my\s+colleague",
        # fr
        r"je\s+suis\s+(?:actuellement\s+)?(?:absente?|en\s+(?:cong[ée]|d[ée]placement|vacances|mission|t[ée]l[ée]travail))", r"absente?\s+(?:du|jusqu|jusqu'au|le)", r"hors\s+du\s+bureau",
        r"de\s+retour\s+(?:le|au\s+bureau|lundi|mardi|mercredi|jeudi|vendredi|à\s+partir)", r"r[ée]ponse\s+automatique", r"message\s+automatique", r"ne\s+fait\s+plus\s+partie",
        r"a\s+quitt[ée]", r"n'est\s+plus\s+(?:en\s+poste|active|consult[ée]e|valide|relev[ée]e)", r"en\s+cas\s+d'urgence", r"cong[ée]s?\s+(?:annuels?|d'[ée]t[ée]|maternit[ée])",
        r"je\s+prendrai\s+connaissance", r"acc[èe]s\s+limit[ée]\s+(?:à|a)\s+(?:ma|mes)\s+(?:messagerie|e-?mails?|courriels?)",
        # es
        r"fuera\s+de\s+(?:la\s+)?oficina", r"(?:estoy|estar[ée])\s+(?:ausente|fuera|de\s+vacaciones|de\s+viaje|de\s+baja|de\s+permiso)", r"de\s+vacaciones",
        r"(?:regresar[ée]|volver[ée]|me\s+reincorporar[ée]|estar[ée]\s+de\s+vuelta)", r"respuesta\s+autom[áa]tica", r"mensaje\s+autom[áa]tico",
        r"ya\s+no\s+(?:trabaja|forma\s+parte|est[áa]\s+(?:en|activ)|se\s+revisa)", r"en\s+caso\s+de\s+urgencia", r"acceso\s+limitado\s+al?\s+correo",
        # de
        r"(?:ich\s+bin\s+)?(?:derzeit\s+|zurzeit\s+)?(?:nicht\s+im\s+b[üu]ro|abwesend|au(?:ß|ss)er\s+haus|im\s+urlaub)", r"abwesenheitsnotiz", r"automatische\s+antwort",
        r"ab\s+dem\s+\S+\s+(?:wieder|zur[üu]ck)", r"wieder\s+(?:erreichbar|im\s+b[üu]ro|zur[üu]ck)", r"nicht\s+mehr\s+(?:bei|f[üu]r|im|in\s+der|t[äa]tig|besetzt|aktiv)",
        r"in\s+dringenden\s+f[äa]llen", r"eingeschr[äa]nkt\s+erreichbar", r"elternzeit", r"hat\s+(?:das\s+unternehmen|uns|den\s+cluster)\s+verlassen",
        # it
        r"fuori\s+(?:ufficio|sede)", r"(?:sono|sar[òo])\s+(?:assente|in\s+ferie|fuori|in\s+viaggio|in\s+congedo)", r"in\s+ferie", r"rientrer[òo]", r"sar[òo]\s+di\s+nuovo",
        r"risposta\s+automatica", r"messaggio\s+automatico", r"non\s+(?:lavora|fa|è)\s+pi[ùu]", r"per\s+(?:questioni|casi)\s+urgenti", r"accesso\s+limitato\s+alla\s+posta",
        # pt
        r"fora\s+do\s+escrit[óo]rio", r"(?:estou|estarei)\s+(?:ausente|fora|de\s+f[ée]rias|em\s+viagem|de\s+licen[çc]a)", r"de\s+f[ée]rias", r"regressarei",
        r"estarei\s+de\s+volta", r"resposta\s+autom[áa]tica", r"mensagem\s+autom[áa]tica", r"j[áa]\s+n[ãa]o\s+(?:trabalha|faz\s+parte|est[áa])", r"em\s+caso\s+de\s+urg[êe]ncia",
        # pl
        r"poza\s+biurem", r"nieobecn", r"(?:jestem|b[ęe]d[ęe])\s+na\s+urlopie", r"urlop", r"wracam", r"wr[óo]c[ęe]", r"automatyczna\s+odpowied[źz]",
        r"nie\s+pracuje\s+ju[żz]", r"w\s+pilnych\s+sprawach", r"ograniczony\s+dost[ęe]p",
        # nl and others
        r"afwezig", r"buiten\s+kantoor", r"met\s+vakantie", r"automatisch\s+antwoord", r"niet\s+meer\s+werkzaam", r"frånvarande", r"semester", r"ferie",
        r"lomalla", r"szabads[áa]g", r"dovolen[áa]", r"concediu", r"εκτός\s+γραφείου",
        r"dovolen", r"nem[áa]m\s+p[řr][íi]stup", r"nep[řr][íi]tomn", r"απουσιάζ", r"άδεια", r"encontro-me\s+ausente", r"me\s+encuentro\s+(?:fuera|ausente)", r"i\s+left\s+(?:the\s+|our\s+)?[a-z]",
        r"(?:address|mailbox|account)\s+will\s+(?:be\s+)?(?:closed|deactivated|deleted|no\s+longer)", r"(?:my|his|her)\s+successor", r"nachfolger(?:in)?", r"successeur", r"sucesor(?:a)?", r"successor[ea]", r"sucessor(?:a)?", r"nast[ęe]pc",
        r"licen[çc]a\s+de\s+(?:maternidade|paternidade|parentalidade)", r"n[ãa]o\s+[ée]\s+consultad", r"baja\s+(?:por\s+)?(?:maternidad|paternidad)", r"cong[ée]\s+(?:de\s+)?maternit[ée]",
        r"mutterschutz", r"maternit[àa]", r"urlop\s+macierzy", r"nepracuje", r"vygenerov", r"automaticky", r"as\s+soon\s+as\s+i(?:'m|\s+am)\s+back", r"when\s+i(?:'m|\s+am)\s+back", r"upon\s+my\s+return",
        r"d[èe]s\s+mon\s+retour", r"a\s+mi\s+regreso", r"nach\s+meiner\s+r[üu]ckkehr", r"al\s+mio\s+rientro", r"no\s+meu\s+regresso", r"po\s+powrocie",
        r"nicht\s+mehr\s+(?:regelm[äa](?:ß|ss)ig\s+)?abgerufen", r"automatisch\s+(?:erzeugt|generiert)", r"no\s+longer\s+(?:regularly\s+)?(?:checked|read)", r"n'est\s+plus\s+consult[ée]e",
        r"ya\s+no\s+se\s+(?:consulta|revisa)", r"non\s+[èe]\s+pi[ùu]\s+consultat", r"j[áa]\s+n[ãa]o\s+[ée]\s+consultad", r"nie\s+jest\s+ju[żz]\s+sprawdzan", r"wordt\s+niet\s+meer\s+(?:gelezen|bekeken)",
        r"will\s+not\s+be\s+(?:reading|checking|answering)", r"(?:e-?mail|message)\s+(?:will\s+not|won't)\s+be\s+forwarded", r"wordt\s+niet\s+doorgestuurd", r"n'est\s+pas\s+transf[ée]r[ée]", r"wird\s+nicht\s+weitergeleitet",
    ],
    "bounce": [
        r"delivery\s+(?:status\s+notification|has\s+failed|failed|failure|incomplete|to\s+the\s+following\s+recipients?\s+failed)", r"undeliver(?:able|ed)",
        r"returned\s+to\s+sender", r"mail\s+delivery\s+(?:subsystem|system|failed)", r"(?:could|can)\s*(?:not|n't)\s+be\s+delivered",
        r"address\s+(?:not\s+found|rejected|couldn't\s+be\s+found)", r"user\s+unknown", r"recipient\s+address\s+rejected", r"mailbox\s+(?:unavailable|not\s+found|does\s+not\s+exist)",
        r"no\s+such\s+user", r"\b5\.\d\.\d{1,3}\b", r"\b550\b", r"permanent\s+(?:error|failure)", r"diagnostic-code", r"final-recipient", r"mailer-daemon", r"postmaster",
        r"non\s+remis", r"impossible\s+de\s+remettre", r"n'a\s+pas\s+pu\s+[êe]tre\s+(?:remis|distribu)", r"[ée]chec\s+de\s+(?:la\s+)?remise",
        r"unzustellbar", r"konnte\s+nicht\s+zugestellt", r"nicht\s+zugestellt", r"zustellung\s+fehlgeschlagen",
        r"no\s+se\s+(?:pudo|puede|ha\s+podido)\s+entregar", r"error\s+de\s+entrega", r"no\s+entregado",
        r"non\s+(?:[èe]\s+stato\s+possibile\s+)?recapitat", r"impossibile\s+recapitare", r"mancato\s+recapito",
        r"n[ãa]o\s+(?:foi\s+poss[íi]vel\s+)?entregu?e", r"falha\s+(?:na|de)\s+entrega",
        r"nie\s+(?:mo[żz]na|uda[łl]o\s+si[ęe])\s+dostarczy[ćc]", r"niedostarcz", r"onbestelbaar", r"kan\s+niet\s+worden\s+bezorgd", r"kunde\s+inte\s+levereras",
    ],
    "spam": [
        r"crypto", r"bitcoin", r"\bbtc\b", r"investment\s+opportunit", r"guaranteed\s+(?:returns?|profits?|results|ranking)", r"\bseo\b", r"backlinks?",
        r"(?:first|top)\s+(?:page|position)\s+(?:of|on)\s+google", r"google\s+rank", r"(?:mailbox|storage|quota)\s+(?:is\s+)?(?:full|exceeded|almost\s+full)",
        r"verify\s+your\s+(?:account|mailbox|password|identity|e-?mail)", r"(?:account|mailbox)\s+will\s+be\s+(?:suspended|closed|deactivated|deleted)",
        r"click\s+(?:here|the\s+link\s+below|below)\s+(?:to|and)", r"unpaid\s+invoice", r"overdue\s+(?:invoice|payment)", r"wire\s+transfer", r"lottery", r"you\s+have\s+(?:won|been\s+selected)",
        r"inheritance", r"beneficiary", r"casino", r"loan\s+offer", r"dear\s+(?:friend|beneficiary|winner|customer|user|sir/madam)", r"limited\s+time\s+offer", r"special\s+offer",
        r"\bdiscount\b", r"% off", r"buy\s+now", r"web\s+design\s+(?:services|agency)", r"lead\s+generation", r"email\s+list", r"database\s+of\s+(?:contacts|decision)",
        r"attendee\s+list", r"(?:we|i)\s+(?:can|could)\s+(?:help\s+you\s+)?(?:increase|boost|improve)\s+your\s+(?:traffic|sales|ranking|visibility)", r"pharma", r"viagra",
        r"reset\s+your\s+password", r"password\s+(?:expires|expired)", r"payment\s+(?:details|information)\s+(?:update|required)", r"invoice\s+attached", r"bank\s+details",
        r"million\s+(?:usd|dollars|euros)", r"forex", r"trading\s+(?:platform|signals)", r"earn\s+(?:money|\$|€)", r"passive\s+income", r"weight\s+loss",
        r"votre\s+bo[îi]te\s+(?:aux\s+lettres|mail)\s+est\s+pleine", r"compte\s+sera\s+(?:suspendu|ferm[ée]|d[ée]sactiv[ée])", r"f[ée]licitations.{0,40}gagn", r"facture\s+impay[ée]e",
        r"oferta\s+(?:especial|exclusiva)", r"ha\s+(?:sido\s+seleccionado|ganado)", r"factura\s+pendiente", r"posicionamiento\s+web", r"su\s+buz[óo]n\s+est[áa]\s+lleno",
        r"postfach\s+(?:ist\s+)?voll", r"konto\s+wird\s+gesperrt", r"gewinn(?:er|spiel)", r"rechnung\s+(?:offen|[üu]berf[äa]llig)", r"sonderangebot",
        r"casella\s+(?:di\s+posta\s+)?piena", r"offerta\s+(?:speciale|imperdibile)", r"hai\s+vinto", r"fattura\s+(?:scaduta|insoluta)",
        r"caixa\s+de\s+correio\s+(?:est[áa]\s+)?cheia", r"oferta\s+imperd[íi]vel", r"fatura\s+(?:em\s+atraso|vencida)",
        r"shortlisted", r"(?:participation|evaluation|registration|listing)\s+fee", r"speaker\s+package", r"attendees?\s+list", r"verified\s+contacts", r"total\s+records",
        r"(?:acquir|purchas|buy)\w*\s+(?:the\s+)?(?:attendee|contact|email)\s+list", r"guest\s+post", r"sponsored\s+(?:post|article)", r"(?:page|p[áa]gina)s?\s+web\s+(?:modernas|profesionales)",
        r"web\s+design", r"dise[ñn]o\s+web", r"refinanc", r"reply\s+yes",
        r"docusign", r"review\s+(?:the\s+)?document", r"domain\s+(?:name\s+)?(?:renewal|expir)", r"domeinnaam", r"verlenging", r"renouvellement\s+de\s+(?:votre\s+)?(?:nom\s+de\s+)?domaine", r"renovaci[óo]n\s+(?:del|de\s+su)\s+dominio", r"domainverl[äa]ngerung",
        r"zahlungserinnerung", r"mahnung", r"payment\s+reminder", r"100\s*%\s+(?:de\s+r[ée]ussite|success|garant)", r"garanti", r"\bcrm\b", r"wallet", r"(?:btc|crypto|eth|usdt)\s+withdrawal", r"withdrawal\s+of\s+[\d.,]+", r"unauthori[sz]ed\s+(?:login|access|sign-?in|transaction)", r"nieautoryzowan",
        r"zablokowan", r"potwierd[źz]\s+swoje\s+dane", r"confirm\s+your\s+(?:details|identity|data|entry|listing)", r"who'?s\s+who", r"directory", r"selected\s+for\s+inclusion", r"secure\s+link",
        r"within\s+(?:24|48)\s+hours", r"w\s+ci[ąa]gu\s+24\s+godzin", r"dans\s+les\s+24\s+heures", r"innerhalb\s+von\s+(?:24\s+stunden|\d+\s+tagen)", r"entro\s+24\s+ore", r"em\s+24\s+horas", r"en\s+24\s+horas",
        r"dear\s+(?:customer|user|account\s+holder)", r"szanowny\s+u[żz]ytkowniku", r"cher\s+client", r"estimado\s+cliente", r"sehr\s+geehrter\s+kunde", r"gentile\s+cliente", r"caro\s+cliente",
        r"not\s+interested\??\s+(?:just\s+)?reply", r"worth\s+a\s+(?:quick\s+)?\d+[\s-]*min", r"qualified\s+(?:meetings|leads|appointments)", r"pay\s+per\s+(?:meeting|lead|click)", r"no\s+retainer", r"decision[\s-]makers",
        r"estimado\s+usuario", r"verifique\s+sus\s+datos", r"(?:unusual|suspicious)\s+(?:activity|sign-?in|login)", r"actividad\s+(?:inusual|sospechosa)", r"activit[ée]\s+(?:inhabituelle|suspecte)",
        r"ungew[öo]hnliche\s+aktivit", r"attivit[àa]\s+(?:insolita|sospetta)", r"atividade\s+(?:incomum|suspeita)", r"nietypow", r"suspensi[óo]n", r"suspension\s+of\s+your",
        r"korrekturabzug", r"eintrag\s+im", r"verl[äa]ngert\s+sich\s+automatisch", r"renews\s+automatically", r"se\s+renouvelle\s+automatiquement", r"zzgl\.?\s+mwst", r"entry\s+in\s+the\s+(?:\w+\s+)?(?:directory|register|guide)",
        r"(?:link|click|kliknij|cliquez|haga\s+clic|klicken).{0,30}(?:p[łl]atno|payment|paiement|pago|zahlung|pagamento)", r"zostanie\s+wy[łl][ąa]czon", r"will\s+be\s+(?:disconnected|switched\s+off|terminated)",
        r"termin\s+p[łl]atno[śs]ci\s+min[ąa][łl]", r"trading\s+bot", r"bull\s+run", r"telegram", r"whatsapp",
        r"\bcasino\b", r"\bloan\b", r"(?:increase|double|triple)\s+your", r"raddoppia", r"doublez", r"duplique", r"verdoppeln", r"✔", r"illimitat", r"unlimited", r"ilimitad",
        r"skrzynka\s+(?:pocztowa\s+)?(?:jest\s+)?pe[łl]na", r"wygra[łl]", r"faktura\s+(?:zaleg|nieop[łl]acon)", r"promocj",
    ],
    "subscribe": [
        r"(?:add|include|put|register|enrol|enroll|sign)\s+(?:me|us|my\s+colleagues?|him|her|them|our\s+\w+)(?:\s+up)?\s+(?:to|on|in|for)\s+(?:the|your|this|eocic)?\s*(?:mailing|distribution|e-?mail|newsletter|contact|mail|news)",
        r"(?<!un)subscri(?:be|ption)\b", r"sign\s+(?:me|us)\s+up", r"join\s+(?:the|your)\s+(?:mailing|distribution|e-?mail)\s+list",
        r"(?:receive|get)\s+(?:the|your)\s+(?:newsletter|news|updates|announcements|mailings|invitations)", r"(?:be|kept)\s+(?:kept\s+)?(?:informed|in\s+the\s+loop|posted)",
        r"(?:added|included)\s+to\s+(?:the|your)\s+(?:list|mailing)", r"new\s+colleague", r"(?:receive|get)\s+(?:your|the|all\s+your|eocic)\s+(?:communications?|mails|e-?mails|information|news|messages)",
        r"(?:can|could)\s+(?:you\s+)?(?:also\s+)?(?:add|include)\b", r"\bas\s+well\b.{0,40}\b(?:list|mailings?|communications|newsletter)",
        r"(?:m'|nous\s+)?(?<!d[ée]s)inscrire", r"(?<!d[ée]s)abonner", r"(?<!d[ée]s)abonnement", r"recevoir\s+(?:la|votre|vos)\s+(?:newsletter|lettre|informations|actualit[ée]s|invitations)",
        r"ajouter\s+(?:mon|ma|notre|mes)\s+(?:adresse|coll[èe]gue)",
        r"(?<!de)suscribir", r"(?<!de)suscripci[óo]n", r"dar(?:me|nos|le)?\s+de\s+alta", r"recibir\s+(?:el|la|vuestro|vuestra|su|sus)\s+(?:bolet[íi]n|newsletter|informaci[óo]n|novedades|convocatorias)",
        r"a[ñn]adir\s+(?:a\s+)?(?:mi|nuestra|nuestro)\s+(?:compa[ñn]er|colega|direcci[óo]n)", r"incluir(?:me|nos|le|la)?\s+en",
        r"anmelden", r"aufnehmen", r"hinzuf[üu]gen",
        r"(?<!dis)iscriver(?:mi|ci|e)", r"iscrizione\s+(?:alla\s+)?(?:newsletter|mailing|lista)", r"aggiunger(?:mi|ci|e)\s+(?:alla|nella)\s+(?:lista|mailing)", r"ricevere\s+(?:la|le|vostra|vostre)\s+(?:newsletter|comunicazioni|informazioni)",
        r"subscrever", r"inscrever", r"receber\s+(?:a|as|o|os)\s+(?:newsletter|comunica[çc][õo]es|informa[çc][õo]es|not[íi]cias)", r"adicionar\s+(?:o\s+meu|a\s+minha)",
        r"newsletter\s+abonnieren", r"in\s+den\s+verteiler\s+(?:auf|aufnehmen)", r"(?:mich|uns)\s+in\s+den\s+verteiler",
        r"(?:receive|get)\s+(?:it|them)\s+directly", r"(?:la|le)\s+recevoir\s+directement", r"recibirl[oa]s?\s+directamente", r"riceverl[aoe]\s+direttamente", r"receb[êe]-l[ao]s?\s+diretamente",
        r"direkt\s+(?:an|zu)\s+\S+\s+(?:schicken|senden)", r"passar\s+a\s+receber", r"empezar\s+a\s+recibir", r"commencer\s+[àa]\s+recevoir", r"iniziare\s+a\s+ricevere", r"künftig\s+(?:auch\s+)?direkt",
        r"how\s+(?:can|do)\s+i\s+(?:receive|get|sign\s+up|subscribe|join)", r"comment\s+(?:puis-je|recevoir|m'inscrire)", r"c[óo]mo\s+puedo\s+(?:recibir|suscribir|apuntarme)", r"wie\s+kann\s+ich\s+(?:den|die|ihre|mich)",
        r"come\s+posso\s+(?:ricevere|iscrivermi)", r"como\s+posso\s+(?:receber|subscrever|inscrever)", r"jak\s+mog[ęe]\s+(?:otrzymywa|zapisa)", r"[įi]traukti", r"gauti\s+\w*\s*naujienlai",
        r"zapisa[ćc]", r"dopisa[ćc]", r"dodanie\s+(?:mnie|mojego|kolegi|kole[żz]anki)", r"subskryp", r"otrzymywa[ćc]\s+(?:newsletter|informacj|wiadomo)",
        r"aanmelden", r"inschrijven", r"toevoegen\s+aan", r"p[řr]ihl[áa]s", r"za[řr]adit", r"p[řr]idat\s+(?:m[ěe]|mou|kolegu)", r"odeb[íi]rat",
        r"prenumerera", r"l[äa]gg\s+till", r"feliratkoz", r"(?<!dez)abona(?:re|ți|ti)", r"εγγραφ", r"prijav(?:iti|a)", r"dodati\s+na", r"tilata", r"tilaaja", r"tilmeld",
    ],
    "unsubscribe": [
        r"unsubscri", r"remove\s+(?:me|my\s+(?:e-?mail|address|name|details|data)|us|him|her)", r"take\s+(?:me|us)\s+off", r"stop\s+(?:sending|e-?mailing|receiving)",
        r"no\s+longer\s+(?:wish|want|need)\s+to\s+receive", r"(?:don't|do\s+not)\s+(?:want|wish)\s+to\s+receive", r"opt[\s-]?out", r"delete\s+(?:my|all\s+my|our|his|her)\s+(?:personal\s+)?(?:data|details|information|contact)",
        r"eras(?:e|ure)", r"right\s+to\s+(?:erasure|be\s+forgotten)", r"\bgdpr\b", r"art(?:icle)?\.?\s*17", r"off\s+(?:the|your)\s+(?:list|mailing)", r"leave\s+(?:the|your)\s+(?:list|mailing|distribution)",
        r"d[ée]sinscri", r"d[ée]sabonn", r"retirer\s+(?:mon|ma|mes|notre|de\s+(?:la|votre)\s+liste)", r"ne\s+(?:plus|souhaite\s+plus|veux\s+plus)\s+recevoir", r"supprimer\s+(?:mes|toutes\s+mes|nos)\s+(?:donn[ée]es|coordonn[ée]es)", r"effacement", r"\brgpd\b", r"droit\s+à\s+l'oubli",
        r"dar(?:me|nos|le)?\s+de\s+baja", r"baja\s+de\s+(?:la|vuestra)\s+lista", r"eliminar\s+(?:mis|todos\s+mis)\s+datos", r"(?:no\s+(?:deseo|quiero)|dejar\s+de)\s+recibir", r"supresi[óo]n\s+de\s+(?:mis\s+)?datos", r"borrar\s+mis\s+datos", r"derecho\s+al\s+olvido",
        r"abmelden", r"austragen", r"aus\s+dem\s+verteiler", r"keine\s+(?:e-?mails|newsletter|nachrichten|einladungen)\s+mehr", r"(?:meine\s+)?daten\s+l[öo]schen", r"l[öo]schung\s+(?:meiner|der)", r"\bdsgvo\b", r"abbestellen",
        r"cancellar(?:mi|e\s+il\s+mio)", r"disiscriv", r"rimuover(?:mi|e\s+il\s+mio|e\s+la\s+mia)", r"non\s+(?:desidero|voglio)\s+pi[ùu]\s+ricevere", r"cancellazione\s+dei\s+(?:miei\s+)?dati", r"diritto\s+all'oblio",
        r"cancelar\s+(?:a\s+)?(?:minha\s+)?(?:subscri[çc][ãa]o|inscri[çc][ãa]o)", r"remover\s+(?:o\s+meu|a\s+minha|da\s+lista)", r"deixar\s+de\s+receber", r"apagar\s+(?:os\s+)?(?:meus\s+)?dados", r"elimina[çc][ãa]o\s+dos\s+(?:meus\s+)?dados",
        r"wypisa[ćc]", r"usun[ąa][ćc]\s+(?:m[óo]j|moje|mnie|nasz)", r"nie\s+chc[ęe]\s+(?:ju[żz]\s+)?otrzymywa[ćc]", r"\brodo\b", r"rezygnuj",
        r"afmelden", r"uitschrijven", r"verwijder\s+(?:mij|mijn)", r"usuni[ęe]ci", r"wypisani", r"rezygnacj",
        r"odhl[áa][šs]", r"v[ýy]maz", r"smazat", r"avregistrera", r"avsluta\s+(?:min\s+)?prenumeration", r"afmeld", r"peru(?:uta|a)\s+tilau", r"poista\s+(?:minut|osoitteeni)",
        r"leiratkoz", r"t[öo]r[öo]lj", r"dezabona", r"[șs]terge(?:ți)?\s+(?:adresa|datele)", r"διαγραφ", r"odjav", r"izbri[sš]", r"отпис", r"atsisakyti", r"atrakst[īi]t", r"loobu",
        r"(?:mails|e-?mails|messages|mailings)\s+(?:are\s+)?(?:not|no\s+longer)\s+relevant", r"withdraw\s+(?:this|my|the)\s+consent", r"(?:no|little|not\s+much)\s+(?:point|need|sense)\s+(?:in\s+)?(?:you\s+)?(?:sending|mailing|writing\s+to)",
        r"ne\s+plus\s+(?:m'|nous\s+|me\s+)?envoyer", r"nicht\s+mehr\s+(?:zu\s+)?(?:senden|schicken|zusenden)", r"no\s+(?:me|nos)\s+(?:env[íi]en|mand[ée]n)\s+m[áa]s", r"dej(?:en|ad)\s+de\s+enviar(?:me|nos)",
        r"non\s+(?:inviatemi|mandatemi|inviarmi)\s+pi[ùu]", r"n[ãa]o\s+me\s+enviem\s+mais", r"deixem\s+de\s+(?:me\s+)?enviar", r"nie\s+(?:wysy[łl]a[ćc]|przesy[łl]a[ćc])", r"prosz[ęe]\s+nie\s+wysy[łl]a",
        r"(?:remove|delete|erase|eliminate|cancel|take)\W+(?:\w+\W+){0,3}?(?:my|our|his|her)\s+(?:e-?mail\s+)?(?:address|data|details|contact)",
        r"(?:remove|take|delete|drop)\s+(?:\w+\s+){0,6}?(?:off|from)\s+(?:your|the|all\s+your)\s+(?:\w+\s+)?(?:list|lists|mailing|mailings|database|distribution)",
        r"(?:supprimer|retirer|effacer|enlever|radier)\W+(?:\w+\W+){0,3}?(?:mon|ma|mes|notre|nos)\s+(?:adresse|donn[ée]es|coordonn[ée]es|contact)", r"suppression\s+de\s+mes",
        r"(?:eliminar|borrar|quitar|retirar|suprimir|dar\s+de\s+baja)\w*\W+(?:\w+\W+){0,3}?(?:mi|mis|nuestra|nuestros)\s+(?:direcci[óo]n|datos|correo|contacto)", r"eliminarais", r"elimin[ae]n\s+mi",
        r"(?:l[öo]schen|entfernen|streichen|austragen|nehmen)\W+(?:\w+\W+){0,3}?(?:mich|meine|meinen|unsere)\b", r"nehmen\s+sie\s+mich\s+(?:aus|von)", r"aus\s+(?:dem|ihrem|eurem)\s+verteiler",
        r"(?:cancellare|rimuovere|eliminare|togliere)\W+(?:\w+\W+){0,3}?(?:il\s+mio|la\s+mia|i\s+miei|mio|mia|miei)", r"cancellazione\s+(?:del|dell')", r"toglietemi", r"rimuovetemi",
        r"(?:remover|apagar|retirar|eliminar)\W+(?:\w+\W+){0,3}?(?:o\s+meu|a\s+minha|os\s+meus|meu|minha)", r"retirem-me", r"removam", r"quit(?:adme|enme|arme|arnos)", r"b[óo]rr(?:adme|enme|arme)", r"sac(?:adme|enme)", r"desuscrib", r"retirar\s+da\s+lista", r"tirem-me",
        r"(?:usun[ąa][ćc]|wykre[śs]li[ćc]|skre[śs]li[ćc])\W+(?:\w+\W+){0,3}?(?:m[óo]j|moje|mnie|nasz)", r"wykre[śs]lenie",
    ],
    "survey": [
        r"\bsurvey", r"questionnaire", r"progress\s+(?:survey|report|monitoring)", r"limesurvey", r"monitoring\s+exercise",
        r"enqu[êe]te", r"sondage", r"encuesta", r"cuestionario", r"umfrage", r"fragebogen", r"befragung", r"questionari", r"sondaggio", r"indagine",
        r"inqu[ée]rito", r"question[áa]rio", r"\bpesquisa\b", r"ankiet", r"kwestionariusz", r"vragenlijst", r"enk[äa]t", r"kysely", r"k[ée]rd[őo][íi]v", r"dotazn[íi]k", r"chestionar", r"ερωτηματολόγιο",
    ],
    "other": [
        r"wrong\s+(?:address|person|recipient|mailbox)", r"(?:sent|reached)\s+(?:you\s+)?(?:by\s+mistake|in\s+error)", r"\bjournalist", r"\bpress\b", r"interview", r"\barticle\b",
        r"\bcv\b", r"curriculum", r"job\s+(?:application|opening|offer)", r"vacanc(?:y|ies)", r"internship", r"apply\s+for\s+(?:the|a)\s+(?:position|job|post)",
        r"complain", r"disappointed", r"unacceptable", r"just\s+(?:wanted\s+to\s+)?(?:say\s+)?thank", r"thank\s+you\s+(?:so\s+much\s+)?for\s+(?:the|your)\s+(?:help|support|session|answer|reply|webinar)",
        r"no\s+(?:further\s+)?action\s+(?:is\s+)?(?:needed|required)", r"nothing\s+(?:more|else)\s+(?:is\s+)?needed", r"student", r"thesis",
        r"candidature\s+spontan[ée]e", r"\bstage\b", r"journaliste", r"erreur\s+de\s+destinataire", r"merci\s+(?:beaucoup\s+)?pour\s+(?:votre|la)",
        r"candidatura\s+espont[áa]nea", r"pr[áa]cticas", r"periodista", r"por\s+error", r"muchas\s+gracias\s+por",
        r"bewerbung", r"praktikum", r"journalistin", r"irrt[üu]mlich", r"vielen\s+dank\s+f[üu]r",
        r"candidatura\s+spontanea", r"tirocinio", r"giornalista", r"per\s+errore", r"grazie\s+(?:mille\s+)?per",
        r"est[áa]gio", r"jornalista", r"por\s+engano", r"muito\s+obrigad[oa]\s+pel",
        r"praktyk", r"dziennikar", r"przez\s+pomy[łl]k", r"dzi[ęe]kuj[ęe]\s+za",
        r"no\s+need\s+to\s+(?:reply|answer|respond)", r"(?:no|doesn't\s+need\s+a|does\s+not\s+need\s+a)\s+(?:reply|answer|response)\s+(?:is\s+)?(?:needed|necessary|required)?",
        r"just\s+(?:wanted|writing|a\s+(?:quick\s+)?note)\s+to\s+(?:say|let\s+you\s+know|thank|tell)", r"for\s+your\s+information\s+only", r"\bfyi\b",
        r"pas\s+besoin\s+de\s+(?:r[ée]pondre|r[ée]ponse)", r"je\s+voulais\s+(?:juste|simplement|seulement)\s+vous", r"pour\s+information", r"d[ée][çc]u",
        r"no\s+(?:hace\s+falta|es\s+necesario)\s+(?:responder|contestar|respuesta)", r"s[óo]lo\s+quer[íi]a\s+(?:agradecer|deciros|decirles|avisar|comentar)", r"decepcionad",
        r"keine\s+antwort\s+(?:n[öo]tig|erforderlich|notwendig)", r"wollte\s+(?:mich\s+)?(?:nur|einfach)\s+(?:bedanken|sagen|mitteilen|kurz)", r"entt[äa]uscht", r"zur\s+info(?:rmation)?",
        r"non\s+serve\s+(?:risposta|rispondere)", r"volevo\s+(?:solo|soltanto|semplicemente)\s+(?:ringraziar|dir|segnalar|farvi)", r"delus[oa]", r"ringraziar",
        r"n[ãa]o\s+(?:[ée]\s+preciso|precisa|necessita)\s+(?:de\s+)?(?:responder|resposta)", r"s[óo]\s+queria\s+(?:agradecer|dizer|avisar)", r"desiludid",
        r"nie\s+trzeba\s+odpowiada", r"chcia[łl](?:a|em|am)?(?:bym)?\s+tylko\s+(?:podzi[ęe]kowa|powiedzie|poinformowa)", r"rozczarow",
        r"\binvoice\b", r"facture", r"factura", r"rechnung", r"fattura", r"fatura", r"faktur",
        r"par\s+erreur", r"mauvais\s+destinataire", r"(?:falsche[rn]?|wrong)\s+(?:empf[äa]nger|adresse|address)", r"destinatario\s+(?:equivocado|sbagliato|errato)", r"destinat[áa]rio\s+errado",
        r"herzlichen\s+dank", r"(?:many|warm|big|huge)\s+thanks\s+for", r"wir\s+melden\s+uns", r"we(?:'ll|\s+will)\s+be\s+in\s+touch", r"nous\s+reviendrons\s+vers\s+vous", r"nos\s+pondremos\s+en\s+contacto",
        r"vi\s+faremo\s+sapere", r"entraremos\s+em\s+contacto", r"odezwiemy\s+si[ęe]", r"angenehme(?:n|s)?\s+gespr[äa]ch",
        r"apply\s+for\s+(?:\w+\s+){0,3}(?:position|job|post|vacanc\w+|role)", r"open\s+positions?", r"(?:my|our)\s+cv\b", r"curriculum\s+vitae", r"lebenslauf", r"[żz]yciorys", r"postuler",
        r"(?:vi|v[ăa])\s+mul[țt]umim", r"mul[țt]umiri", r"nu\s+este\s+nevoie\s+de\s+r[ăa]spuns", r"tack\s+f[öo]r", r"d[ěe]kujeme\s+za", r"k[öo]sz[öo]nj[üu]k", r"bedankt\s+voor", r"verhuisd", r"nieuw\s+(?:kantoor|adres)",
    ],
}

# Pseudo-labels (features only): commercial wording, and list nouns that subscribe/unsubscribe share.
INTENT_CUES["commercial"] = [
    r"\bprice", r"pricing", r"\bprices?\b", r"precio", r"\bprix\b", r"\bpreis", r"prezz[oi]", r"pre[çc]o", r"\bcen[aey]\b", r"tarif",
    r"\bfree\b", r"gratis", r"gratuit", r"kostenlos", r"darmow", r"discount", r"descuento", r"remise", r"rabatt", r"sconto", r"desconto", r"rabat",
    r"\boffer\b", r"oferta", r"\boffre\b", r"angebot", r"offerta", r"(?:eur|€|\$|usd)\s?\d[\d.,]*", r"\d[\d.,]*\s?(?:€|eur\b|euros?\b)", r"\bfee\b",
    r"congratulations", r"f[ée]licitations", r"enhorabuena", r"felicidades", r"gl[üu]ckwunsch", r"congratulazioni", r"parab[ée]ns", r"gratulacje",
    r"shortlisted", r"nominat", r"\baward", r"reply\s+(?:yes|\"yes\")", r"(?:only|just)\s+this\s+(?:month|week)", r"limited\s+(?:places|seats|time)", r"exclusive",
    r"verified\s+(?:contacts|emails|records)", r"records", r"\bsample\b", r"our\s+(?:agency|services|solutions|team\s+of\s+experts|company\s+offers)", r"we\s+(?:offer|provide|specialise|specialize)",
    r"dear\s+(?:colleague|cluster\s+leader|sir|madam|sir/madam|partner|manager|customer)", r"(?:book|schedule)\s+a\s+(?:call|demo)", r"\bdemo\b", r"\bwebsite\s+(?:design|redesign)",
    r"unsubscribe\s+(?:here|link)", r"reply\s+\"?(?:remove|stop)", r"promo", r"\bdeal\b", r"invest", r"profit", r"\broi\b", r"\bbonus\b",
]
INTENT_CUES["survey-eocic"] = [
    r"progress\s+(?:survey|questionnaire|report)", r"monitoring\s+(?:survey|questionnaire|exercise)", r"survey\s+(?:link|deadline|invitation|reminder|form)", r"link\s+to\s+the\s+(?:survey|questionnaire)",
    r"(?:fill|filled|filling|complete|completed|completing|submit|submitted|answer|answered|answering|respond|responded)\s+(?:in\s+|out\s+|to\s+)?(?:the|your|our|this)\s+(?:\w+\s+)?(?:survey|questionnaire)",
    r"(?:the|your|eocic|escp)\s+(?:progress\s+|online\s+|monitoring\s+)?(?:survey|questionnaire)\b", r"(?:personal|access|survey)\s+(?:access\s+)?link", r"link\s+(?:is\s+|was\s+)?(?:broken|expired|not\s+working|dead)", r"limesurvey",
    r"who\s+(?:should|must|has\s+to|is\s+to)\s+(?:answer|respond|fill|complete)", r"(?:extension|extend|more\s+time).{0,40}(?:survey|questionnaire|deadline)",
    r"enqu[êe]te\s+(?:de\s+suivi|d'avancement|de\s+progr[èe]s|eocic)", r"questionnaire\s+(?:de\s+suivi|d'avancement|eocic)", r"(?:rempli|remplir|compl[ée]t[ée]|r[ée]pondu)\s+(?:à\s+)?(?:l'enqu[êe]te|le\s+questionnaire)",
    r"encuesta\s+de\s+(?:progreso|seguimiento|avance)", r"cuestionario\s+de\s+(?:progreso|seguimiento|avance)", r"(?:rellenar|completar|contestar|responder)\s+(?:la\s+encuesta|el\s+cuestionario)", r"qui[ée]n\s+(?:responde|contesta|debe\s+responder)",
    r"fortschritts(?:umfrage|bericht|befragung)", r"(?:die|ihre|der)\s+(?:umfrage|fragebogen)", r"(?:ausf[üu]llen|beantworten|abgeschickt|eingereicht)",
    r"questionario\s+(?:di\s+monitoraggio|sui\s+progressi|di\s+avanzamento)", r"(?:compilare|compilato|rispondere\s+al)\s+(?:il\s+)?questionario",
    r"inqu[ée]rito\s+de\s+(?:progresso|acompanhamento)", r"question[áa]rio\s+de\s+(?:progresso|acompanhamento)", r"(?:preencher|preenchi|respondemos|responder)\s+(?:ao\s+|o\s+)?(?:inqu[ée]rito|question[áa]rio)",
    r"ankiet[aęyi]\s+(?:post[ęe]pu|monitoruj|monitoringow|eocic)", r"wype[łl]ni(?:[ćc]|[łl]am|[łl]em|li[śs]my)\s+(?:\w+\s+)?ankiet",
    r"voortgangs(?:enqu[êe]te|vragenlijst)", r"survey\s+is\s+(?:not\s+active|closed|expired|not\s+available)", r"(?:my|the)\s+token", r"(?:link|token)\b.{0,40}\b(?:doesn't|does\s+not|won't|not)\s+work",
]
INTENT_CUES["switch"] = [
    r"something\s+else", r"(?:another|different|separate|other)\s+(?:question|matter|topic|thing|request)", r"(?:my|the)\s+(?:real|actual|main)\s+(?:question|reason|request)", r"while\s+i\s+have\s+you", r"on\s+another\s+note",
    r"(?:une\s+)?autre\s+(?:question|chose|sujet)", r"(?:ma|notre)\s+vraie\s+question", r"par\s+ailleurs", r"otra\s+(?:cosa|pregunta|consulta)", r"aprovecho\s+para", r"eigentliche[sr]?\s+(?:anliegen|frage)",
    r"(?:noch\s+)?eine\s+andere\s+frage", r"(?:un'?\s*)?altra\s+(?:cosa|domanda|questione)", r"ne\s+approfitto", r"outra\s+(?:coisa|quest[ãa]o|pergunta)", r"aproveito\s+para", r"inna\s+sprawa", r"przy\s+okazji", r"korzystaj[ąa]c\s+z\s+okazji",
]
# A remark on the side: what follows is NOT the main request ("By the way, thanks for the recording")
ASIDE = [
    r"by\s+the\s+way", r"\bbtw\b", r"\bp\.?\s?s\.?\b", r"on\s+a\s+side\s+note", r"au\s+passage", r"\bà\s+propos\b", r"por\s+cierto", r"\bpd:", r"[üu]brigens", r"nebenbei",
    r"a\s+proposito", r"tra\s+l'altro", r"j[áa]\s+agora", r"a\s+prop[óo]sito", r"\bps\.", r"nawiasem\s+m[óo]wi[ąa]c", r"trouwens",
]
INTENT_CUES["request"] = [
    r"\?", r"\bplease\b", r"s'il\s+vous\s+pla[îi]t", r"merci\s+de\s+(?:bien\s+vouloir\s+)?\w+er\b", r"por\s+favor", r"\bbitte\b", r"per\s+(?:favore|cortesia)", r"prosz[ęe]", r"could\s+you", r"can\s+you", r"would\s+you", r"please\s+(?:advise|help|send|tell|let)", r"(?:we|i)\s+(?:need|would\s+(?:like|appreciate)|are\s+looking\s+for)", r"\badvice\b", r"\bhelp\b", r"\bsupport\b",
    r"pourriez-vous", r"pouvez-vous", r"nous\s+aimerions", r"conseils?", r"\baide\b", r"podr[íi]an", r"pueden", r"necesitamos", r"nos\s+gustar[íi]a", r"ayuda", r"consejo", r"k[öo]nnten\s+sie", r"wir\s+(?:m[öo]chten|br[äa]uchen|suchen)", r"\bhilfe\b", r"\brat\b",
    r"potreste", r"potete", r"vorremmo", r"abbiamo\s+bisogno", r"aiuto", r"consigli", r"poderiam", r"podem", r"gostar[íi]amos", r"precisamos", r"ajuda", r"conselho", r"czy\s+(?:mog[ąa]|mo[żz]e|mogliby|mogliby[śs]cie)", r"prosz[ęe]\s+o", r"prosimy\s+o", r"prosiliby[śs]my", r"pomoc", r"doradztw", r"\bporad",
]
INTENT_CUES["chitchat"] = [
    r"running\s+(?:\d+\s+min\w*\s+)?late", r"see\s+you\s+(?:in|at|on|tomorrow|soon|there)", r"coffee", r"dinner", r"lunch", r"photos?\b", r"(?:office|we)\s+(?:has|have)\s+moved", r"new\s+(?:office\s+)?address",
    r"that'?s\s+all\s+we\s+needed", r"take\s+it\s+from\s+here", r"(?:just|only)\s+to\s+(?:say|let\s+you\s+know|tell)", r"congratulations\s+(?:on|for)\s+(?:the|your)", r"happy\s+(?:holidays|new\s+year|easter)", r"merry\s+christmas",
    r"(?:juste|seulement)\s+pour\s+(?:vous\s+)?dire", r"[àa]\s+bient[ôo]t", r"d[îi]ner", r"d[ée]jeuner", r"s[óo]lo\s+para\s+(?:decir|contar|avisar)", r"nos\s+vemos", r"cena", r"mil\s+gracias", r"nur\s+(?:kurz\s+)?(?:zur\s+info|damit)", r"bis\s+(?:dann|morgen|donnerstag|bald)", r"abendessen", r"grillabend", r"fotos",
    r"solo\s+per\s+(?:dire|farvi|informarvi)", r"ci\s+vediamo", r"s[óo]\s+para\s+(?:dizer|dar\s+os\s+parab[ée]ns|informar)", r"parab[ée]ns\s+pel", r"jantar", r"tylko\s+(?:[żz]eby|aby)\s+(?:powiedzie|poinformowa)", r"do\s+zobaczenia", r"kolacj", r"zdj[ęe]cia",
    r"rezervacij", r"ve[čc]er", r"pozdrowienia\s+dla",
]
INTENT_CUES["list"] = [
    r"mailing\s*list", r"distribution\s+list", r"newsletter", r"\blists?\b", r"liste\s+de\s+diffusion", r"lettre\s+d'information", r"lista\s+de\s+(?:distribuci[óo]n|correo)",
    r"bolet[íi]n", r"verteiler", r"lista\s+di\s+distribuzione", r"mailing", r"lista\s+de\s+distribui[çc][ãa]o", r"list[aęy]\s+(?:mailingow|dystrybucyjn|adresow)",
    r"verzendlijst", r"nieuwsbrief", r"newslett",
]

# A few phrases that argue AGAINST an intent (a person who wants to stay on a list).
NEGATIVE_CUES: dict[str, list[str]] = {
    "unsubscribe": [
        r"(?:but|however)\s+(?:please\s+)?(?:keep|leave)\s+me", r"(?:stay|remain)\s+(?:in|on|a\s+member)", r"not\s+(?:unsubscrib|leav)",
        r"(?:mais|tout\s+en)\s+(?:rester|restant|garder|gardant)", r"pero\s+(?:seguir|mantener|quiero\s+seguir)", r"aber\s+(?:im|in\s+der|weiterhin)\s+\w*\s*(?:bleiben|mitglied)",
        r"ma\s+(?:restare|rimanere|mantenere)", r"mas\s+(?:continuar|manter|permanecer)", r"ale\s+(?:pozosta[ćc]|zosta[ćc])",
        r"notifica", r"notification", r"benachrichtigung", r"powiadomie", r"digest",
    ],
}

# -------------------------------------------------------------------------------- categories
CATEGORY_CUES: dict[str, list[str]] = {
    "partnership-building": [
        r"governance", r"communication\s+(?:plan|strategy|kit|material)", r"dissemination", r"\blogo\b", r"website", r"visual\s+identity", r"branding", r"\bkpis?\b",
        r"(?:key\s+performance\s+)?indicators", r"evaluation\s+(?:framework|plan|method|of\s+(?:our|the)\s+partnership)", r"evaluat(?:e|ing)\s+(?:our|the)\s+partnership", r"monitoring\s+(?:framework|plan|system)",
        r"impact\s+(?:assessment|measurement)", r"sustainab(?:le|ility)\s+(?:after|beyond|once)", r"after\s+(?:the\s+)?(?:eu\s+)?funding\s+(?:ends|stops|is\s+over)", r"(?:consortium|partnership|cooperation)\s+agreement",
        r"legal\s+(?:entity|structure|form|representation)", r"social\s+media", r"(?:roles?|tasks?)\s+of\s+(?:each|the)\s+(?:partner|member|cluster)", r"internal\s+cohesion", r"steering\s+committee",
        r"gouvernance", r"plan\s+de\s+communication", r"diffusion", r"site\s+(?:web|internet)", r"indicateurs", r"[ée]valuation\s+(?:du|de\s+notre)\s+partenariat", r"p[ée]rennit", r"identit[ée]\s+visuelle", r"accord\s+de\s+(?:consortium|partenariat)", r"structure\s+juridique",
        r"gobernanza", r"plan\s+de\s+comunicaci[óo]n", r"difusi[óo]n", r"p[áa]gina\s+web", r"indicadores", r"evaluaci[óo]n\s+(?:de\s+(?:la|nuestra)\s+)?(?:asociaci[óo]n|alianza|partenariado)", r"sostenibilidad", r"identidad\s+visual", r"acuerdo\s+de\s+(?:consorcio|colaboraci[óo]n)", r"entidad\s+jur[íi]dica",
        r"kommunikationsplan", r"kommunikationsstrategie", r"verbreitung", r"webseite", r"indikatoren", r"evaluierung", r"nachhaltig", r"partnerschaftsvereinbarung", r"rechtsform", r"steuerungsgremium",
        r"piano\s+di\s+comunicazione", r"diffusione", r"sito\s+web", r"indicatori", r"valutazione\s+del\s+partenariato", r"sostenibilit[àa]", r"accordo\s+di\s+partenariato", r"forma\s+giuridica",
        r"governa[çc][ãa]o", r"plano\s+de\s+comunica[çc][ãa]o", r"dissemina[çc][ãa]o", r"s[íi]tio\s+web", r"avalia[çc][ãa]o\s+d[ao]\s+parceria", r"sustentabilidade", r"acordo\s+de\s+parceria",
        r"plan\s+komunikacji", r"strategi[ai]\s+komunikacji", r"upowszechnian", r"wska[źz]nik", r"ewaluacj", r"trwa[łl]o[śs][ćc]", r"porozumieni[ea]\s+partnersk", r"stron[aey]\s+internetow", r"logotyp",
        r"communicatieplan", r"verspreiding", r"duurzaamheid",
        r"(?:split|splitting|division|divide|define|defining|clarify)\w*\s+(?:of\s+)?(?:the\s+)?(?:roles|tasks|responsibilities)", r"who\s+(?:is\s+responsible\s+for|does)\s+what", r"qui\s+fait\s+quoi",
        r"qui[ée]n\s+hace\s+qu[ée]", r"wer\s+macht\s+was", r"chi\s+fa\s+cosa", r"quem\s+faz\s+o\s+qu[êe]", r"kto\s+(?:co\s+robi|za\s+co\s+odpowiada)",
        r"(?:check|assess|evaluate|measure|know)\w*\s+(?:whether|if|how\s+well)\s+(?:the|our)\s+partnership", r"r[ôo]les?\s+(?:de\s+chaque|des)\s+partenaires", r"rolle[n]?\s+der\s+partner", r"guidelines", r"style\s*guide", r"brand\s+book", r"linee\s+guida", r"comunicazione\s+comune", r"lignes\s+directrices", r"charte\s+graphique",
        r"manual\s+de\s+(?:identidad|estilo|normas)", r"directrices\s+de\s+comunicaci[óo]n", r"leitfaden", r"styleguide", r"corporate\s+design", r"diretrizes", r"wytyczn", r"ksi[ęe]ga\s+znaku",
        r"after\s+the\s+(?:project|funding|grant|eu\s+money|contract)\s+(?:ends|is\s+over|finishes|stops)", r"(?:continue|keep)\s+(?:working\s+)?together", r"beyond\s+(?:the\s+)?(?:project|funding|20\d\d)",
        r"(?:legal|formal)\s+(?:status|set[\s-]?up)", r"\b(?:eeig|geie|aeie|ewiv|aisbl|asbl)\b", r"membership\s+fee", r"rotating\s+(?:chair|presidency)", r"memorandum\s+of\s+understanding",
        r"continuer\s+(?:à\s+travailler\s+)?ensemble", r"apr[èe]s\s+(?:la\s+fin\s+du\s+(?:projet|financement)|20\d\d)", r"convention\s+de\s+coop[ée]ration", r"m[êe]me\s+sans\s+(?:subvention|financement)",
        r"seguir\s+(?:trabajando\s+)?juntos", r"continuar\s+(?:trabajando|colaborando|juntos)", r"despu[ée]s\s+(?:del\s+proyecto|de\s+la\s+financiaci[óo]n)", r"convenio\s+de\s+colaboraci[óo]n",
        r"weiter(?:hin)?\s+zusammen(?:arbeiten|arbeit)", r"nach\s+(?:dem\s+)?(?:projektende|ende\s+der\s+f[öo]rderung)", r"kooperationsvereinbarung",
        r"continuare\s+a\s+(?:collaborare|lavorare\s+insieme)", r"dopo\s+la\s+fine\s+del\s+(?:progetto|finanziamento)",
        r"continuar\s+a\s+(?:trabalhar|colaborar)", r"ap[óo]s\s+o\s+fim\s+do\s+(?:projeto|projecto|financiamento)",
        r"kontynuowa[ćc]\s+wsp[óo][łl]prac", r"po\s+zako[ńn]czeniu\s+projektu",
        r"forts[æa]tte\s+samarbejdet", r"forts[äa]tta\s+samarbetet", r"samarbejdsaftale", r"samarbetsavtal", r"blijven\s+samenwerken",
    ],
    "sme-engagement": [
        r"sme\s+(?:engagement|involvement|participation|interest|needs|retention|survey|members)", r"engag(?:e|ing|ement\s+of)\s+(?:our\s+|the\s+|more\s+)?(?:smes|companies|members|firms)",
        r"(?:get|attract|involve|motivate|convince|mobili[sz]e|keep|bring|activate|reach)\s+(?:our\s+|the\s+|more\s+|local\s+)?(?:smes|companies|members|firms|entrepreneurs)",
        r"smes?\s+(?:are\s+not|don't|do\s+not|aren't|won't|rarely|never|hardly)", r"value\s+proposition", r"membership\s+(?:benefits|fee|offer)", r"(?:low|poor|weak)\s+(?:participation|turnout|interest|engagement)",
        r"what\s+(?:smes|companies|our\s+members)\s+(?:need|want|expect)", r"needs\s+(?:assessment|analysis)", r"on\s*board(?:ing)?\s+(?:of\s+)?(?:smes|companies)", r"sme\s+engagement",
        r"(?:impliquer|mobiliser|attirer|fid[ée]liser|motiver|convaincre)\s+(?:les|nos|davantage\s+de|plus\s+de)\s+(?:pme|entreprises|adh[ée]rents|membres)", r"proposition\s+de\s+valeur", r"engagement\s+des\s+(?:pme|entreprises)", r"besoins\s+des\s+(?:pme|entreprises)", r"participation\s+des\s+(?:pme|entreprises)",
        r"(?:implicar|involucrar|atraer|captar|fidelizar|motivar|convencer|movilizar)\s+a\s+(?:las|nuestras|m[áa]s)\s+(?:pymes|empresas|socios)", r"propuesta\s+de\s+valor", r"participaci[óo]n\s+de\s+(?:las\s+)?(?:pymes|empresas)", r"necesidades\s+de\s+(?:las\s+)?(?:pymes|empresas)",
        r"kmu\s+(?:einbinden|gewinnen|beteiligen|motivieren|einbeziehen)", r"(?:unternehmen|mitglieder|kmu)\s+(?:zu\s+)?(?:gewinnen|einzubinden|motivieren|mobilisieren|einbeziehen)", r"mehrwert\s+f[üu]r\s+(?:die\s+)?(?:kmu|unternehmen|mitglieder)", r"beteiligung\s+der\s+(?:kmu|unternehmen)",
        r"(?:coinvolgere|coinvolgimento|attirare|motivare|fidelizzare)\s+(?:le|delle|pi[ùu])?\s*(?:pmi|imprese|aziende|associati)", r"proposta\s+di\s+valore", r"partecipazione\s+delle\s+(?:pmi|imprese)",
        r"(?:envolver|envolvimento|mobilizar|atrair|motivar|fidelizar)\s+(?:as|das|mais)?\s*(?:pme|empresas|associados)", r"proposta\s+de\s+valor", r"participa[çc][ãa]o\s+das\s+(?:pme|empresas)",
        r"zaanga[żz]ow", r"(?:przyci[ąa]gn[ąa][ćc]|zach[ęe]ci[ćc]|zmotywowa[ćc]|w[łl][ąa]czy[ćc])\s+(?:firm|m[śs]p|przedsi[ęe]biorc|cz[łl]onk)", r"propozycj[aę]\s+warto[śs]ci", r"udzia[łl]\s+(?:firm|m[śs]p)",
        r"betrekken\s+van\s+(?:mkb|bedrijven)", r"mkb",
        r"(?:convince|persuade|retain|motivate|engage|involve|attract|interest|activate|mobili[sz]e|win\s+over)\W+(?:\w+\W+){0,3}?(?:smes?|companies|firms|members|entrepreneurs)\b",
        r"(?:convaincre|retenir|fid[ée]liser|motiver|impliquer|int[ée]resser|mobiliser|attirer)\W+(?:\w+\W+){0,3}?(?:pme|entreprises|adh[ée]rents|membres)\b",
        r"(?:convencer|retener|fidelizar|motivar|implicar|involucrar|interesar|movilizar|atraer|captar|enganchar)\W+(?:\w+\W+){0,3}?(?:pymes?|empresas|socios|asociados)\b",
        r"(?:[üu]berzeug|gewinnen|motivier|einbinden|binden|begeistern|aktivieren|mobilisieren)\w*\W+(?:\w+\W+){0,3}?(?:kmu|unternehmen|mitglieder|firmen)\b", r"kmu\s+(?:zu\s+)?[üu]berzeugen", r"wie\s+[üu]berzeugt\s+man",
        r"(?:convincere|trattenere|fidelizzare|motivare|coinvolgere|interessare|mobilitare|attirare)\W+(?:\w+\W+){0,3}?(?:pmi|imprese|aziende|associati|soci)\b",
        r"(?:convencer|reter|fidelizar|motivar|envolver|interessar|mobilizar|atrair|cativar)\W+(?:\w+\W+){0,3}?(?:pme|empresas|associados|membros)\b",
        r"(?:przekona[ćc]|zatrzyma[ćc]|zmotywowa[ćc]|zaanga[żz]owa[ćc]|zainteresowa[ćc]|przyci[ąa]gn[ąa][ćc])\W+(?:\w+\W+){0,3}?(?:firm|m[śs]p|przedsi[ęe]biorc|cz[łl]onk)",
        r"(?:smes|companies|members|firms)\s+(?:are\s+)?(?:not|no\s+longer|hardly|rarely)\s+(?:interested|engaged|involved|coming|participating)", r"(?:lose|losing|keep\s+losing)\s+(?:the\s+|our\s+)?(?:smes|companies|members)",
        r"(?:pas|plus)\s+int[ée]ress[ée]es", r"no\s+(?:les|nos)\s+interesa", r"(?:kein|wenig)\s+interesse", r"non\s+sono\s+interessat", r"n[ãa]o\s+(?:est[ãa]o|se\s+mostram)\s+interessad", r"nie\s+s[ąa]\s+zainteresowan",
        r"(?:ne\s+voient\s+pas|don't\s+see|do\s+not\s+see|no\s+ven|sehen\s+keinen|non\s+vedono|n[ãa]o\s+veem|nie\s+widz[ąa])\s+(?:l'int[ée]r[êe]t|the\s+(?:point|value|benefit)|el\s+(?:inter[ée]s|valor|sentido)|(?:den\s+)?(?:nutzen|sinn|mehrwert)|il\s+(?:valore|senso)|o\s+(?:valor|interesse)|sensu|korzy[śs]ci)",
        r"(?:n'ont\s+pas\s+le\s+temps|no\s+tienen\s+tiempo|keine\s+zeit|non\s+hanno\s+tempo|n[ãa]o\s+t[êe]m\s+tempo|nie\s+maj[ąa]\s+czasu|(?:don't|do\s+not)\s+have\s+(?:the\s+)?time)",
        r"desaparecen", r"disappear", r"drop\s+out", r"abandonan", r"d[ée]crochent", r"springen\s+ab", r"abbandonano", r"desistem", r"rezygnuj[ąa]",
    ],
    "internationalisation-info": [
        r"enterprise\s+europe\s+network", r"\been\s+(?:network|office|advis|contact\s+point|node|consortium)", r"(?:the|local|an?)\s+een\b",
        r"r[ée]seau\s+een", r"red\s+een", r"een[-\s]netzwerk", r"rete\s+een", r"rede\s+een", r"sieci?\s+een", r"een\s+(?:au|in|en|im|no|na|w)\s",
        r"(?:which|what)\s+(?:eu\s+)?(?:services|support|help)\s+(?:exist|is\s+there|are\s+there|are\s+available)", r"quels\s+services", r"qu[ée]\s+servicios", r"welche\s+(?:eu-?)?(?:dienste|angebote|unterst[üu]tzung|services)",
        r"quali\s+servizi", r"que\s+servi[çc]os", r"jakie\s+(?:us[łl]ugi|wsparcie)",
        r"representative\s+office", r"ufficio\s+di\s+rappresentanza", r"bureau\s+de\s+repr[ée]sentation", r"oficina\s+de\s+representaci[óo]n", r"repr[äa]sentanz",
        r"escrit[óo]rio\s+de\s+representa[çc][ãa]o", r"przedstawicielstw", r"(?:open|set\s+up|register|establish)\s+(?:a|an)\s+(?:office|subsidiary|company|branch|legal\s+entity)",
        r"soft[\s-]landing", r"(?:local|legal)\s+(?:rules|regulations|requirements)", r"(?:visa|labelling|labeling|product)\s+(?:rules|requirements|regulations)", r"sme\s+cent(?:re|er)", r"ipr\s+(?:sme\s+)?helpdesk", r"\bip\s+helpdesk", r"business\s+avenues", r"eu\s+gateway", r"market\s+(?:intelligence|information|access|study|studies|entry|analysis|data)",
        r"(?:import|export)\s+(?:regulations|rules|requirements|procedures|licen[cs]e)", r"tariffs?", r"customs", r"certification", r"(?:regulatory|legal)\s+(?:requirements|framework|environment)\s+in",
        r"which\s+(?:eu\s+)?(?:support|services|organi[sz]ations?|help)\s+(?:exist|is|are)\s+(?:available\s+)?in", r"(?:support|services)\s+(?:available\s+)?(?:in|for)\s+(?:the\s+)?(?:china|japan|korea|india|usa|us|canada|mexico|brazil|chile|singapore|vietnam|morocco|south\s+africa|kenya|indonesia|taiwan|australia|thailand|colombia|peru|argentina)",
        r"intellectual\s+property", r"protect\s+(?:our|their)\s+(?:ip|patents|trademarks|designs)", r"trademark", r"contacts?\s+(?:in|on\s+the\s+ground)", r"who\s+(?:could|can)\s+help\s+(?:us|our\s+smes)\s+in", r"distribut(?:ors|ion\s+channels)", r"local\s+partners",
        r"informations?\s+sur\s+le\s+march[ée]", r"r[ée]glementation", r"douane", r"propri[ée]t[ée]\s+intellectuelle", r"marque\s+d[ée]pos", r"[ée]tude\s+de\s+march[ée]",
        r"informaci[óo]n\s+(?:sobre\s+el|de)\s+mercado", r"estudio\s+de\s+mercado", r"normativa", r"aduanas?", r"aranceles?", r"propiedad\s+(?:intelectual|industrial)", r"inteligencia\s+de\s+mercado",
        r"marktinformation", r"marktstudie", r"markteintritt", r"zoll", r"zertifizierung", r"geistiges\s+eigentum", r"markenschutz", r"vorschriften",
        r"informazioni\s+(?:sul|di)\s+mercato", r"studio\s+di\s+mercato", r"normativ[ae]", r"dogan", r"dazi", r"propriet[àa]\s+intellettuale", r"certificazion",
        r"informa[çc][ãa]o\s+(?:sobre\s+o|de)\s+mercado", r"estudo\s+de\s+mercado", r"regulamenta[çc][ãa]o", r"alf[âa]ndega", r"propriedade\s+intelectual", r"certifica[çc][ãa]o",
        r"informacj[ei]\s+o\s+rynku", r"badani[ea]\s+rynku", r"przepis", r"c[łl]o\b", r"c[łl]a\b", r"w[łl]asno[śs][ćc]\s+intelektualn", r"certyfikac",
        r"markt\s*informatie", r"intellectueel\s+eigendom",
    ],
    "missions-events": [
        r"\bmissions?\b", r"trade\s+(?:mission|fair|show|delegation)", r"delegation", r"\bb2b\b", r"matchmaking", r"brokerage", r"\bfairs?\b", r"exhibition", r"\bexpo\b", r"\bstand\b", r"pavilion", r"booth",
        r"study\s+(?:visit|tour|trip)", r"(?:company|site|cluster)\s+visits?", r"\bvisas?\b", r"logistics", r"hotels?", r"(?:flights?|travel)\s+(?:arrangements|logistics|booking)", r"agenda\s+for\s+the\s+(?:mission|visit|trip)", r"(?:organi[sz]e|organi[sz]ing|plan|planning)\s+(?:a|an|the|our)\s+(?:\w+\s+)?(?:event|mission|visit|trip|workshop\s+in)",
        r"speed\s+dating", r"meetings?\s+with\s+(?:local|potential)\s+(?:partners|buyers|companies)", r"side\s+event", r"roadshow", r"interpreter",
        r"mission\s+(?:commerciale|d'affaires|[àa]|en|au|aux|de\s+prospection)", r"salon", r"d[ée]l[ée]gation", r"rendez-vous\s+d'affaires", r"rencontres\s+b2b", r"visite\s+d'[ée]tude", r"voyage\s+d'affaires",
        r"misi[óo]n\s+(?:comercial|empresarial|inversa|a|en|al)", r"feria", r"delegaci[óo]n", r"encuentros?\s+(?:b2b|empresariales|bilaterales)", r"visita\s+de\s+estudio", r"log[íi]stica", r"visado",
        r"delegationsreise", r"unternehmerreise", r"wirtschaftsmission", r"messe", r"gemeinschaftsstand", r"studienreise", r"besuchsprogramm", r"reiseplanung",
        r"missione\s+(?:commerciale|imprenditoriale|in|a|negli|all'|esplorativa)", r"fiera", r"delegazione", r"incontri\s+(?:b2b|d'affari)", r"visita\s+(?:studio|di\s+studio)", r"logistica",
        r"miss[ãa]o\s+(?:empresarial|comercial|a|ao|aos|[àa]|em|inversa)", r"feira", r"delega[çc][ãa]o", r"visita\s+de\s+estudo", r"encontros\s+(?:b2b|empresariais)",
        r"misj[aięy]", r"targ(?:i|ach|ów)", r"delegacj", r"wizyt[aęy]\s+studyjn", r"spotka[ńn]\s+b2b", r"spotkania\s+b2b", r"wyjazd",
        r"handelsmissie", r"beurs", r"studiereis",
    ],
    "peer-review": [
        r"peer[\s-]*review", r"(?:critical|fresh|outside|external|independent|second)\s+(?:look|eye|eyes|reading|read|opinion|view|perspective|feedback|pair\s+of\s+eyes)",
        r"(?:read|review|check|comment\s+on|look\s+at|go\s+through|assess|challenge|scrutini[sz]e|critique)\s+(?:our|the|my)\s+(?:draft\s+|new\s+|updated\s+|revised\s+|joint\s+)?(?:strategy|roadmap|road\s+map|action\s+plan|internationali[sz]ation\s+strategy|plan|work\s*plan|strategic\s+document)",
        r"feedback\s+on\s+(?:our|the)\s+(?:draft\s+)?(?:strategy|roadmap|action\s+plan|plan)", r"critically", r"sparring", r"(?:strengths|weaknesses|gaps|blind\s+spots)\s+(?:of|in)\s+(?:our|the)\s+(?:strategy|plan|roadmap)",
        r"is\s+(?:our|the)\s+(?:strategy|plan|roadmap)\s+(?:realistic|coherent|consistent|ambitious|sound)", r"(?:strategy|roadmap|action\s+plan)\s+(?:review|assessment)",
        r"relecture", r"relire\s+(?:notre|la)", r"regard\s+(?:ext[ée]rieur|critique|neuf)", r"avis\s+(?:critique|ext[ée]rieur)", r"examen\s+par\s+les\s+pairs", r"(?:notre|la)\s+(?:strat[ée]gie|feuille\s+de\s+route|plan\s+d'action)",
        r"revisi[óo]n\s+(?:por\s+pares|entre\s+pares|cr[íi]tica)", r"revisar\s+(?:nuestra|nuestro|la|el)\s+(?:estrategia|hoja\s+de\s+ruta|plan)", r"(?:opini[óo]n|mirada|lectura)\s+(?:cr[íi]tica|externa)", r"hoja\s+de\s+ruta", r"plan\s+de\s+acci[óo]n", r"(?:nuestra|la)\s+estrategia",
        r"kritisch\s+(?:lesen|durchsehen|pr[üu]fen|gegenlesen|anschauen|begutachten)", r"gegenlesen", r"(?:unsere|die)\s+(?:strategie|roadmap|internationalisierungsstrategie)", r"aktionsplan", r"fahrplan", r"begutacht", r"au(?:ß|ss)ensicht", r"feedback\s+zu\s+unserer",
        r"revisione\s+(?:tra\s+pari|paritaria|critica)", r"lettura\s+critica", r"(?:parere|sguardo|occhio)\s+(?:critico|esterno)", r"(?:nostra|la)\s+strategia", r"piano\s+d'azione", r"tabella\s+di\s+marcia", r"rileggere",
        r"revis[ãa]o\s+(?:por\s+pares|cr[íi]tica)", r"leitura\s+cr[íi]tica", r"(?:olhar|parecer|opini[ãa]o)\s+(?:externo|cr[íi]tic[oa])", r"(?:nossa|a)\s+estrat[ée]gia", r"plano\s+de\s+a[çc][ãa]o", r"roteiro",
        r"recenzj", r"przegl[ąa]d\s+(?:naszej\s+)?(?:strategii|planu)", r"krytyczn", r"(?:nasz[aą]|naszej)\s+strategi", r"plan(?:u)?\s+dzia[łl]a[ńn]", r"map[aęy]\s+drogow", r"opini[aęi]\s+(?:na\s+temat|o)\s+(?:naszej|naszym)",
        r"kritisch\s+(?:bekijken|lezen)", r"kritische\s+(?:blik|beoordeling)", r"onafhankelijke\s+beoordeling", r"onze\s+strategie", r"actieplan",
        r"devil'?s\s+advocate", r"(?:poke|find)\s+holes", r"(?:honest|frank|candid)\s+(?:opinion|feedback|assessment|view)", r"tear\s+(?:it|our\s+\w+)\s+apart",
        r"(?:justify|justification\s+of)\s+(?:the|our)\s+(?:choice|selection|target)", r"(?:review|revise[d]?)\s+(?:the\s+)?strategy",
        r"avocat\s+du\s+diable", r"abogado\s+del\s+diablo", r"advocatus\s+diaboli", r"avvocato\s+del\s+diavolo", r"advogado\s+do\s+diabo",
    ],
    "eccp-forum": [
        r"\bforum\b", r"\beccp\b", r"cluster\s*collaboration\s*(?:platform|\.eu)?", r"clustercollaboration", r"\blog\s*in\b", r"login", r"password", r"\baccount\b", r"(?:discussion|forum)\s+group", r"\bgroup\b",
        r"\bpost(?:ed|ing)?\b", r"thread", r"moderat", r"notifications?", r"digest", r"(?:the\s+)?platform", r"profile", r"members?\s+area",
        r"\bforo\b", r"f[óo]rum", r"plataforma", r"plateforme", r"plattform", r"piattaforma", r"platform[aęy]", r"mot\s+de\s+passe", r"contrase[ñn]a", r"passwort", r"senha", r"has[łl]o", r"wachtwoord",
        r"notificac", r"notifica", r"benachrichtigung", r"powiadomie", r"meldingen", r"identifiant", r"anmeldedaten", r"credenziali", r"credenciais", r"credenciales", r"konto", r"compte", r"cuenta", r"conta\b",
        r"publicar", r"publier", r"beitrag", r"pubblicare", r"wpis", r"moderador", r"mod[ée]rat", r"moderatore",
    ],
    "webinars": [
        r"webinar", r"webinaire", r"webinario", r"seminario\s+(?:web|online)", r"semin[áa]rio\s+(?:web|online)", r"webinarium", r"online\s+(?:session|seminar|event|workshop|training)", r"learning\s+session",
        r"recording", r"slides", r"speaker", r"present\s+(?:our\s+\w+\s+)?(?:at|in)\s+(?:the|a|your|one|next)\s+(?:\w+\s+)?(?:webinar|session|online)", r"(?:zoom|teams|webex)\s+link", r"register\s+for\s+the\s+(?:session|webinar)", r"registration\s+(?:link|for\s+the\s+(?:session|webinar))", r"replay",
        r"enregistrement", r"diapos", r"diaporama", r"intervenant", r"\breplay\b",
        r"grabaci[óo]n", r"diapositivas", r"ponente",
        r"aufzeichnung", r"folien", r"\breferent", r"vortrag",
        r"registrazione\s+(?:del|della|video)", r"\bslide\b", r"relatore", r"relatrice",
        r"grava[çc][ãa]o", r"diapositivos", r"\boradora?\b",
        r"nagrani", r"prelegent", r"opname", r"spreker",
        r"уебинар", r"вебинар", r"webin[áa][řr]", r"webinaari", r"webin[áa]rium", r"διαδικτυακ", r"online\s+(?:seminar|szeminárium|seminarium)",
    ],
    "complementarities": [
        r"(?:which|what|any)\s+(?:other\s+)?(?:partnerships?|escps?|cluster\s+partnerships?|consortia)", r"(?:with|between|contact|meet|find|identify)\s+(?:the\s+)?other\s+(?:partnerships?|escps?)", r"other\s+(?:partnerships?|escps?)\s+(?:that|which|who|working|active|interested|in\s+the\s+same)", r"another\s+(?:partnership|escp)", r"(?:introduce|introduction|put\s+us\s+in\s+touch|connect\s+us|link\s+us)",
        r"synerg(?:y|ies)", r"complementar", r"joint\s+(?:activit(?:y|ies)|mission|proposal|event|action|project)s?\s+with", r"(?:collaborat|cooperat)(?:e|ion)\s+with\s+(?:another|other|a\s+similar)", r"similar\s+(?:partnerships?|topics?|focus|sector)",
        r"working\s+on\s+(?:the\s+same|similar)", r"overlap", r"in\s+touch\s+with\s+(?:the\s+)?(?:coordinator|people|colleagues)\s+(?:of|from|behind)", r"who\s+(?:else|is\s+working)\s+(?:is\s+)?(?:working|active)\s+on", r"(?:partners?|counterparts?)\s+(?:among|in)\s+(?:the\s+)?other",
        r"(?:avec|quels?|quelles?|trouver|identifier|contacter|conna[îi]tre|rencontrer|entre)\s+(?:les\s+|des\s+|d')?autres?\s+partenariats", r"mettre\s+en\s+(?:relation|contact)", r"synergies", r"compl[ée]mentarit", r"d'autres\s+escp", r"un\s+autre\s+partenariat",
        r"(?:con|qu[ée]|cu[áa]les|encontrar|identificar|contactar|conocer|entre)\s+(?:las\s+|los\s+)?otr[oa]s\s+(?:asociaciones|escp|partenariados|alianzas|cl[úu]steres)", r"poner(?:nos)?\s+en\s+contacto", r"sinergias", r"complementariedad", r"otro\s+partenariado",
        r"(?:mit|welche|zwischen|finden|kontaktieren)\s+(?:den\s+)?andere(?:n)?\s+(?:partnerschaften|escps?|cluster-?partnerschaften)", r"kontakt\s+(?:herstellen|vermitteln)", r"synergien", r"komplementarit", r"erg[äa]nz",
        r"(?:con|quali|tra|trovare|contattare)\s+(?:gli\s+)?altri\s+partenariati", r"mettere\s+(?:in\s+contatto|in\s+relazione)", r"sinergie", r"complementariet", r"altro\s+partenariato", r"altre\s+escp",
        r"(?:com|quais|entre|encontrar|contactar)\s+(?:as\s+)?outras\s+parcerias", r"p[ôo]r(?:-nos)?\s+em\s+contacto", r"complementaridade", r"outra\s+parceria",
        r"(?:z|jakie|mi[ęe]dzy|znale[źz][ćc])\s+inn(?:e|ych|ymi)\s+(?:partnerstw|escp)", r"synergi", r"komplementarn", r"skontaktowa[ćc]", r"nawi[ąa]za[ćc]\s+(?:kontakt|wsp[óo][łl]prac)",
        r"andere\s+partnerschappen", r"in\s+contact\s+brengen", r"(?:noch|weitere|auch)\s+andere(?:n)?\s+(?:partnerschaften|escps?)", r"weitere\s+partnerschaften", r"kontakt\s+zu\s+(?:den\s+)?koordinator",
        r"(?:any|some)\s+other\s+(?:partnerships?|escps?)", r"d'autres\s+partenariats\s+(?:qui|travaillent|actifs)", r"otr[oa]s\s+(?:asociaciones|partenariados|escp)\s+(?:que|trabajando)", r"altri\s+partenariati\s+(?:che|attivi)", r"outras\s+parcerias\s+(?:que|a\s+trabalhar)", r"alte\s+parteneriate", r"activit[ăa][țt]i\s+comune", r"gemensamma\s+aktiviteter", r"jin[áa]\s+partnerstv", r"m[áa]s\s+partners[ée]g", r"andra\s+(?:strategiska\s+)?(?:kluster)?partnerskap", r"andre\s+partnerskaber", r"muita\s+kumppanuuksia",
        r"(?:mi|ci)\s+presentate", r"presentar(?:nos|me)\s+a", r"nous\s+pr[ée]senter", r"apresentar-nos", r"vorstellen\s+k[öo]nnten", r"przedstawi[ćc]\s+nam",
        r"(?:attivit[àa]|evento|azioni)\s+(?:in\s+comune|congiunt)", r"(?:activit[ée]s?|[ée]v[ée]nement|actions?)\s+(?:en\s+commun|conjointe?s?)", r"(?:actividad(?:es)?|evento|acciones?)\s+(?:en\s+com[úu]n|conjunt)",
        r"(?:atividades?|evento|a[çc][õo]es)\s+(?:em\s+comum|conjunt)", r"gemeinsame(?:n|s)?\s+(?:aktivit|veranstaltung|mission|projekt|aktion)", r"wsp[óo]ln(?:e|ych|ego)\s+(?:dzia[łl]a|wydarze|projekt|misj)",
        r"(?:partnerships?|escps?)\s+(?:that|which|who)\s+(?:work|focus|are\s+active)", r"(?:what|which)\s+(?:the\s+)?other\s+(?:\w+\s+)?(?:partnerships?|escps?|clusters?)\s+(?:are|do|did)",
    ],
    "eu-funding": [
        r"fund(?:s|ed|ing)?\b", r"financ(?:e|ing|ial\s+support)", r"\bgrants?\b", r"\bcosme\b", r"horizon\s*(?:2020|europe)", r"\bh2020\b", r"innosup", r"interreg(?:\b|\s+europe)(?!ional)",
        r"call\s+for\s+(?:proposals|projects|expression)", r"open\s+calls?", r"calls?\s+(?:for|under|in|of)\s+(?:the\s+)?(?:horizon|cosme|interreg|innosup|smp|single\s+market|eu|european|proposals)",
        r"\berdf\b", r"\besif\b", r"structural\s+funds", r"cascade\s+funding", r"\bfstp\b", r"co-?financ", r"co-?fund", r"eligib(?:le|ility)", r"who\s+(?:pays|will\s+pay|covers|finances)",
        r"(?:cover|reimburse|pay\s+for|finance|subsidi[sz]e)\s+(?:the\s+)?(?:costs?|travel|flights?|tickets|participation|stand|fees)", r"lump\s+sum", r"vouchers?", r"(?:travel|innovation)\s+(?:grant|voucher|support)", r"budget", r"subsid(?:y|ies)", r"single\s+market\s+programme", r"\bsmp\b", r"digital\s+europe\s+programme", r"eu\s+money", r"de\s+minimis",
        r"financement", r"subvention", r"appels?\s+(?:à|a)\s+(?:projets|propositions|candidatures)", r"cofinancement", r"[ée]ligib", r"qui\s+(?:paie|paye|finance|prend\s+en\s+charge)", r"prise\s+en\s+charge", r"\bfeder\b", r"aides?\s+(?:financi[èe]res|europ[ée]ennes)",
        r"financiaci[óo]n", r"financiamiento", r"subvenci[óo]n", r"convocatoria", r"cofinanciaci[óo]n", r"elegib", r"qui[ée]n\s+(?:paga|financia|cubre)", r"ayudas?", r"fondos?\s+(?:europeos|feder|eu)",
        r"f[öo]rder(?:ung|mittel|programm|f[äa]hig|aufruf)", r"finanzierung", r"ausschreibung", r"kofinanzierung", r"zuschuss", r"wer\s+(?:zahlt|tr[äa]gt|finanziert|[üu]bernimmt)", r"kosten\s+[üu]bernimmt", r"efre",
        r"finanziament", r"bando", r"bandi", r"cofinanziament", r"ammissibil", r"contribut[oi]\s+(?:a\s+fondo\s+perduto|europe)", r"chi\s+(?:paga|finanzia|copre)", r"fondi\s+(?:europei|strutturali|ue)", r"\bfesr\b",
        r"financiamento", r"subven[çc][ãa]o", r"concurso", r"aviso\s+de\s+abertura", r"cofinanciamento", r"eleg[íi]vel", r"elegibilidade", r"quem\s+(?:paga|financia|suporta)", r"fundos\s+(?:europeus|estruturais)", r"apoios?\s+financeiros?",
        r"finansowani", r"dofinansowani", r"nab[óo]r", r"konkurs", r"kwalifikowaln", r"dotacj", r"\bgrant", r"kto\s+(?:p[łl]aci|pokryje|sfinansuje|pokrywa)", r"fundusz", r"[śs]rodki\s+(?:unijne|ue|europejskie)",
        r"financiering", r"subsidie", r"oproep", r"vem\s+betalar", r"hvem\s+betaler", r"wie\s+betaalt", r"kdo\s+(?:plat[íi]|zaplat)", r"ki\s+fizeti", r"cine\s+pl[ăa]te[șs]te", r"kuka\s+maksaa",
        r"eu-?medel", r"utlysning", r"finansiering", r"financov[áa]n", r"finan[țt]are", r"rahoitus", r"finansz[íi]roz", r"dotac", r"subvencij", r"finansiranj", r"eu-?f[öo]rdermittel",
    ],
    "eu-initiatives": [
        r"s3\s+platform", r"(?:thematic\s+)?smart\s+speciali[sz]ation\s+platform", r"smart\s+speciali[sz]ation", r"industrial\s+moderni[sz]ation", r"skills?\s+blueprint", r"blueprint", r"pact\s+for\s+skills",
        r"european\s+cluster\s+(?:conference|policy\s+forum|week|days|excellence\s+programme)", r"cluster\s+(?:days|weeks)", r"industrial\s+strategy", r"vanguard", r"\beit\b", r"\bkics?\b", r"eit\s+(?:digital|manufacturing|food|health|climate|raw\s+materials|urban\s+mobility|innoenergy)",
        r"high[\s-]level\s+expert\s+group", r"industry\s+days", r"green\s+deal", r"industrial\s+ecosystems?", r"transition\s+pathways?", r"industrial\s+alliances?", r"battery\s+alliance", r"hydrogen\s+alliance", r"european\s+commission\s+initiative",
        r"plateforme\s+(?:s3|th[ée]matique)", r"sp[ée]cialisation\s+intelligente", r"modernisation\s+industrielle", r"strat[ée]gie\s+industrielle", r"pacte\s+pour\s+les\s+comp[ée]tences", r"conf[ée]rence\s+europ[ée]enne\s+des\s+clusters",
        r"plataforma\s+(?:s3|tem[áa]tica)", r"especializaci[óo]n\s+inteligente", r"modernizaci[óo]n\s+industrial", r"estrategia\s+industrial", r"pacto\s+(?:por|para)\s+las\s+capacidades", r"conferencia\s+europea\s+de\s+cl[úu]steres",
        r"s3[\s-]plattform", r"intelligente(?:n)?\s+spezialisierung", r"industrielle(?:n)?\s+modernisierung", r"industriestrategie", r"kompetenzpakt", r"europ[äa]ische(?:n)?\s+clusterkonferenz",
        r"piattaforma\s+(?:s3|tematica)", r"specializzazione\s+intelligente", r"modernizzazione\s+industriale", r"strategia\s+industriale", r"patto\s+per\s+le\s+competenze", r"conferenza\s+europea\s+dei\s+cluster",
        r"especializa[çc][ãa]o\s+inteligente", r"moderniza[çc][ãa]o\s+industrial", r"estrat[ée]gia\s+industrial", r"pacto\s+para\s+as\s+compet[êe]ncias",
        r"platform[aęy]\s+(?:s3|tematyczn)", r"inteligentn(?:a|ej|ych)\s+specjalizacj", r"modernizacj[ai]\s+przemys[łl]", r"strategi[ai]\s+przemys[łl]", r"pakt(?:u)?\s+na\s+rzecz\s+umiej[ęe]tno[śs]ci",
        r"slimme\s+specialisatie", r"industri[ëe]le\s+modernisering",
        r"cluster\s+conference", r"conf[ée]rence.{0,25}clusters?", r"conferencia.{0,25}cl[úu]steres", r"confer[êe]ncia.{0,25}clusters?", r"clusterkonferenz", r"conferenza.{0,25}cluster", r"konferencj.{0,25}klastr",
        r"euroclusters?", r"\bs3\b.{0,20}(?:partnership|platform|area)", r"european\s+(?:alliance|initiative)\s+(?:on|for)", r"industry\s+5\.0", r"twin\s+transition",
    ],
}

INTENTS = ["service-request", "survey", "subscribe", "unsubscribe", "auto-reply", "bounce", "spam", "other"]
CATEGORIES = catalogue.ids()


_META = set("\\.^$*+?{}[]|()")


def _literal_alts(pattern: str, limit: int = 8) -> tuple[str, ...]:
    """The literal texts one of which every match of `pattern` starts with (small character
    classes such as [ée] are expanded); () when there is none worth relying on."""
    p = pattern
    while p.startswith("\\b") or p.startswith("^") or p.startswith("(?<"):
        if p.startswith("(?<"):
            p = p[_group_end(p, 0):]
        else:
            p = p[2:] if p.startswith("\\b") else p[1:]
    alts = [""]
    i = 0
    while i < len(p):
        c = p[i]
        nxt_i = i + 1
        if c == "\\":
            if p.startswith("\\s+", i) or (p.startswith("\\s", i) and not p.startswith("\\s?", i) and not p.startswith("\\s*", i)):
                # cue text has its whitespace collapsed to single spaces (see match_text)
                chars = [" "]
                nxt_i = i + (3 if p.startswith("\\s+", i) else 2)
                if len(alts) * len(chars) > limit:
                    break
                alts = [a + " " for a in alts]
                i = nxt_i
                continue
            if i + 1 >= len(p) or p[i + 1] in "sSdDwWbBAZ" or p[i + 1].isdigit():
                break
            chars = [p[i + 1]]
            nxt_i = i + 2
        elif c == "[":
            end = p.find("]", i + 1)
            body = p[i + 1:end] if end > 0 else ""
            if end < 0 or not body or body.startswith("^") or "\\" in body or "-" in body:
                break
            chars = list(body)
            nxt_i = end + 1
        elif c in _META:
            break
        else:
            chars = [c]
        if nxt_i < len(p) and p[nxt_i] in "?*{":
            break                      # optional: stop before it
        if len(alts) * len(chars) > limit:
            break
        alts = [a + ch for a in alts for ch in chars]
        i = nxt_i
    if not alts or min(len(a) for a in alts) < 2:
        return ()
    return tuple(dict.fromkeys(alts))


def _group_end(p: str, start: int) -> int:
    """Index just after the ')' closing the group that opens at p[start] == '('."""
    depth = 0
    i = start
    while i < len(p):
        c = p[i]
        if c == "\\":
            i += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(p)


def _split_top(body: str) -> list[str]:
    parts, depth, cur, i = [], 0, [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            cur.append(body[i:i + 2])
            i += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if c == "|" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def required_literals(pattern: str, depth: int = 0) -> tuple[str, ...]:
    """Substrings of which at least one occurs in every match of `pattern` (() = unknown: always run)."""
    p = pattern
    while p.startswith("\\b") or p.startswith("^"):
        p = p[2:] if p.startswith("\\b") else p[1:]
    if depth > 3:
        return ()
    if p.startswith("(?:"):
        end = _group_end(p, 0)
        optional = end < len(p) and p[end] in "?*"
        if optional:
            rest = p[end + 1:].lstrip()
            while rest.startswith("\\s"):
                rest = rest[3:].lstrip("+*?")
            return required_literals(rest, depth + 1) if rest else ()
        alts = _split_top(p[3:end - 1])
        lits = []
        for alt in alts:
            sub = required_literals(alt, depth + 1)
            if not sub:
                return ()
            lits.extend(sub)
        return tuple(lits)
    return _literal_alts(p)


KEY_LEN = 4


def _key(literal: str) -> str:
    """Index key of a literal: its first 4 (or 3) characters ('' = too short to index)."""
    if len(literal) >= KEY_LEN:
        return literal[:KEY_LEN]
    return literal[:3] if len(literal) >= 3 else ""


def match_text(text: str) -> str:
    """What the cue tables expect: lower case, whitespace collapsed to single spaces."""
    return " ".join(text.lower().split())


def text_grams(text: str) -> frozenset:
    """All 3- and 4-character substrings of `text`: computed once, shared by the cue tables."""
    return frozenset([text[i:i + 3] for i in range(len(text) - 2)] + [text[i:i + KEY_LEN] for i in range(len(text) - KEY_LEN + 1)])


class _Table:
    """Per label: patterns with a literal prefix are only run when that prefix occurs in the text
    (a plain substring test), which keeps ~1,000 patterns cheap per mail."""

    def __init__(self, table: dict[str, list[str]]):
        self.labels = list(table)
        self.entries: list[tuple[str, tuple[str, ...], re.Pattern]] = []
        self.always: list[int] = []                 # entries without a usable literal
        self.by_key: dict[str, list[int]] = {}      # first 1-3 letters of a literal -> entries
        for label, pats in table.items():
            for pat in pats:
                lits = tuple(x.lower() for x in required_literals(pat))
                k = len(self.entries)
                self.entries.append((label, lits, re.compile(pat)))
                keys = {_key(x) for x in lits}
                if not lits or "" in keys:
                    self.always.append(k)
                else:
                    for key in keys:
                        self.by_key.setdefault(key, []).append(k)
        self.keyset = frozenset(self.by_key)

    def hits(self, text: str, grams: frozenset | None = None) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        cand = set(self.always)
        by_key = self.by_key
        if grams is None:
            grams = text_grams(text)
        for key in grams & self.keyset:
            cand.update(by_key[key])
        entries = self.entries
        for k in sorted(cand):
            label, lits, rx = entries[k]
            if lits:
                if len(lits) == 1:
                    if lits[0] not in text:
                        continue
                elif not any(x in text for x in lits):
                    continue
            for m in rx.finditer(text):
                s = m.group(0).strip()
                if not s:
                    continue
                found = out.setdefault(label, [])
                if s not in found:
                    found.append(s)
        return out


_INTENT = _Table(INTENT_CUES)
_NEG = _Table(NEGATIVE_CUES)
_CATEGORY = _Table(CATEGORY_CUES)


def intent_hits(text: str, grams: frozenset | None = None) -> dict[str, list[str]]:
    """Cue phrases per intent (and pseudo-label) found in lower-cased `text`."""
    return _INTENT.hits(text, grams)


def negative_hits(text: str, grams: frozenset | None = None) -> dict[str, list[str]]:
    return _NEG.hits(text, grams)


def category_hits(text: str, grams: frozenset | None = None) -> dict[str, list[str]]:
    return _CATEGORY.hits(text, grams)


INTENT_CUE_LABELS = _INTENT.labels
NEG_CUE_LABELS = _NEG.labels
CATEGORY_CUE_LABELS = _CATEGORY.labels
