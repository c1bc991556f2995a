"""`eocic-desk classify`: classify .eml files, evaluate on a labelled folder, measure quality, train or retrain.

The work is done in handlers/classify (commands.py, training.py, quality.py); this module only wires it to the shell.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from bot.cli.common import in_transaction


def register(sub) -> None:
    p = sub.add_parser("classify", help="classify .eml files, or evaluate on a labelled folder")
    p.add_argument("files", nargs="*", help=".eml files to classify")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--evaluate", metavar="DIR", help="folder with .eml files and labels.jsonl")
    p.add_argument("--retrain", action="store_true",
                   help="rebuild the model from the corpus and the staff corrections in the database")
    p.add_argument("--train", action="store_true",
                   help="rebuild the model from the corpus alone (no database needed)")
    p.add_argument("--out", metavar="FILE", help="with --train: where to write the model (default: where classify loads it)")
    p.add_argument("--train-only", action="store_true", help="with --train: leave the dev split out (for measuring)")
    p.add_argument("--quality", action="store_true",
                   help="score the classifier on mail it was not trained on (dev split, leave-one-writer-out): one JSON line")
    p.add_argument("--predictions", metavar="FILE", help="with --quality: also write every prediction here (JSON lines)")
    p.set_defaults(func=cmd_classify)


def cmd_classify(settings, args) -> int:
    from handlers.classify import commands

    if (args.out or args.train_only) and not args.train:
        raise SystemExit("eocic-desk classify: --out and --train-only go with --train, e.g. "
                         "`eocic-desk classify --train --out model.pkl.gz`")
    if args.predictions and not args.quality:
        raise SystemExit("eocic-desk classify: --predictions goes with --quality, e.g. "
                         "`eocic-desk classify --quality --predictions out.jsonl`")
    if args.quality:
        return cmd_quality(args)
    if args.retrain:
        return asyncio.run(cmd_retrain(settings, args))
    if args.train:
        return cmd_train(args)
    if args.evaluate:
        return commands.evaluate_dir(args.evaluate, sys.stdout)
    if not args.files:
        raise SystemExit("eocic-desk classify: give .eml files, --evaluate DIR, or --retrain")
    return commands.classify_files(args.files, args.json, sys.stdout)


def cmd_train(args) -> int:
    from handlers.classify.training import build, save

    started = time.perf_counter()
    model = build(train_only=args.train_only)
    out = save(model, args.out)
    print(f"trained on {model['trained_on']} mails in {time.perf_counter() - started:.1f}s -> {out}")
    return 0


def cmd_quality(args) -> int:
    from handlers.classify.corpus import load_corpus
    from handlers.classify.quality import measure

    scores, rows = measure(load_corpus())
    if args.predictions:
        with open(args.predictions, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
    print(json.dumps(scores))
    return 0


async def cmd_retrain(settings, args) -> int:
    from handlers.classify.training import retrain
    from handlers.parsing import parse_mail
    from models.corrections import corrected_examples

    code, corrected = await in_transaction(settings, lambda session, desk: corrected_examples(session))
    if code:
        return code
    examples = [(parse_mail(raw), labels) for raw, labels in corrected]
    path = await asyncio.to_thread(retrain, examples)
    print(f"retrained with {len(examples)} staff correction(s) on top of the corpus: {path}")
    return 0
