"""Which language a text is written in, by py3langid (langid.py's model, shipped inside the wheel: nothing is
downloaded). Loaded on first use (about half a second), then a few milliseconds per call."""

from __future__ import annotations

import threading
from functools import cache, lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

SAMPLE_CHARS = 5_000  # enough for a confident answer; more only costs time
MIN_CONFIDENCE = 0.5
_LOADING = threading.Lock()


@cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True, min_confidence=MIN_CONFIDENCE)


def identify_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when the text gives no confident answer."""
    return _identify_sample(text[:SAMPLE_CHARS])


@lru_cache(maxsize=1024)  # the same transcript comes again (cache hits, retries): ~3 ms of CPU each time otherwise
def _identify_sample(sample: str) -> str | None:
    if not any(ch.isalpha() for ch in sample):
        return None
    with _LOADING:  # one load even when the first requests come together
        identifier = _identifier()
    language, _confidence = identifier.classify(sample)
    return None if language == "und" else str(language)


class Py3LangidIdentifier:
    """The LanguageIdentifier port."""

    def identify(self, text: str) -> str | None:
        return identify_language(text)
