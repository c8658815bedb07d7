"""The quality gate: giveaways, ambiguous questions and leaks, on the shipped starter
deck, on hand-made decks, and in the commands (check, import, review, list)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import T0, json_of, run, store_from_toml

from cards.authoring import read_text
from cards.gate import giveaway, name_words, normal
from cards.generate import Records, generate_checked
from cards.records import KINDS
from cards.starter import NAME, starter_text
from study.session import ReviewSession
from study.settings import Settings


def records_of(text: str, name: str = "deck.toml") -> Records:
    items, problems = read_text(textwrap.dedent(text), name)
    assert problems == []
    out: Records = {kind: {} for kind in KINDS}
    for loc in items:
        out[loc.kind][loc.record["id"]] = loc.record
    return out


# -- the checks themselves ------------------------------------------------------------------

def test_giveaway_ignores_case_accents_and_punctuation() -> None:
    assert giveaway("Which body was the Politburo of the CPSU Central Committee part of?",
                    "Central Committee of the CPSU")  # every name word stands in it
    assert giveaway("Who was Ántonio GUTERRES's successor?", "António Guterres")
    assert giveaway("What did the KGB replace?", "Committee for State Security", ["KGB"])
    assert giveaway("Which body replaced the Cheka?", "State Political Directorate") is None
    assert giveaway("Who succeeded Hu Jintao?", "Hu Yaobang") is None  # one word is not all
    assert giveaway("Who succeeded Lenin?", "Joseph Stalin") is None
    assert normal("  Génèral-Secretary (acting) ") == "general secretary acting"
    assert name_words("Council of the People's Commissars") == {
        "council", "people", "s", "commissars"}


# -- the shipped starter deck (whatever cards/data/ holds) ------------------------------

@pytest.fixture(scope="module")
def starter_result() -> object:
    return generate_checked(records_of(starter_text(), f"<starter>/{NAME}"))


def test_the_starter_deck_has_no_giveaway_and_no_ambiguous_card(starter_result: object) -> None:
    result = starter_result
    cards = result.cards  # type: ignore[attr-defined]
    assert len(cards) > 100
    giveaways = [(c.key, c.question, c.answer) for c in cards
                 if not c.options and giveaway(c.question, c.answer, c.shorts)]
    assert giveaways == []
    answers: dict[str, dict[str, str]] = {}
    for c in cards:
        answers.setdefault(normal(c.question), {})[normal(c.answer)] = c.key
    ambiguous = {q: keys for q, keys in answers.items() if len(keys) > 1}
    assert ambiguous == {}
    # the hand-written facts pass too: nothing to warn about
    assert [(p.card.key, p.check, p.message)
            for p in result.warnings] == []  # type: ignore[attr-defined]


def test_the_starter_deck_uses_every_family(starter_result: object) -> None:
    kinds = {c.kind for c in starter_result.cards}  # type: ignore[attr-defined]
    assert {"tenure", "succession", "organ", "event", "fact", "person", "as-of",
            "chronology"} <= kinds


# -- generated cards: dropped, not reported ----------------------------------------------

TWINS = """\
    [[person]]
    id = "a"
    name = "Anna Ames"
    [[person]]
    id = "b"
    name = "Boris Bell"
    [[office]]
    id = "o1"
    title = "Chair"
    [[office]]
    id = "o2"
    title = "Chair"
    [[tenure]]
    id = "ta"
    person = "a"
    office = "o1"
    start = "1900"
    end = "1905"
    [[tenure]]
    id = "tb"
    person = "b"
    office = "o2"
    start = "1900"
    end = "1905"
    [[organ]]
    id = "cc"
    name = "Central Committee of the Party"
    part_of = "party"
    [[organ]]
    id = "party"
    name = "Party"
    """


def test_generated_ambiguous_and_giveaway_cards_are_dropped() -> None:
    result = generate_checked(records_of(TWINS))
    keys = {c.key for c in result.cards}
    # "Who was Chair from 1900 to 1905?" has two answers: neither card is made
    assert "tenure:ta:holder" not in keys and "tenure:tb:holder" not in keys
    assert "tenure:ta:dates" in keys
    dropped = {(p.card.key, p.check) for p in result.dropped}
    assert {("tenure:ta:holder", "ambiguous"), ("tenure:tb:holder", "ambiguous")} <= dropped
    # "Which body is the Central Committee of the Party part of?" -> "Party": a giveaway
    assert "organ:cc:parent" not in keys
    assert result.warnings == []


# -- hand-written cards: reported with FILE:LINE ----------------------------------------

FACTS = """\
    [[person]]
    id = "stalin"
    name = "Joseph Stalin"
    [[office]]
    id = "gs"
    title = "General Secretary"
    [[tenure]]
    id = "stalin-gs"
    person = "stalin"
    office = "gs"
    start = "1922"
    end = "1952"

    [[fact]]
    id = "one"
    question = "Who led the party?"
    answer = "Joseph Stalin"

    [[fact]]
    id = "two"
    question = "Who led the party?"
    answer = "Lenin"

    [[fact]]
    id = "gift"
    question = "What is the Great Purge called?"
    answer = "Great purge"

    [[fact]]
    id = "leaky"
    question = "Which post did Joseph Stalin make his own?"
    answer = "The general secretaryship"
    """


def test_import_warns_about_hand_written_cards_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "facts.toml"
    path.write_text(textwrap.dedent(FACTS))
    result = run("import", str(path))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert f"{path}:16: fact 'one': question: warning: card fact:one:forward: ambiguous: " \
           "the same question has another answer: 'Lenin'" in warnings
    assert f"{path}:26: fact 'gift': question: warning: card fact:gift:forward: giveaway: " \
           "the answer 'Great purge' stands in the question" in warnings
    # a leak is linked, not reported
    assert not [w for w in warnings if "'leaky'" in w]
    # kept: a warning, not an error
    keys = {c["key"] for c in json_of("list", "cards", "--json")}
    assert {"fact:one:forward", "fact:two:forward", "fact:gift:forward"} <= keys
    check = run("check")
    assert check.exit_code == 0
    assert "warning: fact 'gift': card fact:gift:forward: giveaway" in check.stdout
    assert "warning: fact 'two': card fact:two:forward: ambiguous" in check.stdout


def test_a_dry_run_warns_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "facts.toml"
    path.write_text(textwrap.dedent(FACTS))
    result = run("import", "--dry-run", str(path))
    assert result.exit_code == 0
    assert "giveaway" in result.stderr
    assert "fact:gift:forward" not in {c["key"] for c in json_of("list", "cards", "--json")}


# -- leaks: linked, shown, buried together across records --------------------------------

def test_a_leak_links_cards_across_records_and_the_review_buries_them(tmp_path: Path) -> None:
    store = store_from_toml(tmp_path / "s.db", textwrap.dedent(FACTS))
    cards = {c.key: c for c in generate_checked(store.all_records()).cards}
    leaky = cards["fact:leaky:forward"]
    # its question names Joseph Stalin, whom the holder card answers
    assert "link:tenure:stalin-gs:holder" in leaky.siblings
    assert "link:tenure:stalin-gs:holder" in cards["tenure:stalin-gs:holder"].siblings
    sess = ReviewSession(store, Settings(fuzz=False, new_per_day=100), ZoneInfo("UTC"))
    while (shown := sess.next(T0)) is not None and shown.key != "fact:leaky:forward":
        sess.bury(shown, T0)  # out of the way, not answered
    assert shown is not None
    store.db.execute("UPDATE cards SET buried_until = NULL")  # only the answer buries
    answered = sess.answer(shown, 3, T0, 1000)
    assert "tenure:stalin-gs:holder" in answered.buried
    store.close()


def test_list_cards_json_shows_the_links(tmp_path: Path) -> None:
    path = tmp_path / "facts.toml"
    path.write_text(textwrap.dedent(FACTS))
    assert run("import", str(path)).exit_code == 0
    cards = {c["key"]: c for c in json_of("list", "cards", "--json")}
    assert "tenure:stalin-gs:holder" in cards["fact:leaky:forward"]["links"]
    assert "fact:leaky:forward" in cards["tenure:stalin-gs:holder"]["links"]
    assert cards["fact:two:forward"]["links"] == []
    for card in cards.values():
        assert {"key", "state", "reps", "links"} <= card.keys()


# -- hierarchical tags ------------------------------------------------------------------

TAGGED = """\
    [[fact]]
    id = "party"
    question = "Party question?"
    answer = "Party answer"
    tags = ["ussr::party"]
    [[fact]]
    id = "state"
    question = "State question?"
    answer = "State answer"
    tags = ["ussr::state"]
    [[fact]]
    id = "top"
    question = "Top question?"
    answer = "Top answer"
    tags = ["ussr"]
    [[fact]]
    id = "other"
    question = "Other question?"
    answer = "Other answer"
    tags = ["ussrx", "china::party"]
    """


def test_a_tag_matches_the_tags_below_it(tmp_path: Path) -> None:
    path = tmp_path / "tags.toml"
    path.write_text(textwrap.dedent(TAGGED))
    assert run("--db", str(tmp_path / "t.db"), "init", "--empty").exit_code == 0
    db = ["--db", str(tmp_path / "t.db")]
    assert run(*db, "import", str(path)).exit_code == 0

    def keys(*args: str) -> list[str]:
        return [c["key"] for c in json_of(*db, "list", "cards", "--json", *args)]

    assert keys("--tag", "ussr") == ["fact:party:forward", "fact:state:forward",
                                     "fact:top:forward"]
    assert keys("--tag", "ussr::party") == ["fact:party:forward"]
    assert keys("--tag", "party") == []  # a tag matches from its top
    assert [f["id"] for f in json_of(*db, "list", "facts", "--json", "--tag", "ussr")] == [
        "party", "state", "top"]
    assert json_of(*db, "due", "--json", "--tag", "ussr")["new"] == 3
    assert json_of(*db, "due", "--json", "--tag", "china")["new"] == 1
    dumped = run(*db, "dump", "-", "--tag", "ussr").stdout
    assert 'id = "state"' in dumped and 'id = "other"' not in dumped
    out = tmp_path / "ussr.csv"
    assert run(*db, "export", "csv", str(out), "--tag", "ussr").exit_code == 0
    assert "Other question" not in out.read_text() and "State question" in out.read_text()


def test_add_warns_about_a_hand_written_giveaway() -> None:
    result = run("add", "fact", "--id", "gift", "--question", "What is the Great Purge called?",
                 "--answer", "Great purge")
    assert result.exit_code == 0, result.output
    assert ("study add: fact 'gift': question: warning: card fact:gift:forward: giveaway: "
            "the answer 'Great purge' stands in the question") in result.stderr
    assert "fact:gift:forward" in {c["key"] for c in json_of("list", "cards", "--json")}
