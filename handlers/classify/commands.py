"""Plain functions behind `eocic-desk classify [--json] FILE...` and `eocic-desk classify --evaluate DIR`.

Both write to `out` (a text stream) and return a process exit code:
  0  everything was classified / evaluated,
  1  some files could not be read or parsed (they are reported, the others still processed),
  2  nothing to do (no such directory, no labels.jsonl, no files).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TextIO

from config.catalogue import CATEGORIES
from config.registry import normalise_acronym
from handlers.parsing import UnparseableMail, parse_mail

from . import classify
from .corpus import read_labels
from .cues import INTENTS


def _read(path: str):
    raw = Path(path).read_bytes()
    return parse_mail(raw)


def classify_files(paths: list[str], as_json: bool, out: TextIO) -> int:
    """One line per file: tab-separated fields, or (as_json) one JSON object per line."""
    failed = 0
    if not paths:
        out.write("classify: give one or more .eml files (or --evaluate DIR)\n")
        return 2
    for path in paths:
        try:
            mail = _read(path)
        except (OSError, UnparseableMail) as exc:
            failed += 1
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            if as_json:
                out.write(json.dumps({"file": path, "error": f"cannot read or parse: {reason}"}, ensure_ascii=False) + "\n")
            else:
                out.write(f"{path}\terror: cannot read or parse: {reason}\n")
            continue
        r = classify(mail)
        if as_json:
            out.write(json.dumps({"file": path, **r.to_dict()}, ensure_ascii=False) + "\n")
        else:
            low = min(r.confidence.values())
            flag = "  [needs review]" if r.needs_review else ""
            out.write(f"{path}\t{r.intent}\t{r.category or '-'}\t{r.partnership or '-'}\t{r.language}\t"
                      f"min-confidence={low:.2f}{flag}\n")
    return 1 if failed else 0


# ------------------------------------------------------------------------------------- evaluation
def prf(gold: list, pred: list, labels: list) -> dict[str, tuple[float, float, float, int]]:
    """Per label: (precision, recall, F1, support). Labels absent from both sides score 0 and are
    only listed when asked for (the ten categories always are)."""
    out = {}
    for lab in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == lab and p == lab)
        fp = sum(1 for g, p in zip(gold, pred) if g != lab and p == lab)
        fn = sum(1 for g, p in zip(gold, pred) if g == lab and p != lab)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[lab] = (prec, rec, f1, tp + fn)
    return out


def _table(out: TextIO, title: str, scores: dict) -> None:
    out.write(f"\n{title}\n")
    out.write(f"  {'label':28s} {'precision':>9s} {'recall':>7s} {'F1':>6s} {'support':>8s}\n")
    for lab, (p, r, f, n) in scores.items():
        out.write(f"  {str(lab):28s} {p:9.3f} {r:7.3f} {f:6.3f} {n:8d}\n")


def evaluate(gold: list[dict], pred: list[dict]) -> dict:
    """Scores of predictions against labels (both lists of label dicts in the same order)."""
    gi = [g["intent"] for g in gold]
    pi = [p["intent"] for p in pred]
    intent_labels = [x for x in INTENTS if x in gi or x in pi] + sorted({x for x in gi + pi if x not in INTENTS})
    intent_scores = prf(gi, pi, intent_labels)
    gc = [g.get("category") for g in gold]
    pc = [p.get("category") for p in pred]
    cat_scores = prf(gc, pc, CATEGORIES)
    gp = [normalise_acronym(g.get("partnership")) for g in gold]
    pp = [normalise_acronym(p.get("partnership")) for p in pred]
    n = len(gold) or 1
    return {
        "n": len(gold),
        "intent": intent_scores,
        "intent_macro_f1": sum(v[2] for v in intent_scores.values()) / (len(intent_scores) or 1),
        "category": cat_scores,
        "category_macro_f1": sum(v[2] for v in cat_scores.values()) / len(CATEGORIES),
        "partnership_accuracy": sum(a == b for a, b in zip(gp, pp)) / n,
        "language_accuracy": sum(g.get("language") == p.get("language") for g, p in zip(gold, pred)) / n,
        "confusions": {
            "intent": Counter((a, b) for a, b in zip(gi, pi) if a != b),
            "category": Counter((a, b) for a, b in zip(gc, pc) if a != b and (a or b)),
            "partnership": Counter((a, b) for a, b in zip(gp, pp) if a != b),
            "language": Counter((g.get("language"), p.get("language")) for g, p in zip(gold, pred) if g.get("language") != p.get("language")),
        },
    }


def evaluate_dir(path: str, out: TextIO) -> int:
    """Classify DIR/*.eml and score against DIR/labels.jsonl."""
    d = Path(path)
    if not d.is_dir():
        out.write(f"evaluate: {path} is not a directory (expected a folder with .eml files and labels.jsonl)\n")
        return 2
    lab_path = d / "labels.jsonl"
    if not lab_path.exists():
        out.write(f"evaluate: {lab_path} not found (one JSON object per line: file, intent, category, partnership, language)\n")
        return 2
    labels, problems = read_labels(d)
    gold, pred, files = [], [], []
    for name, lab in labels.items():
        f = d / name
        try:
            mail = _read(str(f))
        except (OSError, UnparseableMail) as exc:
            problems.append(f"{name}: cannot read or parse ({exc})")
            continue
        r = classify(mail)
        gold.append(lab)
        pred.append(r.to_dict())
        files.append(name)
    unlabelled = sorted(p.name for p in d.glob("*.eml") if p.name not in labels)
    if unlabelled:
        problems.append(f"{len(unlabelled)} .eml file(s) without a label line (ignored), e.g. {', '.join(unlabelled[:3])}")
    if not gold:
        out.write(f"evaluate: nothing to evaluate in {path}\n")
        for p in problems:
            out.write(f"  problem: {p}\n")
        return 2

    res = evaluate(gold, pred)
    out.write(f"evaluated {res['n']} mails from {path}\n")
    _table(out, "intent", res["intent"])
    _table(out, "category (service requests)", res["category"])
    out.write("\nsummary\n")
    out.write(f"  intent macro-F1        {res['intent_macro_f1']:.3f}\n")
    out.write(f"  category macro-F1      {res['category_macro_f1']:.3f}  (over the ten categories)\n")
    out.write(f"  partnership accuracy   {res['partnership_accuracy']:.3f}  (null counts as a label)\n")
    out.write(f"  language accuracy      {res['language_accuracy']:.3f}\n")
    out.write("\nconfusions that cost the most (gold -> predicted: count)\n")
    any_conf = False
    for kind in ("intent", "category", "partnership", "language"):
        for (a, b), c in res["confusions"][kind].most_common(5):
            any_conf = True
            out.write(f"  {kind:12s} {a or 'null'} -> {b or 'null'}: {c}\n")
    if not any_conf:
        out.write("  none\n")
    needs = sum(1 for p in pred if p.get("needs_review"))
    out.write(f"\n{needs} of {len(pred)} mails would be marked for review\n")
    if problems:
        out.write("\nproblems\n")
        for p in problems:
            out.write(f"  {p}\n")
    return 1 if any("cannot read or parse" in p for p in problems) else 0
