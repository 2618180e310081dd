"""Processing, transcripts and the provider comparison. Thin: parse, call the use case, shape the answer."""

from __future__ import annotations

from typing import Annotated

from dishka.integrations.litestar import FromDishka, inject
from litestar import Response, get, post
from litestar.params import JSONBody, Parameter

from application.access import Caller
from application.auth.authenticate import Principal
from application.limits import LimitStatus
from application.processing.chain import Preference
from application.processing.overview import CompareProviders
from application.processing.process import ProcessCommand, ProcessResult, ProcessTranscript
from application.processing.transcripts import FetchTranscript
from interfaces.http.controllers.processing_schemas import (
    ProcessBody,
    PrototypeProcessBody,
    PrototypeProcessView,
    PrototypeTranscriptView,
    ProvidersView,
    ProviderView,
    TranscriptView,
)
from interfaces.http.envelope import Envelope, ok
from interfaces.http.identity import BEARER_AUTH, ClientAddress
from interfaces.http.openapi import JSON_BODY, PARAMETERS, SIGNED_IN, errors
from interfaces.http.rate_limits import limit_headers
from interfaces.views.processing import ProcessView

UrlParam = Annotated[str, Parameter(max_length=2048, description="A YouTube link", examples=[])]
LanguageParam = Annotated[str, Parameter(max_length=10, description="Preferred caption language (ISO 639-1)")]
CACHED_HEADER = "X-Scribe-Cached"
_CACHE_NOTE = (
    " Answers are cached: identical inputs (transcript, outputs, language, custom prompt, providers and models, "
    "prompt version) get the stored answer, saved to your history and counted as cached (no tokens, no cost)."
)
_ANONYMOUS_NOTE = (
    " Works without a token when the server allows anonymous processing (the default outside production), "
    "limited per address (`RateLimit-*` and the prototype's `X-RateLimit-*` headers say how far)."
)


@post(
    "/ai/process-transcript",
    status_code=200,
    summary="Process a transcript (the prototype's contract)",
    description="`purpose` picks the outputs: summary and topics always, plus `mindMap` (learning), `socialPost` "
    "(social_media) or `customOutput` (custom, with `customPrompt`). The `gemini-2.5-*` model names choose the "
    "configured Gemini model when a Gemini key is available, else the server's default providers. Any transcript "
    "with a word in it is processed, as the prototype did: a short source gets short outputs." + _CACHE_NOTE + " "
    f"`{CACHED_HEADER}: true` says the answer came from the cache." + _ANONYMOUS_NOTE,
    tags=["processing"],
    responses=errors(JSON_BODY, SIGNED_IN, ProcessTranscript),
)
@inject
async def process_transcript_prototype(
    data: JSONBody[PrototypeProcessBody],
    caller: FromDishka[Caller],
    process: FromDishka[ProcessTranscript],
    limits: FromDishka[LimitStatus],
) -> Response[Envelope[PrototypeProcessView]]:
    command = ProcessCommand(
        outputs=None,
        language=data.language,
        transcript=data.transcript,
        custom_prompt=data.custom_prompt,
        purpose=data.purpose,
        model=data.model,
        preference=Preference.HINT,
        min_words=1,
    )
    result = await process(caller, command)
    # The body keeps the prototype's fields exactly; whether the answer came from the cache is said in a header.
    headers = {**limit_headers(limits), **_content_language(result), CACHED_HEADER: str(result.cached).lower()}
    return Response(ok(PrototypeProcessView.of(result)), headers=headers)


@post(
    "/process",
    status_code=200,
    summary="Process a YouTube video or a transcript",
    description="Give `url` or `transcript` (text, SRT or WebVTT), and `outputs` (or a `purpose`, which picks "
    "them as the prototype did; default: summary and topics). Providers are tried in order: `provider`/`model` "
    "you ask for, then those you stored keys for, then the server's chain; a timeout, rate limit, server error or "
    "an answer that fails validation (after one re-ask) moves on to the next. The result is saved to your history "
    "and counted in your usage." + _CACHE_NOTE + " `cached` says which; `force_refresh` asks for a new answer.",
    tags=["processing"],
    security=BEARER_AUTH,
    responses=errors(JSON_BODY, SIGNED_IN, ProcessTranscript),
)
@inject
async def process(
    data: JSONBody[ProcessBody],
    principal: FromDishka[Principal],
    address: FromDishka[ClientAddress],
    process: FromDishka[ProcessTranscript],
    limits: FromDishka[LimitStatus],
) -> Response[Envelope[ProcessView]]:
    command = ProcessCommand(
        outputs=tuple(data.outputs) if data.outputs is not None else None,
        language=data.language or principal.user.preferred_language,
        transcript=data.transcript,
        url=data.url,
        custom_prompt=data.custom_prompt,
        purpose=data.purpose,
        provider=data.provider,
        model=data.model,
        force_refresh=data.force_refresh,
    )
    result = await process(Caller(principal, address), command)
    return Response(ok(ProcessView.of(result)), headers={**limit_headers(limits), **_content_language(result)})


def _content_language(result: ProcessResult) -> dict[str, str]:
    """The languages the outputs are actually written in (the offline provider cannot translate)."""
    return {"Content-Language": ", ".join(dict.fromkeys(result.languages.values()))}


@get(
    "/transcript",
    summary="A YouTube video's transcript, title and description (the prototype's contract)",
    description=_ANONYMOUS_NOTE.strip(),
    tags=["processing"],
    responses=errors(PARAMETERS, SIGNED_IN, FetchTranscript),
)
@inject
async def transcript_prototype(
    url: UrlParam,
    caller: FromDishka[Caller],
    fetch: FromDishka[FetchTranscript],
    limits: FromDishka[LimitStatus],
    language: LanguageParam = "pl",
) -> Response[Envelope[PrototypeTranscriptView]]:
    view = PrototypeTranscriptView.of(await fetch(caller, url, language))
    return Response(ok(view), headers=limit_headers(limits))


@get(
    "/transcripts",
    summary="A YouTube video's transcript with its timed segments",
    description="Captions in `language` when the video has them, else the best available (manual before "
    "auto-generated); `language` in the answer says which. 404: the video is private or removed; 422: it has no "
    "captions; 502: YouTube did not answer.",
    tags=["processing"],
    security=BEARER_AUTH,
    responses=errors(PARAMETERS, SIGNED_IN, FetchTranscript),
)
@inject
async def transcripts(
    url: UrlParam,
    principal: FromDishka[Principal],
    address: FromDishka[ClientAddress],
    fetch: FromDishka[FetchTranscript],
    limits: FromDishka[LimitStatus],
    language: LanguageParam = "pl",
) -> Response[Envelope[TranscriptView]]:
    view = TranscriptView.of(await fetch(Caller(principal, address), url, language))
    return Response(ok(view), headers=limit_headers(limits))


@get(
    "/providers",
    summary="AI providers side by side",
    description="What each provider offers (models, prices) and how its calls went over the stats window: "
    "latency p50/p95, error rate, fallbacks away from it, tokens and cost. Counted per API process.",
    tags=["processing"],
    security=BEARER_AUTH,
    responses=errors(SIGNED_IN, CompareProviders),
)
@inject
async def compare_providers(
    principal: FromDishka[Principal], compare: FromDishka[CompareProviders]
) -> Envelope[ProvidersView]:
    overview = await compare(principal)
    return ok(ProvidersView(compare.window_seconds, [ProviderView.of(item) for item in overview]))
