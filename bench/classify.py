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

    python bench/classify.py [--mails N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mails", type=int, default=300, help="realistic mails per round")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    t0 = time.perf_counter()
    import handlers.classify
    from handlers.classify import classify
    from handlers.classify.classifier import get_classifier, loaded_from
    from handlers.classify.corpus import CORPUS_DIR
    get_classifier()
    startup = time.perf_counter() - t0

    from bench.mailgen import make_request
    from handlers.parsing import parse_mail

    realistic = [make_request(i) for i in range(args.mails)]
    corpus = [p.read_bytes() for p in sorted(CORPUS_DIR.glob("*/*.eml"))]
    if not corpus:
        print(json.dumps({"error": f"no .eml files under {CORPUS_DIR}"}))
        return 2

    def measure(raws: list[bytes]) -> tuple[float, float]:
        mails = [parse_mail(r) for r in raws]
        classify(mails[0])
        return rate(classify, mails, args.rounds), rate(parse_mail, raws, args.rounds)

    speed, baseline = measure(realistic)
    corpus_speed, corpus_baseline = measure(corpus)
    print(json.dumps({
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
        "startup_s": round(startup, 3),
        "model": loaded_from(),
        "code": str(Path(handlers.classify.__file__).parent),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
