"""The fake LLM's default answers: real sentences in English or Polish, shaped like domain.outputs' `*Answer`
structs and within their limits (summary 100-200 words, topics of at most 7 words, a 3-level mind map, a social
post of 800-1200 characters). Timestamps come from `[mm:ss]` markers in the prompt, when it has any."""

from __future__ import annotations

import re
from typing import Any

KINDS = ("summary", "topics", "mind_map", "social_post", "custom", "chunk_notes")

_POLISH = re.compile(r"language code:\s*pl\b", re.IGNORECASE)
_MARKER = re.compile(r"\[(?:(\d{1,2}):)?(\d{1,2}):(\d{2})\]")

_SUMMARY = {
    "en": (
        "The video walks through its subject step by step, starting with the problem it sets out to solve and why "
        "that problem matters to the audience. The speaker first explains the basic ideas in plain language and then "
        "builds on them with concrete examples taken from everyday practice. Along the way, common mistakes are "
        "pointed out together with simple ways to avoid them. The middle part compares several approaches, weighs "
        "their costs and benefits, and shows which one fits which situation. Later, the speaker answers typical "
        "questions from viewers and clears up a few misunderstandings that often come up. The closing section sums "
        "up the main lessons, suggests practical next steps for anyone who wants to apply them, and recommends "
        "sources for further learning. Overall, the material is clear, well organised and useful for beginners as "
        "well as for people who already know the basics."
    ),
    "pl": (
        "Film krok po kroku omawia swój temat, zaczynając od problemu, który chce rozwiązać, oraz od wyjaśnienia, "
        "dlaczego ten problem jest ważny dla widzów. Prowadzący najpierw tłumaczy podstawowe pojęcia prostym "
        "językiem, a następnie rozwija je na konkretnych przykładach wziętych z codziennej praktyki. Po drodze "
        "wskazuje typowe błędy i podpowiada proste sposoby, jak ich uniknąć. Środkowa część porównuje kilka "
        "podejść, zestawia ich koszty i korzyści oraz pokazuje, które z nich sprawdza się w jakiej sytuacji. "
        "Później autor odpowiada na pytania, które widzowie zadają najczęściej, i wyjaśnia kilka nieporozumień "
        "narosłych wokół tematu. Zakończenie podsumowuje najważniejsze wnioski, proponuje praktyczne kolejne kroki "
        "dla osób, które chcą je zastosować w swojej pracy, i poleca sprawdzone źródła do dalszej nauki. Całość "
        "jest jasna, dobrze uporządkowana i przydatna zarówno dla początkujących, jak i dla osób, które znają już "
        "podstawy i szukają sposobu, by pójść dalej."
    ),
}

_TOPICS = {
    "en": (
        "The problem and why it matters",
        "Basic ideas explained simply",
        "Common mistakes and how to avoid them",
        "Comparing approaches: costs and benefits",
        "Answers to viewers' questions",
        "Practical next steps",
    ),
    "pl": (
        "Problem i jego znaczenie",
        "Podstawowe pojęcia w prostych słowach",
        "Typowe błędy i jak ich unikać",
        "Porównanie podejść: koszty i korzyści",
        "Odpowiedzi na pytania widzów",
        "Praktyczne kolejne kroki",
    ),
}

_MIND_MAP = {
    "en": (
        "Main idea of the video",
        {
            "Basics": ("Key terms", "Everyday examples"),
            "Approaches": ("Costs", "Benefits"),
            "Mistakes": ("Typical pitfalls", "How to avoid them"),
            "Next steps": ("Practice plan", "Further reading"),
        },
    ),
    "pl": (
        "Główna myśl filmu",
        {
            "Podstawy": ("Kluczowe pojęcia", "Przykłady z życia"),
            "Podejścia": ("Koszty", "Korzyści"),
            "Błędy": ("Typowe pułapki", "Jak ich unikać"),
            "Kolejne kroki": ("Plan ćwiczeń", "Dalsza lektura"),
        },
    ),
}

_SOCIAL_POST = {
    "en": (
        "Ever felt stuck because a topic seemed too big to start? This video breaks it down into steps anyone can "
        "follow. It begins with the real problem and why it is worth your time, then explains the core ideas in "
        "plain words, with examples from everyday work instead of abstract theory.\n\n"
        "What I liked most: an honest look at the mistakes almost everyone makes at the beginning, and simple "
        "habits that prevent them. The speaker also compares a few approaches side by side, so you can see which "
        "one fits your situation rather than copying someone else's setup.\n\n"
        "The last part answers the questions viewers ask most often and ends with a short, practical plan for the "
        "next week. If you want to learn something new without drowning in details, this is a great place to "
        "start. Save it for later, share it with a friend who is learning the same thing, and tell me in the "
        "comments which step you will try first!"
    ),
    "pl": (
        "Masz czasem wrażenie, że temat jest zbyt duży, żeby w ogóle zacząć? Ten film rozkłada go na kroki, które "
        "każdy może wykonać. Zaczyna od prawdziwego problemu i wyjaśnia, dlaczego warto poświęcić mu czas, a potem "
        "tłumaczy najważniejsze pojęcia prostymi słowami, na przykładach z codziennej pracy zamiast suchej teorii.\n\n"
        "Najbardziej spodobało mi się szczere omówienie błędów, które prawie każdy popełnia na początku, oraz "
        "proste nawyki, które pomagają ich uniknąć. Autor porównuje też kilka podejść obok siebie, dzięki czemu "
        "łatwo zobaczyć, które pasuje do Twojej sytuacji.\n\n"
        "Ostatnia część odpowiada na pytania, które widzowie zadają najczęściej, i kończy się krótkim, praktycznym "
        "planem na najbliższy tydzień. Jeśli chcesz nauczyć się czegoś nowego bez tonięcia w szczegółach, to "
        "świetny punkt startu. Zapisz go na później, podeślij znajomemu, który uczy się tego samego, i napisz w "
        "komentarzu, od którego kroku zaczniesz!"
    ),
}

_HASHTAGS = {"en": ["#learning", "#tips", "#productivity"], "pl": ["#nauka", "#wiedza", "#porady"]}

_CUSTOM = {
    "en": (
        "As requested: the video's central message is that steady, deliberate practice beats shortcuts. It "
        "recommends three habits to start with today: explain each new idea in your own words, test it on a small "
        "real example, and review your mistakes at the end of the week."
    ),
    "pl": (
        "Zgodnie z prośbą: główne przesłanie filmu jest takie, że regularna, świadoma praktyka wygrywa ze skrótami. "
        "Autor poleca trzy nawyki na dziś: wyjaśniaj każdą nową myśl własnymi słowami, sprawdzaj ją na małym "
        "prawdziwym przykładzie i pod koniec tygodnia przeglądaj swoje błędy."
    ),
}

_CHUNK_NOTES = {
    "en": (
        "This part introduces the problem, explains the basic terms with everyday examples and warns against the "
        "most common beginner mistakes.",
        ("Introducing the problem", "Basic terms with examples", "Beginner mistakes"),
    ),
    "pl": (
        "Ta część przedstawia problem, wyjaśnia podstawowe pojęcia na codziennych przykładach i ostrzega przed "
        "najczęstszymi błędami początkujących.",
        ("Przedstawienie problemu", "Podstawowe pojęcia na przykładach", "Błędy początkujących"),
    ),
}


def language_of(prompt: str) -> str:
    return "pl" if _POLISH.search(prompt) else "en"


def markers_in(prompt: str) -> list[float]:
    """Seconds of every `[mm:ss]` / `[h:mm:ss]` marker in the prompt, ascending and without repeats."""
    seconds = {int(h or 0) * 3600 + int(m) * 60 + int(s) for h, m, s in _MARKER.findall(prompt)}
    return [float(value) for value in sorted(seconds)]


def default_answer(kind: str, prompt: str) -> dict[str, Any]:
    language = language_of(prompt)
    markers = markers_in(prompt)

    def timestamp(index: int, count: int) -> float | None:
        return markers[index * len(markers) // count] if markers else None

    def topics(titles: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{"title": title, "timestamp": timestamp(i, len(titles))} for i, title in enumerate(titles)]

    if kind == "summary":
        return {"summary": _SUMMARY[language]}
    if kind == "topics":
        return {"topics": topics(_TOPICS[language])}
    if kind == "mind_map":
        root, branches = _MIND_MAP[language]
        nodes: list[dict[str, Any]] = [{"id": "root", "label": root, "parent": None, "timestamp": None}]
        for number, (branch, leaves) in enumerate(branches.items(), start=1):
            branch_id = f"branch-{number}"
            nodes.append(
                {"id": branch_id, "label": branch, "parent": "root", "timestamp": timestamp(number - 1, len(branches))}
            )
            nodes += [
                {"id": f"{branch_id}-leaf-{leaf_number}", "label": leaf, "parent": branch_id, "timestamp": None}
                for leaf_number, leaf in enumerate(leaves, start=1)
            ]
        return {"nodes": nodes}
    if kind == "social_post":
        return {"post": _SOCIAL_POST[language], "hashtags": _HASHTAGS[language]}
    if kind == "custom":
        return {"output": _CUSTOM[language]}
    if kind == "chunk_notes":
        notes, titles = _CHUNK_NOTES[language]
        return {"notes": notes, "topics": topics(titles)}
    raise ValueError(f"no default answer for {kind!r}; expected one of {', '.join(KINDS)}")
