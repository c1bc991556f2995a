"""Throughput of handlers.classify.classify, one core: on the intake bench's realistic mails
(bench/mailgen.py make_request, ~4-5 KB with signature, disclaimer and quoted thread) and on the
labelled corpus (short, hand-written mails).

Prints ONE JSON line:
  mails                 how many realistic mails were classified per round
  mail_bytes            their mean size
  classify_mails_per_s  classify() alone on those mails, parsed beforehand (process CPU time, best round)
  ms_per_mail           the same as milliseconds per mail
  baseline_mails_per_s  parse_mail() alone on the same raw mails, measured in the same run
  ratio                 classify_mails_per_s / baseline_mails_per_s
  corpus_*              the same three figures on the labelled corpus (config/classifier/corpus)
  startup_s             import + model load (+ language model) before the first mail
  model, code           where the models and the classifier code came from
with --against DIR, also the classifier of another checkout (an older commit) on the very same mails:
  against_*             its ms_per_mail, corpus_ms_per_mail, model and code
  speedup               against_ms_per_mail / ms_per_mail (realistic mails); corpus_speedup the same on the corpus
The two trees are measured in turns (this tree in this process, DIR in a child process with
PYTHONPATH=DIR), `--turns` times each, and each figure is its best turn.

    python bench/classify.py [--mails N] [--rounds N] [--against DIR [--turns N]]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKER = "--worker" in sys.argv  # a child measuring another tree: its code comes from PYTHONPATH alone
if not WORKER and str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def rate(fn, items, rounds: int) -> float:
    """Items per second of CPU time of this process (one core), best of `rounds`: other load on
    the machine does not count against us, and neither does it flatter the baseline."""
    best = 0.0
    for _ in range(rounds):
        t = time.process_time()
        for x in items:
            fn(x)
        best = max(best, len(items) / max(time.process_time() - t, 1e-9))
    return best


def load_classifier() -> dict:
    """Import the classifier and load its models; where they came from and how long it took."""
    t0 = time.perf_counter()
    import handlers.classify
    from handlers.classify.classifier import get_classifier, loaded_from
    get_classifier()
    return {"startup_s": round(time.perf_counter() - t0, 3), "model": loaded_from(),
            "code": str(Path(handlers.classify.__file__).parent)}


def measure(raws: list[bytes], rounds: int) -> tuple[float, float]:
    """(classify mails/s, parse_mail mails/s) on `raws`."""
    from handlers.classify import classify
    from handlers.parsing import parse_mail

    mails = [parse_mail(r) for r in raws]
    classify(mails[0])
    return rate(classify, mails, rounds), rate(parse_mail, raws, rounds)


def worker(path: str, rounds: int) -> int:
    """Child of --against: measure the tree on PYTHONPATH on the pickled mails, print one JSON line."""
    info = load_classifier()
    with open(path, "rb") as fh:
        realistic, corpus = pickle.load(fh)
    speed, _ = measure(realistic, rounds)
    corpus_speed, _ = measure(corpus, rounds)
    print(json.dumps({**info, "speed": speed, "corpus_speed": corpus_speed}))
    return 0


def against(tree: Path, realistic: list[bytes], corpus: list[bytes], rounds: int) -> dict:
    """One turn of the tree at `tree` in a child process on the same raw mails."""
    with tempfile.NamedTemporaryFile(suffix=".pickle") as fh:
        pickle.dump((realistic, corpus), fh)
        fh.flush()
        out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", fh.name, "--rounds", str(rounds)],
                             cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True,
                             check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mails", type=int, default=300, help="realistic mails per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--against", type=Path, help="another checkout whose classifier to measure on the same mails")
    ap.add_argument("--turns", type=int, default=2, help="with --against: turns of each tree")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker, args.rounds)

    info = load_classifier()
    from bench.mailgen import make_request
    from handlers.classify.corpus import CORPUS_DIR

    realistic = [make_request(i) for i in range(args.mails)]
    corpus = [p.read_bytes() for p in sorted(CORPUS_DIR.glob("*/*.eml"))]
    if not corpus:
        print(json.dumps({"error": f"no .eml files under {CORPUS_DIR}"}))
        return 2

    speed = baseline = corpus_speed = corpus_baseline = 0.0
    old: list[dict] = []
    for _ in range(args.turns if args.against else 1):
        s, b = measure(realistic, args.rounds)
        cs, cb = measure(corpus, args.rounds)
        speed, baseline = max(speed, s), max(baseline, b)
        corpus_speed, corpus_baseline = max(corpus_speed, cs), max(corpus_baseline, cb)
        if args.against:
            old.append(against(args.against.resolve(), realistic, corpus, args.rounds))
    result = {
        "mails": len(realistic),
        "mail_bytes": round(sum(map(len, realistic)) / len(realistic)),
        "classify_mails_per_s": round(speed, 1),
        "ms_per_mail": round(1000 / speed, 3),
        "baseline_mails_per_s": round(baseline, 1),
        "baseline": "parse_mail on the same raw mails",
        "ratio": round(speed / baseline, 3),
        "corpus_mails": len(corpus),
        "corpus_classify_mails_per_s": round(corpus_speed, 1),
        "corpus_baseline_mails_per_s": round(corpus_baseline, 1),
        "corpus_ratio": round(corpus_speed / corpus_baseline, 3),
        **info,
    }
    if old:
        old_speed = max(o["speed"] for o in old)
        old_corpus = max(o["corpus_speed"] for o in old)
        result.update({
            "against_ms_per_mail": round(1000 / old_speed, 3),
            "against_corpus_ms_per_mail": round(1000 / old_corpus, 3),
            "against_model": old[0]["model"], "against_code": old[0]["code"],
            "speedup": round(speed / old_speed, 3), "corpus_speedup": round(corpus_speed / old_corpus, 3),
        })
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
