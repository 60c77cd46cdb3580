from __future__ import annotations

import pytest

from paperbot.embedding import WordLlamaEmbedder
from paperbot.retrieval import Retriever
from paperbot.store import Store


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory, entries) -> Retriever:
    store = Store(tmp_path_factory.mktemp("store"), WordLlamaEmbedder())
    store.sync(entries)
    return Retriever(entries, store)


def test_determinantal_point_process_finds_cdpruner(retriever):
    hits = retriever.search("determinantal point process", k=3)
    assert hits[0].entry.id == "cdpruner"
    assert [hit.rank for hit in hits] == [1, 2, 3]
    assert hits[0].score > hits[1].score


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("What does HoliTom report about decoding?", "holitom"),
        ("vla-cache robots", "vla-cache"),
        ("Tell me about Balanced Token Pruning", "btp"),
        ("BTP compression rate", "btp"),
        ("Why Diffusion Models Don't Memorize", "why-diffusion-models-dont-memorize"),
        ("What is the Visual Context Compressor?", "visual-context-compressor"),
        ("Explain HoliTom's two pruning stages.", "holitom"),
    ],
)
def test_a_named_paper_ranks_first(retriever, query, expected):
    hits = retriever.search(query, k=5)
    assert hits[0].entry.id == expected
    assert hits[0].named


def test_acronyms_defined_in_the_catalog_expand_both_ways(retriever):
    spelled = retriever.query_terms("time-to-first-token")
    assert "ttft" in spelled
    short = retriever.query_terms("TTFT")
    assert {"time", "first", "token"} <= set(short)


def test_everyday_words_reach_the_fields_words(retriever):
    terms = set(retriever.query_terms("shrink the pictures of a lengthy clip"))
    assert {"compress", "imag", "long", "video"} <= terms
    # Only the everyday word is widened: a question in the field's words stays as it is.
    assert "pictur" not in set(retriever.query_terms("compress the images"))
    # How long users wait is latency: the streaming paper answers, not only the fastest hit.
    hits = retriever.search("Which systems cut how long users have to wait for a reply?", 5)
    assert {"vita-1-5", "streamforest"} <= {hit.entry.id for hit in hits if hit.relevant}


def test_time_to_first_token_question_finds_the_three_papers_that_report_it(retriever):
    top = {hit.entry.id for hit in retriever.search("Which papers reduce time-to-first-token?", 5)}
    assert {"elasticmm", "streamforest", "holitom"} <= top


@pytest.mark.parametrize(
    "query",
    [
        "What is the capital of France?",
        "how to bake sourdough bread",
        "Who won the 2018 World Cup?",
    ],
)
def test_off_topic_queries_have_no_relevant_hit(retriever, query):
    assert not any(hit.relevant for hit in retriever.search(query, 5))


@pytest.mark.parametrize(
    ("query", "missing"),
    [
        ("How does speculative decoding with a draft model speed up generation?",
         ("speculative decoding",)),
        ("Which papers quantize the weights of vision-language models?", ("quantization",)),
        ("Mixture-of-experts routing for multimodal LLMs", ("mixture of experts",)),
        # Bit widths say quantization; hardware and benchmarks the catalog never names.
        ("Can a vision-language model run with 4-bit weights on a small GPU?", ("quantization",)),
        ("token pruning latency on TPU v5e", ("tpu",)),
        ("zero-shot FID on MS-COCO for text-to-image models", ("ms-coco",)),
    ],
)  # fmt: skip
def test_a_subject_the_catalog_never_mentions_makes_no_hit_relevant(retriever, query, missing):
    hits = retriever.search(query, 5)
    assert hits and not any(hit.relevant for hit in hits)
    assert all(hit.missing == missing for hit in hits)


def test_a_subject_the_catalog_mentions_is_not_missing(retriever):
    # Sparse attention is in VSA's summary; a question about it is answered as usual.
    hits = retriever.search("Which papers use sparse attention for video diffusion?", 5)
    assert hits[0].missing == ()
    assert "vsa" in {hit.entry.id for hit in hits if hit.relevant}


@pytest.mark.parametrize(
    "query",
    [
        # The token-exit paper says "exit early": a subject said in other word order is there.
        "Which papers use early exit for visual tokens?",
        # REPA aligns representations; "alignment" alone is not the safety subject.
        "How does representation alignment speed up diffusion training?",
        # Routing requests is no mixture of experts.
        "Which serving system routes image and text requests to separate GPU pools?",
    ],
)
def test_a_subject_said_in_other_words_is_not_refused(retriever, query):
    hits = retriever.search(query, 5)
    assert hits[0].missing == () and hits[0].relevant


def test_a_named_paper_stays_relevant_beside_a_missing_subject(retriever):
    hits = retriever.search("Does CDPruner work with quantized models?", 5)
    assert hits[0].entry.id == "cdpruner" and hits[0].relevant
    assert hits[0].missing == ("quantization",)


def test_subject_phrases_do_not_match_across_punctuation(retriever):
    assert retriever.missing_subjects("Is there work on speculative decoding?")
    assert not retriever.missing_subjects("Is it speculative, decoding aside?")


@pytest.mark.parametrize(
    ("query", "uncombined"),
    [
        # Pruning papers prune image tokens; the audio papers prune nothing.
        ("Is there work on pruning audio tokens in speech models?", ("pruning", "audio")),
        # VLA-Cache caches, VSA is video diffusion: neither does both.
        ("Which technique caches features across denoising steps in video diffusion?",
         ("caching", "diffusion", "video")),
        # Only the memorization paper does theory, and it prunes nothing.
        ("Is there a provable upper bound on the error from pruning visual tokens in an MLLM?",
         ("theory", "pruning", "vision-language models")),
        # The memorization paper is about diffusion models; only LLaDA says autoregressive
        # (and is about language models alone).
        ("When does memorization start in autoregressive language models?",
         ("memorization", "autoregressive", "text-only language models")),
        # ElasticMM serves, StreamForest streams.
        ("Any serving system for streaming video LLMs?",
         ("serving", "streaming", "video and vision-language models")),
        # NiT is the one entry at any resolution, and it distills nothing.
        ("One-step consistency distillation that samples at arbitrary aspect ratios?",
         ("distillation", "any resolution")),
    ],
)  # fmt: skip
def test_aspects_no_one_entry_combines_make_no_hit_relevant(retriever, query, uncombined):
    hits = retriever.search(query, 5)
    assert hits and not any(hit.relevant for hit in hits)
    assert all(hit.uncombined == uncombined and hit.lacking for hit in hits)
    assert all(hit.missing == () for hit in hits)


def test_an_aspect_is_mentioned_only_when_one_sentence_says_it(retriever):
    # MoKA's entry says "consistent improvements" in one sentence and "models" in others: it
    # does not mention consistency models (a kind of diffusion), so it is no answer about
    # low-rank tuning of image generators.
    query = (
        "Any paper on cheap fine-tuning of image generators with small add-on low-rank matrices?"
    )
    hits = retriever.search(query, 5)
    moka = next(hit for hit in hits if hit.entry.id == "moka")
    assert moka.lacking == ("diffusion",) and not moka.relevant
    assert hits[0].uncombined == ("diffusion", "low-rank adaptation")


@pytest.mark.parametrize(
    ("query", "paper"),
    [
        ("Which paper gives a theoretical account of memorization in diffusion models?",
         "why-diffusion-models-dont-memorize"),
        ("Which papers handle streaming video?", "streamforest"),
        ("Which systems make serving multimodal LLMs cheaper?", "elasticmm"),
        # Regurgitating training images is memorization, not (only) a privacy subject.
        ("When do image generators start regurgitating their training images?",
         "why-diffusion-models-dont-memorize"),
        ("Which model generates images at any resolution?", "nit"),
    ],
)  # fmt: skip
def test_the_paper_with_a_kind_of_work_answers_a_question_that_asks_for_it(retriever, query, paper):
    hits = retriever.search(query, 5)
    assert hits[0].entry.id == paper and hits[0].relevant


def test_an_aspect_s_name_is_covered_by_its_other_words_but_not_the_reverse(retriever):
    # VITA-1.5 says speech, never audio.
    hits = retriever.search("Any work on audio?", 5)
    assert {"moka", "vita-1-5"} <= {hit.entry.id for hit in hits if hit.relevant}
    # A question about LLaVA is not covered by every vision-language model.
    hits = retriever.search("Which papers report results on LLaVA models?", 5)
    assert hits[0].entry.id in {"btp", "cdpruner", "holitom"}


def test_entries_with_the_aspects_asked_for_rank_above_those_without(retriever):
    hits = retriever.search("Which papers report results on LLaVA models?", 5)
    # The memorization paper matches "report results" best but never says LLaVA.
    assert all(hit.lacking == () for hit in hits)
    assert {"btp", "cdpruner", "holitom"} <= {hit.entry.id for hit in hits}


def test_an_entry_with_all_the_aspects_asked_for_stays_relevant(retriever):
    hits = retriever.search("Which papers prune visual tokens in video LLMs?", 5)
    assert hits[0].entry.id == "holitom"
    assert hits[0].relevant and hits[0].lacking == () and hits[0].uncombined == ()
    # CDPruner prunes, but only images: it lacks the video the question asks for.
    cdpruner = next(hit for hit in hits if hit.entry.id == "cdpruner")
    assert cdpruner.lacking == ("video",) and not cdpruner.relevant


@pytest.mark.parametrize(
    "query",
    [
        "Which papers use caching or pruning?",
        "Compare the caching and pruning approaches.",
        "Which papers handle audio, video or robotics?",
    ],
)
def test_aspects_listed_with_and_or_or_are_alternatives(retriever, query):
    hits = retriever.search(query, 5)
    assert hits[0].uncombined == ()
    relevant = {hit.entry.id for hit in hits if hit.relevant}
    assert len(relevant) >= 2
    assert all(len(hit.lacking) <= 1 for hit in hits)


@pytest.mark.parametrize(
    "query",
    [
        "Which papers handle long videos or long multimodal contexts?",
        "Papers about long context in multimodal models, such as long videos?",
    ],
)
def test_an_aspect_given_as_an_example_or_an_alternative_is_not_required(retriever, query):
    hits = retriever.search(query, 5)
    # Eagle 2.5 is about long multimodal context and never says video.
    eagle = next(hit for hit in hits if hit.entry.id == "eagle-2-5")
    assert eagle.relevant and eagle.lacking == ()


@pytest.mark.parametrize(
    "query",
    [
        "Which papers cut visual tokens in (not video-specific) multimodal LLMs?",
        "Which papers cut visual tokens: pruning, compression, early exit, anything like that?",
    ],
)
def test_an_aspect_ruled_out_or_closing_a_list_of_examples_is_not_required(retriever, query):
    hits = retriever.search(query, 5)
    assert hits[0].uncombined == () and hits[0].relevant
    assert sum(hit.relevant for hit in hits) >= 3


@pytest.mark.parametrize(
    ("query", "papers"),
    [
        ("There's a paper on serving multimodal LLMs with elastic parallelism, and another "
         "that keeps streaming video in a tree-shaped memory. How do their TTFT gains compare?",
         {"elasticmm", "streamforest"}),
        ("How do the robot-manipulation token caching paper and the early-exit visual token "
         "paper each avoid redundant work?",
         {"vla-cache", "dynamic-visual-token-exit"}),
        # One paper named, the other described: the aspects are the described one's.
        ("CDPruner vs the paper that keeps a tree-shaped memory of a live video stream?",
         {"cdpruner", "streamforest"}),
        ("How does VLA-Cache differ from the paper that trains a one-step image generator?",
         {"vla-cache", "consistency-models"}),
        ("How does DiCo relate to the analysis of when diffusion models start memorizing?",
         {"dico", "why-diffusion-models-dont-memorize"}),
        ("The theory paper on when memorization begins and the paper on one-step generators "
         "distilled from flow maps: what do they share?",
         {"why-diffusion-models-dont-memorize", "consistency-models"}),
    ],
)  # fmt: skip
def test_each_paper_of_a_comparison_brings_its_own_aspects(retriever, query, papers):
    hits = retriever.search(query, 5)
    assert hits[0].uncombined == ()
    assert papers <= {hit.entry.id for hit in hits if hit.relevant}
    # Nor is a paper it names said to lack what may be the other's.
    assert all(hit.lacking == () for hit in hits if hit.named)


def test_adaptive_computation_is_no_adapter(retriever):
    # "adaptive", "adapter" and "adaptation" share a stem; only the phrases say LoRA.
    hits = retriever.search("Which papers learn adaptive computation per token?", 5)
    assert all(hit.lacking == () for hit in hits)
    assert "dynamic-visual-token-exit" in {hit.entry.id for hit in hits if hit.relevant}


def test_an_aspect_in_a_reference_to_a_paper_is_not_required(retriever):
    query = "Compare the memorization paper with the representation entanglement paper."
    hits = retriever.search(query, 5)
    assert all(hit.lacking == () for hit in hits)
    assert {"why-diffusion-models-dont-memorize", "representation-entanglement-for-generation"} <= {
        hit.entry.id for hit in hits[:2]
    }


def test_an_aspect_in_a_list_that_ends_with_or_is_one_alternative(retriever):
    query = "I'm looking for every paper that prunes, merges or compresses visual tokens."
    hits = retriever.search(query, 10)
    # Glance2Gaze compresses visual tokens and never says it prunes them.
    glance = next(hit for hit in hits if hit.entry.id == "glance2gaze")
    assert glance.lacking == () and glance.relevant
    # Without the "or", pruning is asked for with the rest.
    hits = retriever.search("Which papers prune audio tokens, merges included?", 5)
    assert hits[0].uncombined


def test_the_best_match_lacking_an_aspect_outweighs_weaker_matches_that_have_it(retriever):
    # LLaDA unmasks its reply in parallel but is text-only; the vision-language papers have
    # the aspect but not the idea, so nothing answers the question.
    query = (
        "Is there a vision-language assistant that answers questions about images by "
        "iteratively unmasking its reply in parallel rather than writing it left to right?"
    )
    hits = retriever.search(query, 5)
    assert hits[0].entry.id == "llada" and hits[0].lacking == ("vision-language models",)
    assert all(hit.closest == "llada" and not hit.relevant for hit in hits)
    assert any(hit.lacking == () for hit in hits)


def test_a_best_match_that_has_the_aspects_is_not_outweighed(retriever):
    hits = retriever.search("Which papers make video generation faster?", 5)
    assert hits[0].entry.id == "vsa" and hits[0].relevant and hits[0].closest == ""


def test_a_named_paper_asked_for_an_aspect_it_lacks_is_the_closest_not_an_answer(retriever):
    hits = retriever.search("Does CDPruner prune audio tokens?", 5)
    assert hits[0].entry.id == "cdpruner" and hits[0].lacking == ("audio",)
    assert hits[0].uncombined == ("pruning", "audio")
    assert hits[0].closest == "cdpruner" and not any(hit.relevant for hit in hits)
    # Asked for what it has, it answers.
    hits = retriever.search("Does CDPruner prune visual tokens?", 5)
    assert hits[0].entry.id == "cdpruner" and hits[0].relevant and hits[0].closest == ""


def test_a_named_paper_lacking_an_aspect_that_a_better_match_has_is_one_of_two_papers(
    retriever,
):
    # No comparison word, but the memorization paper matches better than DiCo does: the
    # question is about both, not about DiCo's memorization.
    query = (
        "DiCo gets FID 2.05 with a conv backbone; what does the best-paper analysis say about "
        "when diffusion models start memorizing their training data?"
    )
    hits = retriever.search(query, 5)
    relevant = {hit.entry.id for hit in hits if hit.relevant}
    assert {"dico", "why-diffusion-models-dont-memorize"} <= relevant
    assert hits[0].closest == ""


def test_a_paper_s_name_asks_for_none_of_the_aspects_in_it(retriever):
    # "VLA-Cache" names a paper; the question does not ask the other paper for caching.
    hits = retriever.search("Do VLA-Cache and the dynamic visual token exit paper differ?", 5)
    exit_paper = next(hit for hit in hits if hit.entry.id == "dynamic-visual-token-exit")
    assert exit_paper.lacking == () and exit_paper.relevant
    # Said as a word, the same aspect is still asked for.
    hits = retriever.search("Does the dynamic visual token exit paper use a cache?", 5)
    exit_paper = next(hit for hit in hits if hit.entry.id == "dynamic-visual-token-exit")
    assert exit_paper.lacking == ("caching",)


@pytest.mark.parametrize(
    ("query", "papers"),
    [
        # "quantify" is not "quantize": FLOPs savings are reported, quantization is absent.
        ("Which papers quantify their savings in FLOPs?", {"cdpruner", "holitom"}),
        # Everyday report words ("gains", "savings") reach the field's words.
        ("Which papers report throughput gains?", {"elasticmm", "holitom"}),
    ],
)
def test_report_questions_in_everyday_words_are_answered(retriever, query, papers):
    hits = retriever.search(query, 5)
    assert hits[0].missing == ()
    assert papers <= {hit.entry.id for hit in hits if hit.relevant}


def test_a_paraphrase_in_everyday_words_finds_the_paper_and_answers(retriever):
    hits = retriever.search(
        "a model that first skims the whole picture and then stares at the parts that matter", 5
    )
    assert hits[0].entry.id == "glance2gaze"
    assert hits[0].relevant and hits[0].missing == ()


def test_empty_query_returns_nothing(retriever):
    assert retriever.search("   ", 5) == []


@pytest.mark.parametrize(
    ("query", "uncombined"),
    [
        # The token-exit paper lets visual tokens exit early; LLaDA, the one paper about
        # language models alone, exits nothing.
        ("early exit for text generation in LLMs", ("early exit", "text-only language models")),
        ("When do diffusion language models start memorizing their training text?",
         ("diffusion", "memorization", "text-only language models")),
    ],
)  # fmt: skip
def test_a_question_about_language_models_alone_is_not_answered_from_multimodal_papers(
    retriever, query, uncombined
):
    hits = retriever.search(query, 5)
    assert not any(hit.relevant for hit in hits)
    assert hits[0].uncombined == uncombined


@pytest.mark.parametrize(
    ("query", "paper"),
    [
        # About language models alone, and LLaDA is one.
        ("Which paper generates text with a diffusion language model?", "llada"),
        # A modality said beside the language model: a multimodal paper may answer.
        ("How do LLMs handle long videos efficiently?", "holitom"),
        # "input types" are modalities.
        ("Which paper says adapters copied from text LLMs ignore the differences between input "
         "types?", "moka"),
        # A named paper brings its own setting.
        ("Does CDPruner speed up LLM inference?", "cdpruner"),
        # Everyday words say a modality too.
        ("Which chatbot can both see and hear, and talk back in real time?", "vita-1-5"),
    ],
)  # fmt: skip
def test_a_language_model_question_with_a_modality_or_a_name_is_answered(retriever, query, paper):
    hits = retriever.search(query, 5)
    assert paper in {hit.entry.id for hit in hits if hit.relevant}
    assert all("text-only language models" not in hit.lacking for hit in hits if hit.relevant)


def test_a_named_paper_without_a_modality_does_not_make_a_language_model_question_multimodal(
    retriever,
):
    # μP's entry is about diffusion transformers and says no modality; the question asks it
    # about language models alone, which it never mentions.
    hits = retriever.search("Has μP been used to tune diffusion language models?", 5)
    assert hits[0].entry.id == "maximal-update-parametrization"
    assert hits[0].lacking == ("text-only language models",) and hits[0].closest
    assert not any(hit.relevant for hit in hits)


def test_a_modality_ruled_out_finds_no_paper_by_its_word(retriever):
    query = "I work with photos, not video. Which methods speed up a VLM answering about them?"
    hits = retriever.search(query, 5)
    assert hits[0].relevant
    assert hits[0].entry.id not in {"vsa", "holitom", "streamforest", "visual-token-compression"}


@pytest.mark.parametrize(
    "query",
    [
        # A list after a colon or a dash gives examples of the topic, not a combination.
        "I need everything on cutting the visual token budget of MLLMs: pruning, merging, "
        "compression modules, early exit of visual tokens.",
        "all diffusion papers in here — image, video, language, theory, distillation",
        # Two topics joined by "and" with a word or two of their own.
        "long-context VLMs and long-horizon video",
        # Left out is ruled out.
        "Training-side efficiency of diffusion transformers. Leave out PEFT.",
    ],
)
def test_aspects_listed_as_examples_or_left_out_are_not_a_combination(retriever, query):
    hits = retriever.search(query, 5)
    assert hits[0].uncombined == () and hits[0].closest == ""
    assert sum(hit.relevant for hit in hits) >= 2


def test_visual_tokens_are_a_vision_language_model_s(retriever):
    # The one-token-per-frame paper never says "vision-language model", but its visual
    # tokens are one's.
    hits = retriever.search("Which papers compress visual tokens in vision-language models?", 8)
    compression = next(hit for hit in hits if hit.entry.id == "visual-token-compression")
    assert compression.lacking == () and compression.relevant


@pytest.mark.parametrize(
    ("said", "way"),
    [
        # A metric prefix leaves the unit: GFLOPs are FLOPs.
        ("GFLOPs", {"flop"}),
        # The field writes some compounds solid and hyphenated alike.
        ("pretraining", {"pre", "train"}),
        ("finetuned", {"fine", "tun"}),
        # "-wise", "-aware", "-specific" only say how the head applies.
        ("layer-wise", {"layer"}),
        ("modality-aware", {"modal"}),
    ],
)
def test_a_word_written_another_way_is_met_by_the_usual_form(retriever, said, way):
    [concept] = retriever.query_concepts(said)
    assert frozenset(way) in concept


def test_training_and_savings_said_another_way_find_the_papers_that_say_them(retriever):
    flops = retriever.search("Which papers quantify their savings in FLOPs?", 5)
    assert "dico" in {hit.entry.id for hit in flops}  # it says GFLOPs
    layers = retriever.search("layer-wise visual token reduction inside the LLM decoder", 5)
    assert "btp" in {hit.entry.id for hit in layers}  # it prunes layer by layer
    # Time-to-first-token is a latency: a question about latency finds the papers reporting it.
    latency = retriever.search("Which papers report latency numbers?", 5)
    assert {"elasticmm", "holitom"} <= {hit.entry.id for hit in latency}


def test_contractions_leave_no_stray_letters(retriever):
    # A lone "m" or "s" would match the memorization paper's symbols (t_m, t_g).
    terms = set(retriever.query_terms("I'm after the model's and VLM's memory, don't care"))
    assert {"model", "vlm", "memory", "care"} <= terms
    assert not {"m", "s", "t", "don"} & terms
