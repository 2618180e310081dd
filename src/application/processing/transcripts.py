from __future__ import annotations

from application.access import ADMISSION_ERRORS, Admission, Caller
from application.processing.ports import TRANSCRIPT_SOURCE_ERRORS, TranscriptSource
from domain.api_tokens import Scope
from domain.errors import InvalidInput, check_all
from domain.transcripts import InvalidVideoUrl, Transcript, VideoRef
from domain.users import language_code


class FetchTranscript:
    """A YouTube video's captions with title and description, without processing them."""

    raises = (
        InvalidInput,
        *ADMISSION_ERRORS,
        InvalidVideoUrl,
        *TRANSCRIPT_SOURCE_ERRORS,
    )

    def __init__(self, source: TranscriptSource, admission: Admission) -> None:
        self._source = source
        self._admission = admission

    async def __call__(self, caller: Caller, url: str, language: str = "pl") -> Transcript:
        await self._admission(caller, Scope.READ)
        parsed = check_all({"language": lambda: language_code(language)})
        return await self._source.fetch(VideoRef.parse(url), parsed["language"])
