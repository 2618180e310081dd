"""What we ask the models."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from domain.mind_map import LABEL_MAX_WORDS, LEVEL_TYPES
from domain.outputs import (
    HASHTAGS_ASKED,
    MIND_MAP_BRANCHES_ASKED,
    MIND_MAP_LEAVES_ASKED,
    MIND_MAP_NODES,
    MIND_MAP_NODES_ASKED,
    SOCIAL_POST_CHARS,
    SUMMARY_WORDS,
    TOPIC_MAX_WORDS,
    TOPICS_ASKED,
    Output,
    answer_schema,
)
from domain.transcripts import Transcript, format_timestamp

# Part of every cached answer's key: bump it whenever what we ask the models changes (a task, the system prompt, a
# schema), so answers to the old questions are no longer served from the result cache.
PROMPT_VERSION = 1
_LINE_SECONDS = 30.0  # timed transcripts are shown to the model in lines of about this length

LANGUAGES = {
    "pl": "Polish",
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "uk": "Ukrainian",
    "cs": "Czech",
    "sk": "Slovak",
    "ru": "Russian",
    "sv": "Swedish",
    "ja": "Japanese",
    "zh": "Chinese",
    "ko": "Korean",
}


def language_name(code: str) -> str:
    return LANGUAGES.get(code, f"the language with ISO 639-1 code '{code}'")


def system_prompt(language: str) -> str:
    return (
        "You are Scribe, an assistant that turns video transcripts into study and publishing material. "
        "Base every statement on the transcript; do not invent facts. "
        f"Write in {language_name(language)} (language code: {language}), whatever the transcript's language. "
        "Answer only by filling in the requested JSON structure."
    )


def _range(pair: tuple[int, int]) -> str:
    return f"{pair[0]} to {pair[1]}"


_MIND_MAP_LABEL_LIMITS = ", ".join(
    f"{kind} labels at most {words} words" for kind, words in zip(LEVEL_TYPES, LABEL_MAX_WORDS, strict=True)
)

TASKS: dict[str, str] = {
    Output.SUMMARY: (
        f"Write a summary of the transcript in {_range(SUMMARY_WORDS)} words: its main message, the key points in "
        "the order they come, and the conclusion."
    ),
    Output.TOPICS: (
        f"List the {_range(TOPICS_ASKED)} key topics of the transcript, in the order they come. Each "
        f"title has at most {TOPIC_MAX_WORDS} words. `timestamp` is the second of the video where the topic is "
        "discussed (from the [mm:ss] markers), or null when the transcript has no markers."
    ),
    Output.MIND_MAP: (
        f"Build a mind map of the transcript as a flat list of {_range(MIND_MAP_NODES_ASKED)} nodes (at most "
        f"{MIND_MAP_NODES[1]}): exactly one root (parent null) naming the subject; {_range(MIND_MAP_BRANCHES_ASKED)} "
        f"branches whose parent is the root's id; under each branch {_range(MIND_MAP_LEAVES_ASKED)} leaves; "
        f"optionally subleaves under leaves (at most {len(LEVEL_TYPES)} levels). Ids are short strings unique in the "
        "list. Labels are short phrases, not sentences (a map node shows one line): "
        f"{_MIND_MAP_LABEL_LIMITS}; a longer label is cut. `timestamp` is the second of the video where the "
        "node's idea is discussed (from the [mm:ss] markers), or null."
    ),
    Output.SOCIAL_POST: (
        "Write one social-media post about the single most interesting topic of the transcript: "
        f"{_range(SOCIAL_POST_CHARS)} characters, engaging, with a hook in the first sentence and no hashtags in the "
        f"text. Put {_range(HASHTAGS_ASKED)} relevant hashtags, one word each, in `hashtags`."
    ),
    Output.CUSTOM: "Follow the user's instruction below, using only the transcript. Put the whole result in `output`.",
    "chunk_notes": (
        "This is one part of a long transcript. Write dense notes (150 to 300 words) of everything it says, in order, "
        "and list its 3 to 6 topics with the second where each is discussed (from the [mm:ss] markers), or null."
    ),
}


def render_transcript(transcript: Transcript) -> str:
    """Timed transcripts as `[mm:ss] text` lines of ~30 s (so the model can cite times); plain ones as they are."""
    segments = transcript.segments
    if not transcript.has_timestamps:
        return " ".join(s.text for s in segments)
    lines: list[str] = []
    line_start: float | None = None
    words: list[str] = []
    for segment in segments:
        if line_start is None:
            line_start = segment.start
        words.append(segment.text)
        if segment.start + segment.duration - line_start >= _LINE_SECONDS:
            lines.append(f"[{format_timestamp(line_start)}] {' '.join(words)}")
            line_start, words = None, []
    if words and line_start is not None:
        lines.append(f"[{format_timestamp(line_start)}] {' '.join(words)}")
    return "\n".join(lines)


def source_block(transcript: Transcript, body: str) -> str:
    """What every call of a job reads first, the same bytes each time (so a provider's prompt cache can serve it):
    the video's title and description, and the transcript as the model reads it (`body`: whole, or notes of it)."""
    parts = []
    if transcript.title:
        parts.append(f"Video title: {transcript.title}")
    if transcript.description:
        parts.append(f"Video description:\n{transcript.description[:2000]}")
    parts.append(f"<transcript>\n{body}\n</transcript>")
    return "\n\n".join(parts)


def task_prompt(kinds: Sequence[str], all_kinds: Sequence[str], custom_prompt: str | None = None) -> str:
    """What one call asks for: each of `kinds` in its own property of the answer; the job's other outputs (in the
    schema so that it stays the same on every call) are left null."""
    tasks = [f"`{kind}`: {TASKS[kind]}" for kind in kinds]
    if len(all_kinds) == 1:
        parts = [TASKS[kinds[0]]]
    else:
        parts = ["Fill in these properties of the answer, each on its own:", *tasks]
        skipped = [kind for kind in all_kinds if kind not in kinds]
        if skipped:
            parts.append(f"Set {', '.join(f'`{kind}`' for kind in skipped)} to null: they are not asked this time.")
    if Output.CUSTOM in kinds and custom_prompt:
        parts.append(f"The user's instruction:\n<instruction>\n{custom_prompt}\n</instruction>")
    return "\n\n".join(parts)


def correction(prompt: str, previous_answer: str, problems: Mapping[str, str]) -> str:
    """The re-ask: the same task for the rejected outputs, the rejected answer, and what was wrong with each."""
    reasons = "\n".join(f"- `{kind}`: {problem}" for kind, problem in problems.items())
    return (
        f"{prompt}\n\nYour previous answer was:\n{previous_answer[:4000]}\n\n"
        f"It was rejected:\n{reasons}\nAnswer again, meeting every rule."
    )


@functools.cache
def answer_envelope(kinds: tuple[str, ...]) -> Mapping[str, Any]:
    """The schema of one answer holding every output of a job, each under its own name (`answer_schema` of it).
    With several outputs each may be null, so a re-ask can leave the valid ones out under the same schema."""
    definitions: dict[str, Any] = {}
    properties: dict[str, Any] = {}
    for kind in kinds:
        schema = dict(answer_schema(kind))
        definitions.update(schema.pop("$defs", {}))
        properties[kind] = {"anyOf": [schema, {"type": "null"}]} if len(kinds) > 1 else schema
    envelope = {"type": "object", "properties": properties, "required": list(kinds), "$defs": definitions}
    return MappingProxyType(envelope)


def estimate_tokens(text: str) -> int:
    """A cheap upper estimate (providers report the real counts afterwards): a token per 3 UTF-8 bytes is about
    a third over for English, and about right for Polish diacritics and for Chinese or Japanese."""
    return len(text.encode("utf-8")) // 3 + 1
