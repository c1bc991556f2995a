"""Throughput of handlers.classify.classify on the labelled corpus (dev + train), one core.

Prints ONE JSON line:
  mails                 how many corpus mails were classified per round
  startup_s             import + model load (+ language model) before the first mail
  classify_mails_per_s  classify() alone on mails parsed beforehand (process CPU time, best round)
  baseline_mails_per_s  parse_mail() alone on the same raw mails, measured in the same run
  ratio                 classify_mails_per_s / baseline_mails_per_s
  model                 where the models came from (artifact path or 'trained at start-up')

    python bench/classify.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    t0 = time.perf_counter()
    from handlers.classify import classify
    from handlers.classify.classifier import get_classifier, loaded_from
    get_classifier()
    startup = time.perf_counter() - t0

    from handlers.parsing import parse_mail
    corpus = ROOT / "config" / "classifier" / "corpus"
    raws = [p.read_bytes() for p in sorted(corpus.glob("*/*.eml"))]
    if not raws:
        print(json.dumps({"error": f"no .eml files under {corpus}"}))
        return 2

    def rate(fn, items):
        # CPU time of this process (one core), best of N rounds: other load on the machine
        # does not count against us, and neither does it flatter the baseline
        best = 0.0
        for _ in range(args.rounds):
            t = time.process_time()
            for x in items:
                fn(x)
            best = max(best, len(items) / max(time.process_time() - t, 1e-9))
        return best

    mails = [parse_mail(r) for r in raws]
    baseline = rate(parse_mail, raws)
    speed = rate(classify, mails)
    print(json.dumps({
        "mails": len(mails),
        "startup_s": round(startup, 3),
        "classify_mails_per_s": round(speed, 1),
        "baseline_mails_per_s": round(baseline, 1),
        "baseline": "parse_mail on the same raw mails",
        "ratio": round(speed / baseline, 3),
        "model": loaded_from(),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
