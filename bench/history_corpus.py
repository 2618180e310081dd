"""Made-up but plausible processing results in Polish and English, for the history benchmark's seed.

Each entry is about one subject (photosynthesis, saving money, ...): its summary, title, topics, social post and
custom output are sentences built from that subject's terms and a shared general vocabulary, so a subject's words
cluster in its entries and common words are everywhere, as in a real history. Sentences are made once into a pool
per language and subject, each with its folded form (`domain.search.fold`, which works character by character),
so an entry's `search_text` is assembled from folded pieces and equals what the application would store.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from domain.search import fold

SENTENCES_PER_SUBJECT = 400


def _words(text: str) -> tuple[str, ...]:
    """Phrases separated by ";" (an empty one, as in "; ;", is kept: it weighs the choice towards nothing)."""
    return tuple(part.strip() for part in text.split(";"))


def _subjects(text: str) -> dict[str, list[str]]:
    """`subject: term; term; ...`, one subject per unindented line; indented lines continue the one above."""
    subjects: dict[str, str] = {}
    name = ""
    for line in text.strip().splitlines():
        if not line.startswith(" "):
            name, line = line.split(":", 1)
            subjects[name] = ""
        subjects[name] += " " + line.strip()
    return {subject: [term.strip() for term in terms.split(";")] for subject, terms in subjects.items()}


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    subjects: dict[str, list[str]]
    speakers: tuple[str, ...]
    verbs: tuple[str, ...]
    openers: tuple[str, ...]
    links: tuple[str, ...]
    tails: tuple[str, ...]
    general: tuple[str, ...]
    title_forms: tuple[str, ...]
    topic_forms: tuple[str, ...]
    topics_heading: str
    hooks: tuple[str, ...]
    prompts: tuple[str, ...]


PL_SUBJECTS: dict[str, list[str]] = _subjects(
    """
fotosynteza: fotosyntezę; chlorofil; światło słoneczne; dwutlenek węgla; liście roślin; glukozę; fazę jasną; cykl
    Calvina; tlen atmosferyczny; chloroplasty; energię świetlną; wodę w glebie
oszczędzanie: oszczędzanie pieniędzy; budżet domowy; poduszkę finansową; procent składany; lokaty bankowe; wydatki
    stałe; inflację; fundusze indeksowe; kredyt hipoteczny; emeryturę; obligacje skarbowe
kawa: kawę; ziarna arabiki; młynek żarnowy; temperaturę wody; espresso; parzenie w dripie; kwasowość naparu;
    palarnię; crema; ekspres kolbowy; stopień mielenia; aeropress
historia: rozbiory Polski; konstytucję 3 maja; powstanie styczniowe; dwudziestolecie międzywojenne; źródła
    historyczne; kroniki średniowieczne; Solidarność; reformę rolną; sejm walny; szlachtę
programowanie: język Python; testy jednostkowe; bazę danych; zapytania SQL; kontrolę wersji; refaktoryzację; kod
    źródłowy; architekturę warstwową; wyjątki; pętle i funkcje; system kolejek; indeksy w bazie
astronomia: czarne dziury; Drogę Mleczną; teleskop; gwiazdy neutronowe; Układ Słoneczny; ciemną materię; fale
    grawitacyjne; księżyce Jowisza; mgławice; widmo światła; orbitę Marsa; galaktyki
zdrowie: sen; układ odpornościowy; aktywność fizyczną; dietę śródziemnomorską; ciśnienie krwi; witaminę D; stres;
    mikrobiom jelitowy; nawodnienie; regenerację; badania profilaktyczne
klimat: zmiany klimatu; emisję gazów cieplarnianych; odnawialne źródła energii; panele fotowoltaiczne; pompy ciepła;
    ocieplenie budynków; susze; poziom mórz; transformację energetyczną; węgiel
psychologia: nawyki; motywację; prokrastynację; uważność; inteligencję emocjonalną; pamięć roboczą; poczucie własnej
    wartości; relacje z bliskimi; terapię poznawczo-behawioralną; wypalenie
kuchnia: zakwas chlebowy; pierogi; fermentację; przyprawy; żeliwną patelnię; bulion; marynatę; pieczenie w niskiej
    temperaturze; świeże zioła; kiszonki; ciasto drożdżowe
ogród: kompost; pszczoły; zapylanie; warzywnik; przycinanie drzew; nawożenie; ślimaki; sadzonki pomidorów;
    podlewanie kropelkowe; łąkę kwietną; glebę próchniczą
sztuczna inteligencja: modele językowe; sieci neuronowe; uczenie maszynowe; dane treningowe; halucynacje modeli;
    przetwarzanie języka naturalnego; etykę algorytmów; transformery; rozpoznawanie obrazów
"""
)

EN_SUBJECTS: dict[str, list[str]] = _subjects(
    """
ocean currents: ocean currents; the Gulf Stream; thermohaline circulation; trade winds; salinity; upwelling zones;
    the Coriolis effect; surface temperature; deep water formation; El Nino
beekeeping: honey bees; the queen; brood frames; varroa mites; swarming season; pollen stores; the smoker; wax
    foundation; winter clusters; nectar flow; hive inspections
habits: habit loops; cues and rewards; willpower; morning routines; tiny habits; identity change; environment
    design; streaks; procrastination; deliberate practice; accountability
personal finance: index funds; compound interest; an emergency fund; credit card debt; retirement accounts; monthly
    budgets; inflation; asset allocation; dollar cost averaging; tax brackets
software: unit tests; database indexes; query plans; code review; continuous integration; type hints; async IO;
    message queues; caching layers; API design; technical debt; source control
space: black holes; the Milky Way; exoplanets; the James Webb telescope; neutron stars; dark matter; gravitational
    waves; the moons of Jupiter; rocket engines; orbital mechanics; solar flares
health: sleep quality; the immune system; strength training; blood pressure; vitamin D; stress; the gut microbiome;
    hydration; recovery; heart rate variability; intermittent fasting
history: the Roman Empire; the industrial revolution; primary sources; the printing press; the Cold War; medieval
    trade routes; the French Revolution; ancient Egypt; the Silk Road
cooking: sourdough starters; fermentation; cast iron pans; stock and broth; knife skills; spices; slow roasting;
    fresh herbs; emulsions; caramelisation; bread dough
climate: climate change; greenhouse gas emissions; renewable energy; solar panels; heat pumps; sea level rise;
    carbon capture; droughts; the energy transition; electric vehicles
machine learning: language models; neural networks; training data; model hallucinations; transformers; gradient
    descent; image recognition; overfitting; evaluation metrics; embeddings
music: chord progressions; the pentatonic scale; rhythm and tempo; music theory; ear training; songwriting; home
    recording; mixing vocals; guitar technique; improvisation
"""
)

PL = Language(
    code="pl",
    subjects=PL_SUBJECTS,
    speakers=_words("Autor; Prelegent; Wykładowczyni; Rozmówca; Prowadząca; Ekspert; Gość programu; Film"),
    verbs=_words(
        "wyjaśnia; omawia; pokazuje; analizuje; opisuje; porównuje; przedstawia; podkreśla; krytykuje; "
        "przybliża; streszcza; rozkłada na czynniki"
    ),
    openers=_words(
        "; ; ; Na początku; Następnie; W drugiej części; Ponadto; Na koniec; Co ważne,; W praktyce; Przede "
        "wszystkim; Dalej; W podsumowaniu"
    ),
    links=_words(
        "a także; oraz; i łączy to z tematem; zwracając uwagę na; na tle; w odniesieniu do; wskazując związek "
        "z; bez pomijania; w kontekście"
    ),
    tails=_words(
        "; ; na prostych przykładach; krok po kroku; z perspektywy praktyka; w codziennym życiu; na podstawie "
        "badań; odwołując się do źródła; z dużą ilością szczegółów; w przystępny sposób; z myślą o "
        "początkujących; przytaczając dane liczbowe; i odpowiada na pytania widzów"
    ),
    general=_words(
        "podstawowe pojęcia; najczęstsze błędy; praktyczne wskazówki; wyniki badań; główne źródło problemu; "
        "historię odkrycia; konsekwencje dla społeczeństwa; koszty i korzyści; typowe mity; dobre praktyki; "
        "różnice między podejściami; znaczenie dla zdrowia; przyszłe kierunki rozwoju; sposoby pomiaru; wpływ "
        "na środowisko; ćwiczenia do samodzielnego wykonania; rolę edukacji; zaskakujące wnioski; wiedzę "
        "ekspertów; źródło wiedzy; łańcuch przyczyn i skutków; ograniczenia metody"
    ),
    title_forms=_words(
        "Jak działa {t}?; {T} - wszystko, co musisz wiedzieć; {T} w 10 minut; Dlaczego {t} ma znaczenie; {T}: "
        "wykład; Poradnik: {t}; {T} i {u} - rozmowa z ekspertem; 5 faktów o temacie: {t}"
    ),
    topic_forms=_words("{T}; {T} w praktyce; Rola: {t}; {T} a {u}; Najczęstsze błędy: {t}; Podstawy: {t}"),
    hooks=_words(
        "Czy wiesz, jak naprawdę działa {t}?; To zmieni Twoje spojrzenie na {t}!; Masz 10 minut? Poznaj {t}.; "
        "Najlepsze wyjaśnienie, jakie widziałem: {t}."
    ),
    prompts=_words(
        "Wypisz najważniejsze wnioski w punktach; Przygotuj 5 pytań kontrolnych do tego materiału; Streść to "
        "dla ucznia szkoły podstawowej; Wypisz wszystkie wymienione źródła i liczby"
    ),
    topics_heading="Key topics:",
)

EN = Language(
    code="en",
    subjects=EN_SUBJECTS,
    speakers=_words("The speaker; The lecturer; The host; Our guest; The author; The narrator; The video"),
    verbs=_words(
        "explains; discusses; shows; analyses; describes; compares; introduces; highlights; questions; walks "
        "through; summarises; breaks down"
    ),
    openers=_words(
        "; ; ; First,; Then; In the second part; Moreover,; Finally,; Importantly,; In practice,; Above all,; "
        "Later,; To sum up,"
    ),
    links=_words(
        "as well as; and; and connects it to; with attention to; against the background of; in relation to; "
        "pointing out the link with; without forgetting; in the context of"
    ),
    tails=_words(
        "; ; with simple examples; step by step; from a practitioner's view; in everyday life; based on "
        "research; citing the original source; in great detail; in an accessible way; for beginners; quoting "
        "hard numbers; and answers questions from viewers"
    ),
    general=_words(
        "the basic concepts; the most common mistakes; practical tips; research findings; the root cause of "
        "the problem; the history of the discovery; the consequences for society; costs and benefits; popular "
        "myths; good practices; different approaches; the effects on health; future directions; ways of "
        "measuring it; the environmental impact; exercises to try at home; the role of education; surprising "
        "conclusions; expert knowledge; the source of the data"
    ),
    title_forms=_words(
        "How {t} work; {T}: everything you need to know; {T} in 10 minutes; Why {t} matter; {T} - a lecture; "
        "A guide to {t}; {T} and {u}: an interview; 5 facts about {t}"
    ),
    topic_forms=_words("{T}; {T} in practice; The role of {t}; {T} and {u}; Mistakes with {t}; Basics of {t}"),
    hooks=_words(
        "Do you really know how {t} work?; This will change how you see {t}!; Got 10 minutes? Meet {t}.; The "
        "best explanation of {t} I have seen."
    ),
    prompts=_words(
        "List the key takeaways as bullet points; Write 5 quiz questions about this video; Explain it to a "
        "ten-year-old; List every source and number mentioned"
    ),
    topics_heading="Key topics:",
)

LANGUAGES = (PL, EN)


@functools.cache
def folded(text: str) -> str:
    return fold(text)


@dataclass(frozen=True, slots=True)
class Piece:
    """A text and its folded form."""

    text: str
    folded: str

    @classmethod
    def of(cls, text: str) -> Piece:
        return cls(text, folded(text))

    @classmethod
    def join(cls, separator: str, pieces: list[Piece]) -> Piece:
        return cls(separator.join(p.text for p in pieces), folded(separator).join(p.folded for p in pieces))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


class SubjectPool:
    """Sentences about one subject in one language, made once; entries sample them."""

    def __init__(self, language: Language, subject: str, rng: random.Random) -> None:
        self.language, self.subject, self.terms = language, subject, language.subjects[subject]
        self.sentences = [Piece.of(self._sentence(rng)) for _ in range(SENTENCES_PER_SUBJECT)]

    def _sentence(self, rng: random.Random) -> str:
        lang = self.language
        first = rng.choice(self.terms)
        second = rng.choice(self.terms + list(lang.general))
        opener = rng.choice(lang.openers)
        speaker = rng.choice(lang.speakers)
        body = f"{speaker.lower() if opener else speaker} {rng.choice(lang.verbs)} {first} {rng.choice(lang.links)}"
        body += f" {second} {rng.choice(lang.tails)}".rstrip()
        if rng.random() < 0.5:
            body += f", {rng.choice(lang.links)} {rng.choice(lang.general)}"
        return f"{opener} {body}.".strip()

    def summary(self, rng: random.Random) -> Piece:
        """80-150 words."""
        pieces: list[Piece] = []
        words = 0
        target = rng.randint(80, 150)
        while words < target:
            piece = rng.choice(self.sentences)
            pieces.append(piece)
            words += piece.text.count(" ") + 1
        return Piece.join(" ", pieces)

    def title(self, rng: random.Random) -> Piece:
        term, other = rng.sample(self.terms, 2)
        form = rng.choice(self.language.title_forms)
        return Piece.of(form.format(t=term, T=_capital(term), u=other))

    def topics(self, rng: random.Random) -> tuple[Piece, list[dict[str, object]]]:
        """The topics text as stored, and key_topics with timestamps."""
        titles = []
        for term in rng.sample(self.terms, rng.randint(5, min(8, len(self.terms)))):
            other = rng.choice(self.terms)
            titles.append(rng.choice(self.language.topic_forms).format(t=term, T=_capital(term), u=other))
        text = Piece.join("\n", [Piece.of(self.language.topics_heading), *(Piece.of(f"- {t}") for t in titles)])
        seconds = sorted(rng.sample(range(0, 3600), len(titles)))
        return text, [{"title": t, "timestamp": float(s)} for t, s in zip(titles, seconds, strict=True)]

    def social_post(self, rng: random.Random) -> Piece:
        """800-1200 characters, then hashtags."""
        hook = rng.choice(self.language.hooks).format(t=rng.choice(self.terms))
        pieces, length = [Piece.of(hook)], len(hook)
        target = rng.randint(800, 1150)
        while length < target:
            piece = rng.choice(self.sentences)
            pieces.append(piece)
            length += len(piece.text) + 1
        tags = [Piece.of("#" + "".join(_capital(w) for w in t.split()[:2])) for t in rng.sample(self.terms, 4)]
        return Piece.join("\n\n", [Piece.join(" ", pieces), Piece.join(" ", tags)])

    def custom_output(self, rng: random.Random) -> Piece:
        lines = [Piece.of("- " + s.text) for s in rng.sample(self.sentences, rng.randint(4, 8))]
        return Piece.join("\n", lines)


def subject_pools(seed: int) -> dict[str, list[SubjectPool]]:
    """Language code -> its subjects' pools."""
    rng = random.Random(seed)
    return {lang.code: [SubjectPool(lang, subject, rng) for subject in lang.subjects] for lang in LANGUAGES}
