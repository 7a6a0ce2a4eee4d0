"""Known-answer tests for every per-example quality flag, on hand-made examples: each flag with
cases it must raise (with its sub-kind and location) and look-alikes it must leave alone.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.quality.flags.empty import is_blank
from curation.quality.flags.length import TooShortSettings, read_ask
from curation.quality.flags.refusal import analyse_refusal
from curation.quality.flags.repetition import find_loop
from curation.quality.flags.truncation import truncation_of
from curation.quality.lexicon import count_items, count_sentences, parse_count
from curation.quality.view import code_fences, prose_of, words_of
from curation.records import Example, Message
from tests.unit.quality_helpers import chat, check, ex

LONG_ANSWER = " ".join(["The committee met on Tuesday and agreed on the new budget."] * 20)


# ------------------------------------------------------------------ helpers of the view


def test_code_fences_pair_like_commonmark() -> None:
    text = 'Intro\n```json\n{"a": 1}\n```\nmid\n~~~\nraw\n~~~\nend\n````\nopen'
    fences = code_fences(text)
    assert [(f.info, f.closed) for f in fences] == [("json", True), ("", True), ("", False)]
    assert fences[0].body(text) == '{"a": 1}'
    assert fences[1].body(text) == "raw"
    assert fences[2].body(text) == "open"


def test_fence_closer_needs_the_openers_character_and_length() -> None:
    text = "````\n```\nstill code\n````\nafter"
    fences = code_fences(text)
    assert len(fences) == 1 and fences[0].closed
    assert fences[0].body(text) == "```\nstill code"


def test_prose_blanks_code_but_keeps_offsets_and_lines() -> None:
    text = "Use `x = {y}` or\n```\n{{name}}\n```\nthen {z}."
    prose = prose_of(text)
    assert len(prose) == len(text)
    assert prose.count("\n") == text.count("\n")
    assert "{y}" not in prose and "{{name}}" not in prose
    assert prose.index("{z}") == text.index("{z}")


def test_number_words_and_item_counts() -> None:
    assert parse_count("five hundred") == 500
    assert parse_count("twenty-five") == 25
    assert parse_count("1,000") == 1000
    assert parse_count("a") is None
    assert count_items("Red, green and blue.") == 3
    assert count_items("1. Paris\n2. Rome\n3. Madrid") == 3
    assert count_sentences("1. Hi there.\n2. Yes.") == 2
    assert count_sentences("One. Two! three") == 3


# ------------------------------------------------------------------ empty


@pytest.mark.parametrize("answer", ["   \n\t", "\u200b", "...", " - ", "?!"])
def test_blank_answers_are_empty(answer: str) -> None:
    flag = check("empty_answer", ex("What is 2 + 2?", answer))
    assert flag is not None and flag.kind == "blank" and flag.score == 0.0
    assert flag.location is not None and flag.location.turn == 1


@pytest.mark.parametrize("answer", ["nan", "NULL", "N/A", "TODO"])
def test_null_tokens_are_empty(answer: str) -> None:
    flag = check("empty_answer", ex("Describe your product.", answer))
    assert flag is not None and flag.kind == "null_token"
    assert answer in flag.reason


def test_no_assistant_turn_is_empty() -> None:
    flag = check("empty_answer", ex("Hello?", None))
    assert flag is not None and flag.kind == "no_answer"


def test_the_empty_turn_of_a_conversation_is_located() -> None:
    example = chat(("user", "Hi"), ("assistant", "Hello!"), ("user", "And?"), ("assistant", " "))
    flag = check("empty_answer", example)
    assert flag is not None
    assert flag.location is not None and flag.location.turn == 3
    assert flag.data["turns"] == [3]


@pytest.mark.parametrize("answer", ["None", "0", "👍", "No."])
def test_short_real_answers_are_not_empty(answer: str) -> None:
    assert check("empty_answer", ex("Which of 4, 6, 8 are odd?", answer)) is None


def test_a_tool_call_is_an_answer_without_text() -> None:
    calls = '[{"type": "function", "function": {"name": "f", "arguments": "{}"}}]'
    assert check("empty_answer", ex("Call f.", "", tool_calls=calls)) is None


def test_is_blank_sees_letters_anywhere() -> None:
    assert is_blank("  \u200b\u2060 ... ")
    assert not is_blank(" ... a")
    assert not is_blank("€")


def test_empty_prompt() -> None:
    assert check("empty_prompt", ex("  ", "Sure.")) is not None
    assert check("empty_prompt", ex(None, "Sure.", system="Be kind.")).kind == "no_prompt"  # type: ignore[union-attr]
    assert check("empty_prompt", ex("Hi", "Hello")) is None


# ------------------------------------------------------------------ too short


def test_word_count_ask_answered_with_one_line() -> None:
    flag = check(
        "too_short",
        ex("Write a 500-word essay about climate change.", "Climate change is bad."),
    )
    assert flag is not None and flag.kind == "words"
    assert flag.data["asked"] == 500 and flag.data["got"] == 4
    assert flag.score == pytest.approx(4 / 500)


def test_list_ask_answered_with_few_items() -> None:
    flag = check("too_short", ex("List 10 European capitals.", "Paris, Rome and Madrid."))
    assert flag is not None and flag.kind == "items"
    assert (flag.data["asked"], flag.data["got"]) == (10, 3)


def test_spelled_out_counts_and_leading_politeness() -> None:
    flag = check("too_short", ex("Can you give me ten tips for sleeping better?", "Sleep more."))
    assert flag is not None and flag.data["asked"] == 10


def test_genre_ask_answered_with_a_one_liner() -> None:
    flag = check("too_short", ex("Write an essay about the French Revolution.", "It was in 1789."))
    assert flag is not None and flag.kind == "genre"
    assert flag.data["asked"] == 150


def test_paragraph_ask() -> None:
    flag = check(
        "too_short", ex("Write 4 paragraphs about bees.", "Bees make honey and pollinate.")
    )
    assert flag is not None and flag.kind == "paragraphs"


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        ("Write an essay about the French Revolution.", LONG_ANSWER),
        ("Summarize this in under 50 words: " + LONG_ANSWER, "A budget was agreed."),
        ("Describe it in no more than 3 sentences.", "It is round."),
        ("Write a short story about a cat.", "A cat sat. It slept. The end."),
        ("List 10 colours.", "\n".join(f"{i}. colour {i}" for i in range(1, 11))),
        ("Name three primary colours.", "Red, yellow and blue."),
        ("Given a list of 5 numbers, 3, 9, 4, 1, 7, find the largest.", "9"),
        ("What year did the war end? It lasted 6 years.", "1945."),
        ("Give two examples of mammals.", "Dogs."),
    ],
)
def test_asks_that_are_met_or_are_limits_or_are_not_asks(prompt: str, answer: str) -> None:
    assert check("too_short", ex(prompt, answer)) is None


def test_a_count_inside_a_quoted_passage_is_no_ask() -> None:
    prompt = "Classify the topic.\n\nMy blog: I can create a blog entry to warn myself."
    assert read_ask(prompt) is None


def test_settings_move_the_line() -> None:
    example = ex("List 10 European capitals.", "Paris, Rome, Madrid, Berlin and Vienna.")
    assert check("too_short", example) is None  # 5 of 10 is above 40 %
    strict = TooShortSettings(count_share=0.6)
    assert check("too_short", example, strict) is not None


# ------------------------------------------------------------------ truncated


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ("Here is the code:\n\n```python\nfor i in range(3):\n    print(i)\n", "unclosed_fence"),
        ("Here are 5 tips:\n1. Sleep.\n2. Eat.\n3. Walk.", "list_stops"),
        ("Steps:\n1. Open the box.\n2. Take the part out.\n3.", "list_stops"),
        ("We went to the store and bought apples and", "dangling_end"),
        ("You will need flour, sugar, eggs,", "dangling_end"),
        ("The main reasons are:", "dangling_end"),
        ("The result is computed as f(x, g(y, z", "unbalanced_brackets"),
        (
            "The plan has two parts. The first part is done. The second part requires that "
            "we carefully review all the remaining items before",
            "mid_sentence",  # "before" can end a sentence, so this is no dangling word
        ),
        (
            "Rome was founded long ago. It grew into an empire. Over the centuries its "
            "influence spread across the whole Mediterranean world and beyond into Britain",
            "mid_sentence",
        ),
    ],
)
def test_cut_answers(answer: str, kind: str) -> None:
    flag = check("truncated", ex("Explain.", answer))
    assert flag is not None and flag.kind == kind, flag


@pytest.mark.parametrize(
    "answer",
    [
        "Paris",
        "The answer is 42",
        "Best regards,\nJohn",
        "1. Java\n2. Python\n3. C++",
        "| Name | Age |\n|---|---|\n| Ann | 30 |",
        "Stay positive! #PuppyLove",
        '"Be yourself; everyone else is already taken." -Oscar Wilde',
        "var d = new Date();\nconsole.log(d);",
        "I am so sad today :(",
        "Read more at https://example.com/path/",
        "Roses are red\nViolets are blue\nSugar is sweet\nAnd so are you",
        "Options:\n- Blue\n- Green",
        "The correct option is a",
        "Science and technology<|endoftext|>",
        "1) first, 2) second and 3) third.",
        "```python\nprint('hi')\n```",
        "Here is the book you were looking for",
        "Honestly I do not know what we should do",
    ],
)
def test_complete_answers(answer: str) -> None:
    assert check("truncated", ex("Answer.", answer)) is None


def test_truncation_location_points_at_the_cut() -> None:
    text = "Intro line.\n\n```js\nconst a = 1;\n"
    cut = truncation_of(text)
    assert cut is not None and cut.offset == text.index("```")
    flag = check("truncated", ex("Code?", text))
    assert flag is not None and flag.location is not None
    assert (flag.location.line, flag.location.column) == (3, 1)


def test_the_worst_turn_of_a_conversation_wins() -> None:
    example = chat(
        ("user", "a"),
        ("assistant", "We need eggs, milk,"),
        ("user", "b"),
        ("assistant", "```\nopen code"),
    )
    flag = check("truncated", example)
    assert flag is not None and flag.kind == "unclosed_fence"
    assert flag.location is not None and flag.location.turn == 3


# ------------------------------------------------------------------ refusal and boilerplate


@pytest.mark.parametrize(
    "answer",
    [
        "I'm sorry, but I can't help with that.",
        "I’m sorry, but I don’t have the capability to book flights. My current function "
        "allows me to create invoices. If you need help with that, feel free to ask!",
        "As an AI language model, I cannot browse the internet.",
        "I must decline to answer this question.",
        "I apologize, but I cannot provide that information. Is there anything else?",
        "It is not appropriate for me to speculate about that.",
    ],
)
def test_refusals(answer: str) -> None:
    flag = check("refusal", ex("Please do it.", answer))
    assert flag is not None and flag.kind == "refusal"
    assert flag.data["content_words"] < 25
    # A refusal is not counted again as boilerplate.
    assert check("boilerplate", ex("Please do it.", answer)) is None


def test_a_refusal_that_still_answers_is_not_a_refusal() -> None:
    answer = (
        "I'm sorry, but I can't give medical advice. However, rest, fluids and sleep usually "
        "help a cold pass within a week or two; see a doctor if a fever lasts more than "
        "three days, if breathing gets hard, or if the symptoms keep getting worse."
    )
    assert check("refusal", ex("How do I cure a cold?", answer)) is None
    found = analyse_refusal(answer)
    assert found.refusal is not None and found.content_words >= 25


@pytest.mark.parametrize(
    "answer",
    [
        "I can't help but smile when I think of her.",
        "I'm sorry to hear that. Losing a match hurts, but every loss teaches something.",
        "The law says that you cannot park here after 6 pm.",
    ],
)
def test_look_alikes_are_not_refusals(answer: str) -> None:
    assert check("refusal", ex("Tell me.", answer)) is None


def test_boilerplate_that_answers() -> None:
    answer = (
        "As an AI language model, I don't have personal opinions, but many travellers "
        "consider Paris the most beautiful city in Europe for its architecture, its museums, "
        "its cafes and the river Seine running through its historic centre."
    )
    flag = check("boilerplate", ex("What is the most beautiful city?", answer))
    assert flag is not None and flag.kind == "ai_disclaimer"
    assert flag.data["phrase"] == "As an AI language model"
    assert flag.location is not None and flag.location.start == 0


def test_knowledge_cutoff_excuse() -> None:
    answer = (
        "As of my last update in 2021, Canada had about 38 million people, which makes it "
        "one of the least densely populated countries in the world given its enormous land "
        "area and its harsh northern climate."
    )
    flag = check("boilerplate", ex("How many people live in Canada?", answer))
    assert flag is not None and flag.kind == "knowledge_cutoff"


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        ("Who are you?", "I am an AI assistant called Vicuna, trained by LMSYS."),
        ("Tell me who you are.", "I'm a language model called Vicuna."),
        ("Are you davinci?", "No, I am a language model trained by researchers."),
        ("Explain what GPT-3 is.", "GPT-3 is a large language model developed by OpenAI."),
    ],
)
def test_answers_about_the_assistant_itself_are_not_boilerplate(prompt: str, answer: str) -> None:
    assert check("boilerplate", ex(prompt, answer)) is None


# ------------------------------------------------------------------ placeholders


@pytest.mark.parametrize(
    ("answer", "token"),
    [
        ("Hello! I am {{name}}, an AI assistant developed by {{author}}.", "{{name}}"),
        ("The webinar starts on <insert date> at noon.", "<insert date>"),
        ("Best regards,\n[Your Name]", "[Your Name]"),
        ("Dear [NAME], thank you.", "[NAME]"),
        ("Goodbye [Customer’s Name]!", "[Customer’s Name]"),
        ("Please visit [Charity Website] to donate.", "[Charity Website]"),
        ("Making game night fun since [year].", "[year]"),
        ("Your code is: {code}", "{code}"),
    ],
)
def test_placeholders_in_answers(answer: str, token: str) -> None:
    flag = check("placeholder", ex("Write it.", answer))
    assert flag is not None and flag.kind == "answer"
    assert flag.data["placeholders"][0] == token
    assert flag.location is not None
    start = flag.location.start
    assert start is not None and answer[start : start + len(token)] == token


def test_unfilled_template_in_a_prompt() -> None:
    flag = check("placeholder", ex("Translate the text: {input}", "Bonjour"))
    assert flag is not None and flag.kind == "prompt"
    assert flag.location is not None and flag.location.turn == 0


@pytest.mark.parametrize(
    "answer",
    [
        "Use an f-string:\n```python\nprint(f'Hello {name}')\n```",
        "In Jinja write `{{ user.name }}` to print it.",
        "The fraction is $\\frac{a}{b}$.",
        "See [the docs](https://example.com) and [1].",
        "- [x] done\n- [ ] todo",
        "const s = `Hi ${name}`;",
        "The set {1, 2, 3} has three elements.",
        "Wrap the prompt as [INST] text [/INST].",
        "Roman numeral [III] appears in the title.",
    ],
)
def test_code_math_links_and_tokens_are_not_placeholders(answer: str) -> None:
    assert check("placeholder", ex("Explain.", answer)) is None


def test_a_slot_the_prompt_asks_about_may_be_repeated() -> None:
    example = ex("Fill in the letter: 'Dear [NAME], ...'", "Dear [NAME], we are glad to meet you.")
    assert check("placeholder", example) is None


# ------------------------------------------------------------------ repetition


def test_toy_banana_loop() -> None:
    flag = check("repetition", ex("I'm hungry.", "Eat a banana!" * 50))
    assert flag is not None and flag.kind == "ngram_loop"
    assert flag.data["unit"] == "eat a banana" and flag.data["copies"] == 50
    assert flag.score == 0.0


def test_repeated_lines() -> None:
    answer = "\n".join(["This is the best product ever."] * 5 + ["Buy it today."])
    flag = check("repetition", ex("Advertise it.", answer))
    assert flag is not None and flag.kind == "repeated_lines"
    assert flag.data["repeated_lines"] == 4


def test_character_loop() -> None:
    answer = "The key is 0x" + "0" * 300 + " done."
    flag = check("repetition", ex("Give the key.", answer))
    assert flag is not None and flag.kind == "char_loop"
    assert flag.location is not None and flag.location.start == answer.index("0" * 10)


def test_a_loop_after_a_good_start_is_found_where_it_starts() -> None:
    answer = "Here is my answer about cats. " + "I love you. " * 8
    flag = check("repetition", ex("Talk.", answer))
    assert flag is not None and flag.kind == "ngram_loop"
    assert flag.location is not None and flag.location.start == answer.index("I love")


@pytest.mark.parametrize(
    "answer",
    [
        "* `==` checks if the value of the left operand equals the value of the right.\n"
        "* `<` checks if the value of the left operand is less than the value of the right.\n"
        "* `>` checks if the value of the left operand is more than the value of the right.",
        "Roses are red, my love.\nViolets are blue, my love.\nRoses are red, my love.",
        "```python\nx = 1\nx = 1\nx = 1\nx = 1\nx = 1\n```\nThat sets x.",
        "It is very, very, very good.",
        "-" * 120,
    ],
)
def test_structure_and_emphasis_are_not_loops(answer: str) -> None:
    assert check("repetition", ex("Explain.", answer)) is None


def test_find_loop_returns_the_period_and_span() -> None:
    words = words_of("so then " + "a b c d e " * 4 + "end")
    loop = find_loop(words)
    assert loop is not None
    assert (loop.start, loop.period, loop.copies) == (2, 5, 4)


# ------------------------------------------------------------------ language mismatch

SPANISH = (
    "La fotosíntesis es el proceso mediante el cual las plantas convierten la luz del sol, "
    "el agua y el dióxido de carbono en glucosa y oxígeno."
)
ENGLISH = (
    "Photosynthesis is the process by which plants turn sunlight, water and carbon dioxide "
    "into glucose and oxygen, which they release into the air."
)
FRENCH = (
    "Pouvez-vous m'expliquer comment les plantes fabriquent leur nourriture à partir de la "
    "lumière du soleil ?"
)


def test_english_prompt_spanish_answer() -> None:
    flag = check("language_mismatch", ex("Explain how photosynthesis works in plants.", SPANISH))
    assert flag is not None and flag.kind == "en->es"
    assert flag.data["prompt_language"] == "en" and flag.data["answer_language"] == "es"


def test_french_prompt_english_answer() -> None:
    flag = check("language_mismatch", ex(FRENCH, ENGLISH))
    assert flag is not None and flag.data["prompt_language"] == "fr"


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        ("Explain how photosynthesis works in plants.", ENGLISH),
        ("Translate into Spanish: " + ENGLISH, SPANISH),
        ("Answer in Spanish please: how do plants make food?", SPANISH),
        (FRENCH, "Les plantes utilisent la lumière du soleil pour fabriquer du sucre."),
        ("Explain how photosynthesis works in plants.", "Sí."),
        ("Write Python that prints hello.", "```python\nprint('hola mundo')\n```"),
    ],
)
def test_same_language_or_asked_for_or_too_short(prompt: str, answer: str) -> None:
    assert check("language_mismatch", ex(prompt, answer)) is None


# ------------------------------------------------------------------ copied prompt


def test_answer_is_the_prompt() -> None:
    prompt = "Write a haiku about the sea."
    flag = check("copied_prompt", ex(prompt, "write a haiku about the SEA"))
    assert flag is not None and flag.kind == "identical"


def test_answer_echoes_a_long_prompt_with_one_word_changed() -> None:
    prompt = (
        "Describe the water cycle and explain how evaporation, condensation, precipitation "
        "and collection move water between the oceans, the air and the land over time."
    )
    answer = prompt.replace("Describe", "Describing")
    flag = check("copied_prompt", ex(prompt, answer))
    assert flag is not None and flag.kind == "echo"
    assert flag.data["answer_from_prompt"] >= 0.9


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        (
            "What is the result of 4 raised to the power of 3?",
            "The result of 4 raised to the power of 3 is 64.",
        ),
        (
            "Fix the grammar.\n\nShe go to school every day and play with her friends after class.",
            "She goes to school every day and plays with her friends after class.",
        ),
        (
            "Rewrite in the passive voice: The cat chased the mouse.",
            "The mouse was chased by the cat.",
        ),
    ],
)
def test_restating_or_editing_is_not_copying(prompt: str, answer: str) -> None:
    assert check("copied_prompt", ex(prompt, answer)) is None


# ------------------------------------------------------------------ a flag's contract


def test_every_flag_score_is_in_range_and_reason_is_a_sentence() -> None:
    cases: list[tuple[str, Example]] = [
        ("empty_answer", ex("q", " ")),
        ("too_short", ex("List 10 fruits.", "Apple.")),
        ("truncated", ex("q", "We need eggs, and")),
        ("refusal", ex("q", "I'm sorry, but I can't help with that.")),
        ("placeholder", ex("q", "Hi {{name}}")),
        ("repetition", ex("q", "la la la " * 20)),
    ]
    for code, example in cases:
        flag = check(code, example)
        assert flag is not None, code
        assert 0.0 <= flag.score <= 1.0
        assert flag.reason.endswith(".") and flag.reason[0].isupper(), flag.reason


def test_message_index_is_the_conversation_index() -> None:
    example = Example(
        "x",
        [
            Message("system", "Be brief."),
            Message("user", "Hi"),
            Message("assistant", "{{name}} here"),
        ],
    )
    flag = check("placeholder", example)
    assert flag is not None and flag.location is not None and flag.location.turn == 2


def _brute_loop(words: list[str], max_period: int, min_copies: int) -> tuple[int, int, int] | None:
    """The reference: every period tried, the longest back-to-back run kept."""
    best: tuple[int, int, int] | None = None
    for p in range(1, max_period + 1):
        run = 0
        for i in range(len(words) - p):
            if words[i] == words[i + p]:
                run += 1
                if run + p >= min_copies * p and (best is None or run + p > best[2]):
                    best = (i - run + 1, p, run + p)
            else:
                run = 0
    return best


word_lists = st.builds(
    lambda pre, unit, copies, post: pre + unit * copies + post,
    st.lists(st.sampled_from("abcdef"), max_size=30),
    st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=12),
    st.integers(min_value=0, max_value=8),
    st.lists(st.sampled_from("abcdef"), max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(word_lists)
def test_find_loop_equals_the_brute_force_reference(words: list[str]) -> None:
    found = find_loop(words, max_period=12, min_copies=3, min_words=15)
    reference = _brute_loop(words, 12, 3)
    long_ref = reference is not None and reference[2] >= 15
    long_found = found is not None and found.length >= 15
    assert long_found == long_ref
    if found is not None and long_found:
        assert reference is not None and found.length == reference[2]
        span = range(found.start, found.start + found.length - found.period)
        assert all(words[i] == words[i + found.period] for i in span)
