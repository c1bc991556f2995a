"""Importing this module loads the classifier's models and its language model.

The fork server of `bot/mail_pool.py` imports it once, so that every mail worker, and every
replacement of a killed one, forks with the models already in memory and starts in milliseconds.
A model that cannot load here is loaded (or its error raised) in the worker instead.
"""

import logging

from handlers.classify.classifier import get_classifier
from handlers.classify.language import identifier

try:
    get_classifier()
    identifier()
except Exception as exc:  # the worker's own get_classifier() will report it
    logging.getLogger(__name__).warning("classifier not preloaded: %r", exc)
