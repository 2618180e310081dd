"""The offline `local` provider on real-looking transcripts: every answer meets the output contract, is the same
every time, and quotes the transcript in its own language."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from application.errors import ProviderFailure
from application.processing.ports import Generation, GenerationRequest
from application.processing.prompts import answer_envelope
from domain.outputs import AnswerContext, Checked, check_answer
from domain.transcripts import Segment, Transcript, parse_transcript
from infrastructure.ai.extractive import MAX_SENTENCE_WORDS, TextAnalysis
from infrastructure.ai.local import LocalProvider
from infrastructure.ai.stopwords import STOPWORDS
from infrastructure.bootstrap.catalog import build_catalog
from infrastructure.bootstrap.container import BackgroundLoops, make_container
from tests.conftest import make_settings

DATA = Path(__file__).resolve().parents[2] / "data" / "transcripts"
KINDS = ("summary", "topics", "mind_map", "social_post", "custom", "chunk_notes")
# Per file: a custom request and a word stem its answer must contain, because the transcript talks about it.
CUSTOM_PROMPTS = {
    "en_lecture_sleep_memory.vtt": ("What does the lecture say about naps?", "nap"),
    "en_podcast_heat_islands.txt": ("Why should cities plant trees?", "tree"),
    "en_very_short_reminder.txt": ("When is the meeting?", "meeting"),
    "en_talk_compound_interest.txt": ("What does the talk say about fees?", "fee"),
    "pl_talk_pszczoly_w_miescie.srt": ("Co prelegentka mówi o warrozie i jej leczeniu?", "warroz"),
    "pl_auto_captions_chleb_na_zakwasie.txt": ("Jak długo ciasto stoi w lodówce?", "lodówk"),
}
FILES = sorted(CUSTOM_PROMPTS)
TIMED = [name for name in FILES if not name.endswith(".txt")]
PLAIN = [name for name in FILES if name.endswith(".txt")]
POLISH = [name for name in FILES if name.startswith("pl_")]
_WORD = re.compile(r"\w+")


def transcript(name: str) -> Transcript:
    return parse_transcript((DATA / name).read_text(encoding="utf-8"))


def context(source: Transcript) -> AnswerContext:
    return AnswerContext(
        source_words=source.words,
        source_chars=len(source.text),
        duration=source.duration if source.has_timestamps else 0,
    )


def request(kind: str, source: Transcript, name: str = "", language: str = "en") -> GenerationRequest:
    prompt = CUSTOM_PROMPTS[name][0] if name in CUSTOM_PROMPTS else None
    kinds = (kind,)
    return GenerationRequest(kinds, "system", "source", "prompt", answer_envelope(kinds), source, language, prompt)


def answer_to(generation: Generation, kind: str) -> str:
    """The answer to `kind` in the provider's one answer holding every asked output."""
    return json.dumps(json.loads(generation.text)[kind], ensure_ascii=False)


async def answer(kind: str, name: str, language: str = "en") -> tuple[str, Checked]:
    source = transcript(name)
    generation = await LocalProvider().generate(request(kind, source, name, language), "local", None)
    assert (generation.tokens_in, generation.tokens_out) == (0, 0)
    return answer_to(generation, kind), check_answer(kind, answer_to(generation, kind), context(source))


def words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def test_the_shipped_transcripts_are_what_the_tests_claim() -> None:
    sizes = {name: transcript(name).words for name in FILES}
    assert sizes["en_lecture_sleep_memory.vtt"] > 1400
    assert sizes["pl_talk_pszczoly_w_miescie.srt"] > 1100
    assert 200 < sizes["en_podcast_heat_islands.txt"] < 300
    assert 200 < sizes["en_talk_compound_interest.txt"] < 300
    assert 700 < sizes["pl_auto_captions_chleb_na_zakwasie.txt"] < 900
    assert sizes["en_very_short_reminder.txt"] < 60
    assert all(transcript(name).has_timestamps for name in TIMED)
    captions = (DATA / "pl_auto_captions_chleb_na_zakwasie.txt").read_text(encoding="utf-8")
    assert captions == captions.lower()
    assert not re.search(r"[.,!?;:]", captions)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", FILES)
async def test_every_answer_meets_the_contract(name: str, kind: str) -> None:
    await answer(kind, name)  # check_answer raises InvalidAnswer otherwise


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("text", ["Hello", "ok ok", "This is a test transcript for AI processing.", "the " * 7])
async def test_a_transcript_of_a_few_words_still_gets_every_answer(text: str, kind: str) -> None:
    """The prototype's route processes any transcript with a word in it."""
    source = parse_transcript(text)
    generation = await LocalProvider().generate(request(kind, source), "local", None)
    check_answer(kind, answer_to(generation, kind), context(source))  # raises InvalidAnswer otherwise


async def test_the_map_of_a_one_sentence_text_names_nothing_twice() -> None:
    source = parse_transcript("This is a test transcript for AI processing.")
    generation = await LocalProvider().generate(request("mind_map", source), "local", None)
    tree = check_answer("mind_map", answer_to(generation, "mind_map"), context(source)).value
    labels = [node.label.casefold() for node in tree.nodes()]
    assert len(labels) == len(set(labels)) >= 2


@pytest.mark.parametrize("name", FILES)
async def test_summaries_land_in_the_word_range_unless_the_text_is_shorter(name: str) -> None:
    _, checked = await answer("summary", name)
    count = len(checked.value.split())
    assert 100 <= count <= 200 or count == transcript(name).words < 100


@pytest.mark.parametrize("name", FILES)
async def test_the_same_input_gives_the_same_bytes(name: str) -> None:
    first, _ = await answer("mind_map", name)
    again, _ = await answer("mind_map", name)
    # A different description is a different transcript to the cache, so this one is computed afresh.
    fresh = dataclasses.replace(transcript(name), description="computed again")
    recomputed = await LocalProvider().generate(request("mind_map", fresh, name), "local", None)
    assert first == again == answer_to(recomputed, "mind_map")


def test_answers_do_not_depend_on_the_hash_seed() -> None:
    script = (
        "import asyncio, json, sys\n"
        "from pathlib import Path\n"
        "from application.processing.ports import GenerationRequest\n"
        "from domain.transcripts import parse_transcript\n"
        "from infrastructure.ai.local import LocalProvider\n"
        "source = parse_transcript(Path(sys.argv[1]).read_text(encoding='utf-8'))\n"
        "async def main():\n"
        "    kinds = ['summary', 'topics', 'mind_map', 'social_post', 'custom']\n"
        "    made = [await LocalProvider().generate(GenerationRequest((k,), '', '', '', {}, source, 'en',"
        " custom_prompt='naps and memory'), 'local', None) for k in kinds]\n"
        "    print(json.dumps([m.text for m in made]))\n"
        "asyncio.run(main())\n"
    )
    src = str(Path(__file__).resolve().parents[3] / "src")
    outputs = {
        subprocess.run(  # noqa: S603 - this interpreter running our own script
            [sys.executable, "-c", script, str(DATA / "en_lecture_sleep_memory.vtt")],
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": src},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
    assert len(json.loads(outputs.pop())) == 5


@pytest.mark.parametrize("name", POLISH)
async def test_polish_input_gets_polish_output_even_when_english_is_asked(name: str) -> None:
    source_words = words(transcript(name).text)
    for kind in ("summary", "social_post", "custom"):
        _, checked = await answer(kind, name, language="en")
        text = checked.value.split("\n\n#")[0]  # the post's hashtags are joined phrases
        if kind == "custom":
            text = text.split("\n\n", 1)[1]  # under the notice that says what the offline provider does
        assert words(re.sub(r"\[\d\d:\d\d\]", "", text)) <= source_words
        assert re.search("[ąćęłńóśźż]", text)
    _, topics = await answer("topics", name, language="en")
    assert all(words(t.title) <= source_words for t in topics.topics)


@pytest.mark.parametrize("name", FILES)
async def test_summaries_quote_the_transcript(name: str) -> None:
    _, checked = await answer("summary", name)
    assert words(checked.value) <= words(transcript(name).text)


@pytest.mark.parametrize("name", TIMED)
async def test_topics_and_map_nodes_carry_times_within_the_video(name: str) -> None:
    duration = transcript(name).duration
    _, topics = await answer("topics", name)
    assert all(t.timestamp is not None and 0 <= t.timestamp <= duration for t in topics.topics)
    assert len({t.timestamp for t in topics.topics}) > 1
    _, mind_map = await answer("mind_map", name)
    stamps = [n.timestamp for n in mind_map.value.nodes() if n.level > 0]
    assert all(s is not None and 0 <= s <= duration for s in stamps)


@pytest.mark.parametrize("name", PLAIN)
async def test_plain_text_has_no_times(name: str) -> None:
    _, topics = await answer("topics", name)
    assert all(t.timestamp is None for t in topics.topics)
    _, mind_map = await answer("mind_map", name)
    assert all(n.timestamp is None for n in mind_map.value.nodes())


@pytest.mark.parametrize("name", FILES)
async def test_custom_output_is_about_the_request(name: str) -> None:
    _, checked = await answer("custom", name)
    assert CUSTOM_PROMPTS[name][1] in checked.value.lower()
    count = len(checked.value.split())
    assert 100 <= count <= 250 or count >= transcript(name).words


async def test_timed_custom_passages_open_with_their_time_under_a_plain_notice() -> None:
    _, checked = await answer("custom", "en_lecture_sleep_memory.vtt")
    notice, *passages = checked.value.split("\n\n")
    assert notice.startswith("The offline provider (no AI model) does not follow instructions")
    assert passages
    assert all(re.match(r"\[\d\d:\d\d\] ", passage) for passage in passages)


async def test_the_notice_is_written_in_the_language_asked_for() -> None:
    _, checked = await answer("custom", "en_lecture_sleep_memory.vtt", language="pl")
    assert checked.value.startswith("Dostawca offline (bez modelu AI) nie wykonuje poleceń")


async def test_the_lecture_topics_name_its_subject() -> None:
    _, checked = await answer("topics", "en_lecture_sleep_memory.vtt")
    titles = [t.title for t in checked.topics]
    assert "Memory Consolidation" in titles
    assert "REM Sleep" in titles  # an acronym keeps its capitals
    assert all(len(t.split()) <= 7 for t in titles)


async def test_the_social_post_carries_hashtags_from_its_keyphrases() -> None:
    _, checked = await answer("social_post", "pl_talk_pszczoly_w_miescie.srt")
    post, tags = checked.value.rsplit("\n\n", 1)
    assert 800 <= len(post) <= 1200
    assert "#PszczołaMiodna" in tags.split()  # a whole phrase, CamelCase


async def test_the_mind_map_root_is_a_main_topic_not_a_long_title() -> None:
    source = dataclasses.replace(transcript("en_lecture_sleep_memory.vtt"), title="How sleep shapes memory | Lecture 7")
    generation = await LocalProvider().generate(request("mind_map", source), "local", None)
    root = check_answer("mind_map", answer_to(generation, "mind_map"), context(source)).value.root.label
    _, topics = await answer("topics", "en_lecture_sleep_memory.vtt")
    assert root in [t.title for t in topics.topics]
    assert len(root.split()) <= 4


async def test_a_short_talk_gets_branches_with_leaves_and_topics_that_name_things() -> None:
    """A user's trial: this talk got a map of three leafless branches, one of them "So", and the topics "Matters",
    "Paying" and "Seventy-two"."""
    _, mind_map = await answer("mind_map", "en_talk_compound_interest.txt")
    tree = mind_map.value
    assert tree.root.label == "Compound Interest"
    branches = tree.root.children
    assert len(branches) >= 3
    assert all(2 <= len(b.children) <= 4 for b in branches), [b.label for b in branches]
    labels = [node.label for node in tree.nodes()]
    assert len({label.casefold() for label in labels}) == len(labels)
    assert not [label for label in labels if label.lower() in STOPWORDS["en"]]  # "So", "Now", "Today"
    _, topics = await answer("topics", "en_talk_compound_interest.txt")
    titles = [t.title for t in topics.topics]
    assert {"Compound Interest", "Debt", "Fees"} <= set(titles)
    verbs_and_numbers = {"matters", "matter", "paying", "pay", "seventy-two", "twenty-five", "thirty-five", "earn"}
    assert not [title for title in titles if title.lower() in verbs_and_numbers]


async def test_a_summary_never_opens_with_a_caption_phrase_that_continues_the_one_before() -> None:
    """Auto captions of a Polish lesson: the phrase after the greeting opens with "że" ("that ...")."""
    phrases = [
        "cześć witajcie na kolejnej lekcji biologii dzisiaj przypomnę",
        "że fotosynteza zachodzi głównie w liściach roślin zielonych",
        "w liściach są chloroplasty które zawierają zielony barwnik chlorofil",
        "który pochłania światło czerwone i niebieskie",
        "roślina pobiera dwutlenek węgla z powietrza przez aparaty szparkowe",
        "a wodę pobiera korzeniami z gleby",
        "produktami fotosyntezy są glukoza i tlen",
        "tlen trafia do atmosfery a glukoza jest źródłem energii rośliny",
        "faza jasna zachodzi w błonach tylakoidów i potrzebuje światła",
        "faza ciemna czyli cykl calvina zachodzi w stromie chloroplastu",
        "enzym rubisko wiąże dwutlenek węgla z cukrem pięciowęglowym",
        "intensywność fotosyntezy zależy od światła temperatury i dostępności wody",
        "gdy brakuje wody roślina zamyka aparaty szparkowe",
        "dlatego susza tak bardzo obniża plony zbóż",
        "dzięki fotosyntezie w atmosferze jest tlen którym oddychamy",
        "rośliny są podstawą łańcuchów pokarmowych na ziemi",
        "lasy i oceany pochłaniają dwutlenek węgla i łagodzą zmiany klimatu",
    ]
    source = Transcript.from_segments([Segment(5.0 * n, 4.0, text) for n, text in enumerate(phrases)], "vtt")
    openers = {s.tokens[0].lower: s.dependent for s in TextAnalysis(source).sentences}
    assert openers["że"]
    assert openers["który"]
    generation = await LocalProvider().generate(request("summary", source, language="pl"), "local", None)
    summary = check_answer("summary", answer_to(generation, "summary"), context(source)).value
    assert summary.split()[0].lower() not in {"że", "który", "a", "i", "czyli", "dlatego"}, summary


async def test_a_two_hour_transcript_meets_the_contract() -> None:
    parts = [transcript(name) for name in TIMED] * 4
    segments, offset = [], 0.0
    for part in parts:
        segments += [Segment(s.start + offset, s.duration, s.text) for s in part.segments]
        offset += part.duration
    source = Transcript.from_segments(segments, "vtt")
    assert source.words > 10_000
    provider = LocalProvider()
    for kind in KINDS:
        generation = await provider.generate(request(kind, source), "local", None)
        check_answer(kind, answer_to(generation, kind), context(source))


def test_unpunctuated_captions_are_cut_at_caption_boundaries_without_invented_full_stops() -> None:
    spoken = (DATA / "pl_auto_captions_chleb_na_zakwasie.txt").read_text(encoding="utf-8").split()
    cues = [" ".join(spoken[i : i + 7]) for i in range(0, len(spoken), 7)]
    source = Transcript.from_segments([Segment(3.0 * n, 3.0, cue) for n, cue in enumerate(cues)], "vtt")
    sentences = TextAnalysis(source).sentences
    assert len(sentences) > 20
    boundaries = set(range(0, len(spoken), 7))
    assert all(s.tokens[0].word in boundaries for s in sentences)
    assert all(s.words <= MAX_SENTENCE_WORDS for s in sentences)
    assert all(s.start == 3.0 * (s.tokens[0].word // 7) for s in sentences)
    assert not any(s.ends or re.search(r"[.!?]", s.text) for s in sentences)


async def test_it_answers_several_outputs_in_one_answer_each_under_its_name() -> None:
    """As the LLM providers fill in one schema holding every output of a request, so does it."""
    source = transcript("en_lecture_sleep_memory.vtt")
    kinds = ("summary", "topics", "mind_map")
    request = GenerationRequest(kinds, "system", "source", "prompt", answer_envelope(kinds), source, "en")
    generation = await LocalProvider().generate(request, "local", None)
    assert set(json.loads(generation.text)) == set(kinds)
    for kind in kinds:
        check_answer(kind, answer_to(generation, kind), context(source))  # raises InvalidAnswer otherwise


async def test_kinds_it_cannot_answer_are_refused_as_bad_requests() -> None:
    sentiment = GenerationRequest(("sentiment",), "", "", "", {}, transcript("en_very_short_reminder.txt"), "en")
    with pytest.raises(ProviderFailure) as refused:
        await LocalProvider().generate(sentiment, "local", None)
    assert refused.value.kind == "bad_request"


async def test_users_cannot_bring_a_key_for_it_and_it_needs_none() -> None:
    """It has no key to check, so the server's catalogue must never take a user's key for it (saving one is
    refused before any check), and it serves without a server key."""
    catalog, closers = build_catalog(make_settings())
    for close in closers:
        await close()
    local = catalog.profiles["local"]
    assert isinstance(catalog.adapters["local"], LocalProvider)
    assert not local.accepts_user_keys
    assert local.has_server_key


@pytest.mark.parametrize(("keys", "warmed"), [({}, True), ({"anthropic_api_key": "sk-server"}, False)])
async def test_the_server_loads_the_offline_providers_data_at_start_only_when_it_serves(
    keys: dict[str, str], warmed: bool, tmp_path: Path
) -> None:
    """Without a key `local` answers everyone: its language data (seconds to load) is loaded before the first
    user asks; with a paid provider first, it is not loaded unless needed."""
    container = make_container(make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", **keys))
    try:
        loops = (await container.get(BackgroundLoops)).loops
    finally:
        await container.close()
    assert any(getattr(loop, "__name__", "") == "warm_up" for loop in loops) is warmed
    if warmed:
        await LocalProvider().warm_up()  # and it runs


def test_its_language_data_costs_a_server_process_tens_of_megabytes_not_hundreds() -> None:
    """Every server process of the embedded default loads it at start: simplemma's dictionaries as Python dicts
    took ~390 MB for Polish and English (a fresh process at ~500 MB after the warm-up); read from the compressed
    data they take ~50 MB, and py3langid's model ~75 MB."""
    script = (
        "import asyncio, re\n"
        "from infrastructure.ai.local import LocalProvider\n"
        "asyncio.run(LocalProvider().warm_up())\n"
        "status = open('/proc/self/status').read()\n"
        "print(int(re.search(r'VmRSS:\\s+(\\d+) kB', status)[1]) // 1024)\n"
    )
    src = str(Path(__file__).resolve().parents[3] / "src")
    megabytes = subprocess.run(  # noqa: S603 - this interpreter running our own script
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": src},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert int(megabytes) < 250
