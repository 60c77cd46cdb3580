"""Plain-text helpers shared by retrieval, answering and citation checking."""

from __future__ import annotations

import re
import unicodedata

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves
    then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves paper papers
    catalog entry entries work works method methods approach approaches does do tell show list give
    find please much many any use uses using used based""".split()
)

WORD = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")

# "Long Form Words (LFW)": an acronym defined beside its expansion.
ACRONYM_DEFINITION = re.compile(r"((?:[\w-]+\s+){0,6}[\w-]+)\s+\(([A-Za-z][A-Za-z0-9]{1,9})\)")

# Abbreviations whose period does not end a sentence.
ABBREVIATION = re.compile(r"\b(?:et al|e\.g|i\.e|etc|vs|cf|fig|eq|approx|no)\.", re.IGNORECASE)
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9*_@-])")


# Contractions: the negation is a word ("don't" -> "do not"); the rest ("I'm", "model's",
# "they've") add nothing a search could use, and a lone "m" or "s" would match symbols.
IRREGULAR_NEGATIONS = {"can't": "can not", "won't": "will not", "shan't": "shall not"}
IRREGULAR_NEGATION = re.compile(r"\b(?:" + "|".join(IRREGULAR_NEGATIONS) + r")\b")
NEGATION_SUFFIX = re.compile(r"n't\b")
CLITIC = re.compile(r"(?<=[a-z0-9])'(?:s|m|re|ve|ll|d)\b")


def split_words(text: str) -> list[str]:
    """The words of ``text``, normalised, with contractions undone."""
    text = IRREGULAR_NEGATION.sub(lambda m: IRREGULAR_NEGATIONS[m[0]], normalise(text))
    return WORD.findall(CLITIC.sub("", NEGATION_SUFFIX.sub(" not", text)))


def normalise(text: str) -> str:
    """Lower-case text with typographic variants folded (× → x, curly quotes, dashes)."""
    # A long dash sets off a phrase as a spaced hyphen does; it joins no words.
    table = str.maketrans({"×": "x", "’": "'", "‘": "'", "–": "-", "—": " - ", "μ": "mu"})
    return text.translate(table).lower()


# Words that frame a research question rather than say what it is about ("which papers study
# …", "explain …"); retrieval ignores them like stopwords.
QUESTION_WORDS = frozenset(
    """study studies studied target targets targeting apply applies applied explain explains
    describe describes summarise summarize summary compare contrast report reports reported say
    says said mention mentions discuss discusses kind kinds way ways get gets got make makes
    help helps let lets allow allows good best better possible idea ideas thing things someone
    anyone exist exists existing""".split()
)

# Abbreviations of the field, each with its expansion: general knowledge that lets a query say
# either form. Acronyms a catalog defines itself ("Balanced Token Pruning (BTP)") are found by
# ``acronyms`` and need no entry here.
ABBREVIATIONS = {
    "dit": "diffusion transformer",
    "fid": "frechet inception distance",
    "flops": "floating point operations",
    "kv": "key-value",
    "llm": "large language model",
    "lora": "low-rank adaptation",
    "lvlm": "large vision-language model",
    "mllm": "multimodal large language model",
    "moe": "mixture of experts",
    "mup": "maximal update parametrization",
    "nerf": "neural radiance field",
    "peft": "parameter-efficient fine-tuning",
    "rag": "retrieval-augmented generation",
    "rl": "reinforcement learning",
    "rlhf": "reinforcement learning from human feedback",
    "sota": "state-of-the-art",
    "ttft": "time-to-first-token",
    "vit": "vision transformer",
    "vla": "vision-language-action",
    "vlm": "vision-language model",
}


# Everyday words for the field's ideas: general vocabulary that lets a question in plain words
# ("shrink the pictures") meet a catalog written in the field's ("compress the images"). Each
# line is plain words, then after the colon the field's expressions they may stand for; a
# multi-word expression must be said whole. Only the plain words are expanded.
PLAIN_WORDS = """picture pictures photo photos snapshot: image
    sight seeing sees eyes eye: visual, vision
    clip clips footage recording movie movies: video
    lengthy hour-long: long
    sound sounds hear hears hearing: audio
    talk talking speak speaking spoken voice loud: speech
    shrink shrunk squeeze condense thin: compress
    drop discard throw trim: prune
    faster quicker speed fast quickly: accelerate, speedup
    cheaper cheap costly expensive: efficient, cost
    settings knobs: hyperparameter
    reply: response
    word words: token
    patch patches piece pieces: token
    remember remembers: memory
    live: streaming, real-time
    reuse reused reusing recompute recomputing: cache
    filter filters sliding-window: convolution
    query-key: attention
    denoiser: diffusion
    chat chatbot chatbots assistant assistants: language model, mllm
    generator generators: generation
    host hosted hosting deploy deployed deployment backend: serving
    gpu gpus hardware: resource, parallelism
    retraining no-retraining: training-free
    drop-in plug-in add-on: plug-and-play
    adapter adapters: low-rank, parameter-efficient
    merge merges merging fuse fuses fusing combine combines: merge
    look-alike alike duplicate duplicates repeated repetitive repeat: redundant, similar
    varied variety non-overlapping overlap overlapping: diversity, redundant
    skim skims skimming glimpse: glance
    fixate fixates stare staring: gaze
    branching branches: tree
    happenings happening: event
    blank blanking masked masking: mask
    guess guessing guesses: predict
    size sizes shape shapes aspect: resolution
    robot robots: robotic
    arm arms grasping: manipulation
    instruction commands: language
    sample samples held-out: calibration
    partway midway: layer
    copy copies copying memorize memorizes regurgitate regurgitates regurgitating: memorization
    weights parameters: parameter
    noise noisy: denoising
    steps rounds: step
    scratch: training
    simpler: simple
    picks picking pick choose chooses choosing select: selection
    gain gains boost boosts: increase, speedup
    saving savings save saves: reduction, reduce
    wait waits waiting delay delays lag: latency
    latency latencies: time-to-first-token"""
SYNONYMS = {
    plain: tuple(expression.strip() for expression in field.split(","))
    for line in PLAIN_WORDS.splitlines()
    for words, field in [line.split(":")]
    for plain in words.split()
}


# Retrieval folds word families harder than ``stem`` (generator/generative/generation,
# embedding/embed), in two Porter-like steps; ``stem`` stays as it is because the citation
# checker's folding tables are keyed on its stems.
INFLECTIONS = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "es", "s", "ly")
DERIVATIONS = (
    "izations",
    "ization",
    "ational",
    "ations",
    "ation",
    "ators",
    "ator",
    "atives",
    "ative",
    "ating",
    "ates",
    "ated",
    "ate",
    "ssions",
    "ssion",
    "tions",
    "tion",
    "ities",
    "ity",
    "ency",
    "ancy",
    "ance",
    "ant",
    "ives",
    "ive",
    "ize",
    "able",
    "ism",
    "ics",
    "ic",
    "ors",
    "ers",
    "or",
    "er",
    "e",
)
DERIVATION_REPLACEMENT = {"ssions": "ss", "ssion": "ss", "ency": "ent"}
# A number with a unit attached ("4.2x", "95%") is also the bare number.
NUMBER_WITH_UNIT = re.compile(r"^(\d+(?:\.\d+)?)x$")
# A unit with a metric prefix ("GFLOPs", "TFLOPS") is also the bare unit.
PREFIXED_UNIT = re.compile(r"^[kmgtp](flops?)$")
# Last parts of a compound that only say how its head applies: "layer-wise" pruning is about
# layers, a "modality-aware" method about modalities ("-based" is a stopword already).
HEAD_SUFFIXES = frozenset("wise level style like specific aware oriented driven centric".split())
# Compounds the field writes both solid and hyphenated ("pretrained", "pre-trained").
SOLID_COMPOUND = re.compile(r"^(pre|post|fine)(train\w*|tun\w*)$")


def root(word: str) -> str:
    """The retrieval stem of one word: inflection, then derivation, removed."""
    if any(ch.isdigit() for ch in word) or len(word) <= 3:
        return word
    for suffix in INFLECTIONS:
        if not word.endswith(suffix) or len(word) - len(suffix) < 3:
            continue
        if suffix == "s" and word.endswith(("ss", "us", "is")):
            break
        word = word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
        # As Porter: "embedding" -> "embedd" -> "embed", "generating" -> "generat" -> "generate".
        if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
            word = word[:-1]
        elif word.endswith(("at", "bl", "iz")):
            word += "e"
        break
    for suffix in DERIVATIONS:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)] + DERIVATION_REPLACEMENT.get(suffix, "")
    return word


def analyze(text: str) -> list[str]:
    """Retrieval terms: content words by ``root``; a hyphenated word whole and in its parts."""
    terms: list[str] = []
    for word in split_words(text):
        if word in STOPWORDS or word in QUESTION_WORDS:
            continue
        word = SOLID_COMPOUND.sub(r"\1-\2", word)
        parts = [part for part in word.split("-") if part] if "-" in word else []
        kept = [
            part
            for i, part in enumerate(parts)
            if part not in STOPWORDS and not (i and part in HEAD_SUFFIXES)
        ]
        if parts:
            terms.append("-".join(root(part) for part in kept))
        for part in kept if parts else [word]:
            terms.append(root(part))
            unit = NUMBER_WITH_UNIT.match(part) or PREFIXED_UNIT.match(part)
            if unit:
                terms.append(root(unit.group(1)))
    return terms


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences without breaking at decimals or common abbreviations."""
    protected = ABBREVIATION.sub(lambda m: m.group(0).replace(".", "\x01"), text)
    sentences = (piece.replace("\x01", ".").strip() for piece in SENTENCE_END.split(protected))
    return [sentence for sentence in sentences if sentence]


def acronyms(text: str) -> dict[str, str]:
    """Acronyms defined in ``text`` mapped to their expansions, lower-cased.

    An acronym counts when its capitals are the initials of the words just before it:
    "time-to-first-token (TTFT)", "Determinantal Point Process (DPP)".
    """
    found: dict[str, str] = {}
    for match in ACRONYM_DEFINITION.finditer(text):
        acronym = match.group(2)
        capitals = [c.lower() for c in acronym if c.isupper() or c.isdigit()]
        words = re.split(r"[\s-]+", match.group(1))
        for start in range(len(words)):
            tail = words[start:]
            if len(tail) == len(capitals) and all(
                w[:1].lower() == c for w, c in zip(tail, capitals, strict=True)
            ):
                found[acronym.lower()] = normalise(" ".join(tail))
                break
    return found


def clean(text: str) -> str:
    """Text as typed, without what cannot be seen: full-width and compatibility forms folded
    (NFKC), format characters (zero-width, bidi overrides) and control characters removed."""
    folded = unicodedata.normalize("NFKC", text)
    kept = (
        " " if ch.isspace() else ch
        for ch in folded
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    return " ".join("".join(kept).split())
