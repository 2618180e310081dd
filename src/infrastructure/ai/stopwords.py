"""Word lists of the offline provider, for transcripts of speech. Lowercase.

STOPWORDS carry no topic: function words, spoken fillers and the generic nouns and verbs that talks are full of (they
go further than a search engine's lists, which is why no library's list replaces them). DEPENDENT_OPENERS start a
sentence that needs the one before it; FILLER marks channel talk (greetings, "subscribe", "see you next week")."""

from __future__ import annotations

_ENGLISH = """
a about above across after afterwards again against ago all almost alone along already also although always am
among amongst an and another any anybody anyhow anyone anything anyway anywhere are aren't around as at away back
be became because become becomes been before beforehand behind being below beside besides between beyond both but by
can can't cannot could couldn't did didn't do does doesn't doing don't done down during each either else elsewhere
enough especially etc even ever every everybody everyone everything everywhere except few for former formerly from
further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how
however i i'd i'll i'm i've ie if in indeed instead into is isn't it it's its itself just least less let let's
many may maybe me meanwhile might mine more moreover most mostly much must my myself namely neither never
nevertheless next no nobody none noone nor not nothing now nowhere of off often on once one ones only onto or other
others otherwise our ours ourselves out over own per perhaps please quite rather really same several shall she she'd
she'll she's should shouldn't since so some somebody somehow someone something sometime sometimes somewhere still
such than that that's the their theirs them themselves then thence there there's thereafter thereby therefore these
they they'd they'll they're they've this those though through throughout thus to together too toward towards under
unless until up upon us very via was wasn't we we'd we'll we're we've were weren't what what's whatever when whence
whenever where where's whereas wherever whether which while who who's whoever whole whom whose why will with within
without won't would wouldn't yet you you'd you'll you're you've your yours yourself yourselves
um uh uhm erm hmm oh ah yeah yes ok okay well like actually basically literally right sure gonna wanna gotta kinda
sorta thank thanks hello hi welcome bye
get gets got getting gotten go goes going gone went make makes made making say says said saying tell tells told
know knows knew known think thinks thought want wants wanted see sees saw seen seem seems seemed look looks looked
come comes came take takes took taken give gives gave given put puts use used using find found need needs try tried
mean means meant call called talk talking ask asked keep kept show shows showed shown start started happen happens
thing things stuff lot lots kind sort way ways part parts bit case cases point points fact example examples people
person guy guys time times day days today tomorrow yesterday week year years hour hours minute minutes second
seconds moment question
questions answer everyone everybody
good great big small new old little long short high low different same important able possible real sure simple
first second third last next one two three four five six seven eight nine ten hundred thousand million
probably certainly simply usually really also actually quite pretty slightly particularly especially generally
particular general whole various certain own main later earlier soon somewhat completely totally exactly
alright everything anything video videos channel episode today's bye percent step steps
eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy
eighty ninety
"""

_POLISH = """
a aby ach acz aczkolwiek aj albo ale ależ ani aż bardziej bardzo beze bez bo bowiem by byli bym byś był była było
były będzie będą będę będziemy będziecie cali cała cały całe chce chcę chcemy ci ciebie cię co cokolwiek coraz coś
czasami czasem czemu czy czyli często daleko dla dlaczego dlatego do dobrze dokąd dość dr dużo dwa dwie dwóch dwoma
gdy gdyby gdyż gdzie gdziekolwiek gdzieś go i ich ile im inna inne inny innych innym iż ja jak jakaś jakby jaki
jakichś jakie jakiś jakiż jakkolwiek jako jakoś jakiej jakim je jeden jedna jednak jednakże jedno jednym jednej
jego jej jemu jest jestem jesteś jesteśmy jeszcze jeśli jeżeli już ją każdy każda każde każdego każdym kiedy kilka
kilku kimś kto ktokolwiek ktoś która które którego której który których którym którzy ku lecz lub ma mają mam
mamy macie mało mi między mimo mną mnie mogą mogę może możemy możecie można mu musi muszę my mój moja moje moi
moim mojej na nad nam nami nas nasi nasz nasza nasze naszego naszej naszych naszym natomiast nawet nią nic nich
nie niech niego niej niemu nigdy nim nimi niż no o obok od około on ona one oni ono oraz oto owszem pan pana pani
panie państwa państwo po pod podczas pomimo ponad ponieważ powinien powinna powinni powinno poza prawie przecież
przed przede przedtem przez przy raz razie również sam sama same samo samej samym się skąd sobie sobą swoje swój
swoich swoją swojej swoim są ta tak taka taki takie takich takiej takim także tam te tego tej temu ten teraz też to
tobie tobą toteż trzeba tu tutaj twoi twoim twoja twoje twój ty tych tylko tym tzw tę u w wam wami was wasz wasza
wasze waszego we według wiele wielu więc więcej wszyscy wszystkich wszystkie wszystkim wszystko wtedy wy właśnie
z za zapewne zawsze ze znowu znów został została zostało zostały zostać żaden żadna żadne żadnych że żeby
yyy eee yhm hmm aha okej ok dobra dobrze halo cześć witam witajcie dzięki dziękuję dziękujemy proszę
prostu generalnie jakby faktycznie naprawdę chyba trochę zresztą mianowicie poprostu ogólnie niby wiadomo
dzisiaj dziś jutro wczoraj potem później wcześniej zaraz najpierw następnie teraz wtedy kiedyś zawsze nigdy
mówi mówię mówił mówiła powiem powiedzieć wiem wiecie wiesz widzicie widać zobaczycie zobaczymy możecie macie
chcecie chciałam chciałbym chciałabym myślę sądzę wydaje wydawać mówiąc robi robić zrobić robimy jest są był była
rzecz rzeczy sprawa sprawy sposób sposobu część części przykład przykładu punkt ludzie ludzi osoba osób osoby
rok roku lat lata dzień dni tydzień tygodniu czas czasu chwila chwili moment momencie pytanie pytania odpowiedź
godzina godziny godzin godzinę godzinie godzinami minuta minuty minut minutę sekund sekundy
duży duża duże mały mała małe nowy nowa nowe stary dobry dobra dobre ważny ważne ważna inaczej podobnie
pierwszy pierwsza pierwsze drugi druga drugie trzeci ostatni jeden dwa trzy cztery pięć sześć siedem osiem
dziewięć dziesięć sto tysiąc
zwykle zazwyczaj całkiem raczej wcale szczególnie zwłaszcza oczywiście jednocześnie niemal mniej tymczasem dokładnie
szybko wyraźnie stosunkowo rzeczywiście zupełnie dopiero akurat nadal wciąż ciągle przynajmniej najmniej
prawdopodobnie najczęściej sporo dosyć tyle ile dalej wiadomo pewnie pewno owszem jedynie głównie zbyt
zanim dopóki skoro choć chociaż ponieważ aby żeby byście byśmy bylibyśmy mniej więcej film filmie filmu odcinek
odcinku odcinka kanał kanale kanału procent krok kroku oba obie obu okazja okazji
jedenaście dwanaście trzynaście czternaście piętnaście szesnaście siedemnaście osiemnaście dziewiętnaście
dwadzieścia trzydzieści czterdzieści pięćdziesiąt sześćdziesiąt siedemdziesiąt osiemdziesiąt dziewięćdziesiąt
"""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(_ENGLISH.split()),
    "pl": frozenset(_POLISH.split()),
}

# Words of a request ("list the speaker's tips about ...") that say what to do, not what to look for.
_PROMPT_WORDS = """
    speaker speakers video talk lecture transcript text list explain summarise summarize describe write give tell
    show find extract main key points mention mentioned mentions about
    mówca mówcy prelegent film filmie filmu nagranie nagraniu tekst tekście wypisz wymień opisz wyjaśnij podsumuj
    napisz podaj pokaż znajdź główne najważniejsze punkty temat tematu mówi mówił wspomina
"""
PROMPT_WORDS = frozenset(_PROMPT_WORDS.split())

# Short words that may sit inside a keyphrase ("theory of mind", "chleb na zakwasie").
CONNECTORS: dict[str, frozenset[str]] = {
    "en": frozenset({"of", "and"}),
    "pl": frozenset({"na", "z", "ze", "w", "we", "do", "dla", "bez", "i"}),
}

# A sentence opening with one of these (or naming "he", "they"... early on) points at the sentence before it.
DEPENDENT_OPENERS: dict[str, frozenset[str]] = {
    "en": _words(
        "this these those that it its they them their he she him her his also but so and or then however "
        "therefore thus moreover furthermore instead otherwise yet still besides secondly thirdly fourthly "
        "finally lastly another such here there's that's it's they're he's she's first second third fourth fifth next "
        "meanwhile nevertheless nonetheless hence consequently likewise similarly indeed"
    ),
    "pl": _words(
        "to ten ta te tym tego tej tę ci one oni on ona ono jego jej ich im mu go ale więc bo też także również "
        "dlatego natomiast jednak zatem potem następnie wtedy tam tutaj stąd oraz a i czyli poza ponadto "
        "dodatkowo wreszcie drugi druga drugie trzeci trzecia trzecie czwarty czwarta czwarte piąty piąta piąte "
        "kolejny kolejna kolejne pierwszy pierwsza pierwsze tymczasem jednocześnie zresztą przy tym"
    ),
}
DEPENDENT_PHRASES = (
    "oznacza to", "to znaczy", "po pierwsze", "po drugie", "po trzecie", "po czwarte", "po piąte", "na koniec",
    "as i said", "like i said",
)  # fmt: skip
PRONOUNS = _words("he she him her his they them their on ona oni jego jej ich")

# Channel talk, not content: matched anywhere in a sentence, lowercase.
FILLER = (
    r"subscrib|subskryb|ring the bell|hit th(?:at|e) (?:like|bell)|give (?:it|this video|us) a (?:like|thumbs)|"
    r"leave a comment|welcome (?:back|to (?:the|my|our) (?:channel|video|show|course|lecture))|"
    r"thanks? (?:you )?(?:so much )?for (?:watching|listening|your attention|joining)|"
    r"see you (?:next|in the next|soon)|"
    r"sponsored by|patreon|my name is|hey (?:everyone|guys|there)|hi (?:everyone|guys|there)|"
    r"that'?s (?:it|all) for today|take a seat|phones away|"
    r"łapk|dzwonecz|jeśli (?:ten|to|ta) (?:odcinek|film|nagranie|wideo|materiał)|dajcie znać|w komentarz|"
    r"do zobaczenia|widzimy się|dziękuję za uwagę|dzięki za (?:uwagę|obejrzenie|oglądanie)|witam (?:na|was|państwa|"
    r"serdecznie)|witajcie|dzień dobry|to (?:wszystko|tyle) na dziś|i to (?:wszystko|tyle)|na moim kanale|"
    r"patronite|sponsor"
)

# English words after which the next one is a verb or a predicate ("to move", "they move", "is strong"), or a
# noun ("the move").
VERB_CUES = _words(
    "to i you we they he she can will would should must not also cannot could may might is am are was were be been "
    "me very too so"
)
NOUN_CUES = _words("the a an this these those my your our their his its of one two three many every each any some")
# Word endings that do not end an English noun phrase (adverbs, participles, adjectives).
ENGLISH_NOT_NOUN_ENDINGS = ("ly", "ed", "ous", "ful", "ive", "less", "able", "ible")
