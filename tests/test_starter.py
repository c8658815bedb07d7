"""The built-in starter deck (cards/data/starter.toml) against the checked facts sheet.

The expected values below are copied from the facts sheet the deck was
written from (shared/reference/starter-facts.md), so that a wrong date or a
forbidden claim fails here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from helpers import T0, run

from cards.check import check
from cards.dates import PartialDate
from cards.generate import Records
from cards.listing import list_cards
from cards.records import KINDS
from cards.starter import load_starter, starter_text
from cards.store import Store

# id: (name, born, died); None: living
PEOPLE = {
    "lenin": ("Vladimir Lenin", "1870-04-22", "1924-01-21"),
    "stalin": ("Joseph Stalin", "1878-12-18", "1953-03-05"),
    "trotsky": ("Leon Trotsky", "1879-11-07", "1940-08-21"),
    "bukharin": ("Nikolai Bukharin", "1888-10-09", "1938-03-15"),
    "zinoviev": ("Grigory Zinoviev", "1883-09-23", "1936-08-25"),
    "kamenev": ("Lev Kamenev", "1883-07-18", "1936-08-25"),
    "kirov": ("Sergei Kirov", "1886-03-27", "1934-12-01"),
    "yagoda": ("Genrikh Yagoda", "1891-11-07", "1938-03-15"),
    "yezhov": ("Nikolai Yezhov", "1895-05-01", "1940-02-04"),
    "beria": ("Lavrentiy Beria", "1899-03-29", "1953-12-23"),
    "khrushchev": ("Nikita Khrushchev", "1894-04-15", "1971-09-11"),
    "brezhnev": ("Leonid Brezhnev", "1906-12-19", "1982-11-10"),
    "andropov": ("Yuri Andropov", "1914-06-15", "1984-02-09"),
    "chernenko": ("Konstantin Chernenko", "1911-09-24", "1985-03-10"),
    "gorbachev": ("Mikhail Gorbachev", "1931-03-02", "2022-08-30"),
    "hu-yaobang": ("Hu Yaobang", "1915-11-20", "1989-04-15"),
    "zhao-ziyang": ("Zhao Ziyang", "1919-10-17", "2005-01-17"),
    "jiang-zemin": ("Jiang Zemin", "1926-08-17", "2022-11-30"),
    "hu-jintao": ("Hu Jintao", "1942-12-21", None),
    "xi-jinping": ("Xi Jinping", "1953-06-15", None),
    "dzerzhinsky": ("Felix Dzerzhinsky", "1877-09-11", "1926-07-20"),
    "menzhinsky": ("Vyacheslav Menzhinsky", "1874-08-19", "1934-05-10"),
    "ivashko": ("Vladimir Ivashko", "1932-10-28", "1994-11-13"),
}

# (person, start, end, acting); the office is checked by its title words below
TENURES = [
    ("stalin", "1922-04-03", "1952-10-16", False),
    ("khrushchev", "1953-09-14", "1964-10-14", False),
    ("brezhnev", "1964-10-14", "1966-04-08", False),
    ("brezhnev", "1966-04-08", "1982-11-10", False),
    ("andropov", "1982-11-12", "1984-02-09", False),
    ("chernenko", "1984-02-13", "1985-03-10", False),
    ("gorbachev", "1985-03-11", "1991-08-24", False),
    ("ivashko", "1991-08-24", "1991-08-29", True),
    ("hu-yaobang", "1981-06-29", "1982-09-12", False),
    ("hu-yaobang", "1982-09-12", "1987-01-15", False),
    ("zhao-ziyang", "1987-01-15", "1989-06-24", False),
    ("jiang-zemin", "1989-06-24", "2002-11-15", False),
    ("hu-jintao", "2002-11-15", "2012-11-15", False),
    ("xi-jinping", "2012-11-15", None, False),
    ("dzerzhinsky", "1917-12-20", "1922-02-06", False),
    ("dzerzhinsky", "1923-11-15", "1926-07-20", False),
    ("menzhinsky", "1926-07-30", "1934-05-10", False),
    ("yagoda", "1934-07-10", "1936-09-26", False),
    ("yezhov", "1936-09-26", "1938-11-25", False),
    ("beria", "1938-11-25", "1945-12-29", False),
    ("trotsky", "1918-03-13", "1925-01-15", False),
    ("bukharin", "1918-11", "1929-04", False),
    ("lenin", "1917-11-08", "1924-01-21", False),
]

# id: (part_of, founded, dissolved)
ORGANS = {
    "cpsu": (None, "1912-01", "1991-08-29"),
    "cpsu-cc": ("cpsu", "1912", "1991"),
    "cpsu-politburo": ("cpsu-cc", "1919-03-25", "1991"),
    "cpsu-orgburo": ("cpsu-cc", "1919-01-16", "1952-10"),
    "cpsu-secretariat": ("cpsu-cc", "1917-08-06", "1991"),
    "cheka": (None, "1917-12-20", "1922-02-06"),
    "gpu": (None, "1922-02-06", "1923-11-15"),
    "ogpu": (None, "1923-11-15", "1934-07-10"),
    "nkvd": (None, "1934-07-10", "1946-03"),
    "kgb": (None, "1954-03-13", "1991-12-03"),
    "red-army": (None, "1918-01-28", None),
    "pravda": ("cpsu-cc", "1912-05-05", None),
    "ccp": (None, "1921-07-23", None),
    "ccp-cc": ("ccp", "1922-07-23", None),
    "ccp-politburo": ("ccp-cc", "1927", None),
    "ccp-psc": ("ccp-politburo", "1928-07", None),
    "ccp-secretariat": ("ccp-cc", "1934-01", None),
    "un-secretariat": (None, "1945", None),
}

# id: a date, or (start, end)
EVENTS: dict[str, str | tuple[str, str]] = {
    "nep": ("1921-03-08", "1921-03-16"),
    "lenin-testament": "1923-01-04",
    "lenin-death": "1924-01-21",
    "trotsky-removed": "1925-01",
    "trotsky-expelled": "1927-11",
    "trotsky-deported": "1929-02",
    "bukharin-pravda": "1929-04",
    "dekulakization": "1929-12-27",
    "holodomor": ("1932", "1933"),
    "congress-17": ("1934-01-26", "1934-02-10"),
    "kirov-murder": "1934-12-01",
    "moscow-trial-1": ("1936-08-19", "1936-08-24"),
    "great-purge": ("1936-08", "1938-11"),
    "yezhov-replaces-yagoda": "1936-09-26",
    "bukharin-trial": "1938-03-15",
    "yezhov-replaced": "1938-11-25",
    "trotsky-murder": ("1940-08-20", "1940-08-21"),
    "stalin-death": "1953-03-05",
    "secret-speech": "1956-02-25",
    "gorbachev-resigns": "1991-08-24",
    "ussr-dissolved": "1991-12-26",
}

# record: values the note must name, for each DISPUTED value on the sheet
DISPUTED = {
    ("person", "stalin"): ["1879-12-21"],
    ("person", "bukharin"): ["13", "14"],
    ("person", "yagoda"): ["1891-11-19"],
    ("person", "yezhov"): ["1940-02-02"],
    ("person", "khrushchev"): ["1894-04-17"],
}


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> Records:
    with Store.open(tmp_path_factory.mktemp("starter") / "s.db") as store:
        report = load_starter(store, T0)
        assert report.changed == [] and report.unchanged == []
        return store.all_records()


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    with Store.open(tmp_path_factory.mktemp("starter") / "s.db") as store:
        load_starter(store, T0)
        return list_cards(store)


def all_text(starter: Records, cards: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every piece of text the deck can show: (where, text)."""
    out = [(c["key"], c["question"]) for c in cards] + [(c["key"], c["answer"]) for c in cards]
    for kind, records in starter.items():
        for rid, rec in records.items():
            for field, value in rec.items():
                if isinstance(value, str):
                    out.append((f"{kind}:{rid}:{field}", value))
    return out


def in_words(iso: str) -> str:
    return PartialDate.parse(iso).words()


# -- loading and checking -----------------------------------------------------------

def test_the_starter_file_is_package_data() -> None:
    text = starter_text()
    assert text.startswith("#")
    assert Path(__file__).parents[1].joinpath("cards", "data", "starter.toml").read_text(
        encoding="utf-8") == text


def test_it_loads_and_loading_again_changes_nothing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.db") as store:
        first = load_starter(store, T0)
        assert first.added and not first.changed
        again = load_starter(store, T0)
        assert again.added == [] and again.changed == []
        assert again.cards == {"added": 0, "changed": 0, "retired": 0,
                               "total": first.cards["total"]}


def test_it_passes_study_check_with_no_errors_nor_warnings(starter: Records) -> None:
    assert [str(f) for f in check(starter)] == []


def test_study_check_on_the_starter_deck(isolated: Path) -> None:
    assert run("init").exit_code == 0
    result = run("check")
    assert (result.exit_code, result.stdout) == (0, "0 errors, 0 warnings\n")


def test_every_record_has_a_source(starter: Records) -> None:
    missing = [f"{kind}:{rid}" for kind, records in starter.items()
               for rid, rec in records.items() if not rec.get("source", "").strip()]
    assert missing == []


def test_every_kind_is_there(starter: Records) -> None:
    assert all(starter[kind] for kind in KINDS)


def test_cards_have_unique_questions_per_template(cards: list[dict[str, Any]]) -> None:
    seen: dict[str, str] = {}
    for card in cards:
        assert card["question"].strip() and card["answer"].strip(), card["key"]
        assert card["question"] not in seen, (card["key"], seen.get(card["question"]))
        seen[card["question"]] = card["key"]


# -- the facts sheet -----------------------------------------------------------------

def test_people(starter: Records) -> None:
    got = {pid: (p["name"], p.get("born"), p.get("died")) for pid, p in starter["person"].items()
           if pid in PEOPLE}
    assert got == PEOPLE


def test_tenures(starter: Records) -> None:
    got = sorted((t["person"], t["start"], t.get("end"), bool(t.get("acting")))
                 for t in starter["tenure"].values())
    for tenure in TENURES:
        assert tenure in got


def test_tenure_offices(starter: Records) -> None:
    titles = {oid: o["title"] for oid, o in starter["office"].items()}

    def office_of(person: str, start: str) -> str:
        [t] = [t for t in starter["tenure"].values()
               if (t["person"], t["start"]) == (person, start)]
        return titles[t["office"]]

    assert office_of("stalin", "1922-04-03").startswith("General Secretary")
    assert office_of("khrushchev", "1953-09-14").startswith("First Secretary")
    assert office_of("brezhnev", "1964-10-14").startswith("First Secretary")
    assert office_of("brezhnev", "1966-04-08").startswith("General Secretary")
    assert office_of("hu-yaobang", "1981-06-29").startswith("Chairman")
    assert "CCP" in office_of("xi-jinping", "2012-11-15")
    assert "Cheka" in office_of("dzerzhinsky", "1917-12-20")
    assert "OGPU" in office_of("menzhinsky", "1926-07-30")
    assert "Pravda" in office_of("bukharin", "1918-11")
    un = office_of("guterres", "2017-01-01")
    assert un == "Secretary-General of the United Nations"
    assert office_of("stalin", "1922-04-03") != un


def test_organs(starter: Records) -> None:
    got = {oid: (o.get("part_of"), o.get("founded"), o.get("dissolved"))
           for oid, o in starter["organ"].items() if oid in ORGANS}
    assert got == ORGANS


def test_security_service_succession(starter: Records) -> None:
    organs = starter["organ"]
    chain = ["cheka"]
    while organs[chain[-1]].get("succeeded_by"):
        chain.append(organs[chain[-1]]["succeeded_by"])
    assert chain[:4] == ["cheka", "gpu", "ogpu", "nkvd"]
    assert "kgb" not in chain  # the NKVD became the MVD, not the KGB


def test_events(starter: Records) -> None:
    got: dict[str, str | tuple[str, str]] = {}
    for eid, e in starter["event"].items():
        if eid in EVENTS:
            got[eid] = e["date"] if "date" in e else (e["start"], e["end"])
    assert got == EVENTS


def test_concepts(starter: Records) -> None:
    answers = " ".join(f["question"] + " " + f["answer"] for f in starter["fact"].values())
    for concept in ("democratic centralism", "troika", "kolkhoz", "sovkhoz", "kulak",
                    "nomenklatura"):
        assert concept in answers.lower(), concept
    assert "00447" in answers
    assert "17 November 1938" in answers or "1938-11-17" in answers


@pytest.mark.parametrize(("record", "values"), list(DISPUTED.items()),
                         ids=[f"{k}:{i}" for k, i in DISPUTED])
def test_disputed_values_are_named_in_the_note(starter: Records, record: tuple[str, str],
                                               values: list[str]) -> None:
    kind, rid = record
    note = starter[kind][rid].get("note", "")
    assert "disputed" in note.lower()
    for value in values:
        assert value in note or (len(value) == 10 and in_words(value) in note), (value, note)


def test_disputed_tenures(starter: Records) -> None:
    notes = {(t["person"], t["start"]): t.get("note", "") for t in starter["tenure"].values()}
    trotsky = notes[("trotsky", "1918-03-13")]
    assert "disputed" in trotsky.lower()
    assert "14 March 1918" in trotsky and "25 January 1925" in trotsky
    bukharin = notes[("bukharin", "1918-11")]
    assert "disputed" in bukharin.lower() and "1917" in bukharin


# -- claims the deck must not teach ------------------------------------------------------------

def test_the_kgb_was_not_called_ogpu_or_nkvd(starter: Records,
                                             cards: list[dict[str, Any]]) -> None:
    assert starter["organ"]["kgb"]["founded"] == "1954-03-13"
    for where, text in all_text(starter, cards):
        if "KGB" in text or "Committee for State Security" in text:
            assert not re.search(r"OGPU|NKVD|GPU|Cheka", text), (where, text)
    kgb_cards = [c for c in cards if c["record"] == {"kind": "organ", "id": "kgb"}]
    founded = [c["answer"] for c in kgb_cards if c["template"] == "founded"]
    assert founded == ["1954"]  # the year is asked; the day is in the context


def test_no_ten_million_holodomor_toll(starter: Records, cards: list[dict[str, Any]]) -> None:
    for where, text in all_text(starter, cards):
        assert not re.search(r"\b10 million|\bten million|10,000,000|10 000 000", text,
                             re.IGNORECASE), (where, text)
    toll = starter["fact"]["holodomor-toll"]["answer"]
    assert "3.5 to 5 million" in toll


def test_stalin_was_not_general_secretary_from_the_revolution(
        starter: Records, cards: list[dict[str, Any]]) -> None:
    [tenure] = [t for t in starter["tenure"].values()
                if t["person"] == "stalin" and "general" in t["office"]]
    assert tenure["start"] == "1922-04-03"
    for c in cards:
        if c["record"]["kind"] == "tenure" and c["record"]["id"] == tenure["id"]:
            assert "1917" not in c["question"] + c["answer"]
    for where, text in all_text(starter, cards):
        assert not re.search(r"beginning of (the )?communist rule|since the revolution", text,
                             re.IGNORECASE), (where, text)


def test_the_great_purge_did_not_end_with_yezhovs_death(starter: Records,
                                                       cards: list[dict[str, Any]]) -> None:
    purge = starter["event"]["great-purge"]
    assert purge["end"] == "1938-11"
    assert starter["person"]["yezhov"]["died"] == "1940-02-04"
    for where, text in all_text(starter, cards):
        lower = text.lower()
        if "purge" in lower and "yezhov" in lower:
            assert not re.search(r"yezhov'?s? (death|execution)|death of yezhov", lower), (
                where, text)
    end = starter["fact"]["great-purge-end"]["answer"]
    assert "17 November 1938" in end
    assert "Yezhov" not in end
    dates = [c["answer"] for c in cards if c["key"] == "event:great-purge:date"]
    assert dates == ["1936–1938"]


def test_the_central_committee_did_not_replace_all_members_meetings(
        starter: Records, cards: list[dict[str, Any]]) -> None:
    for where, text in all_text(starter, cards):
        lower = text.lower()
        assert "all-members" not in lower and "all members meeting" not in lower, (where, text)
        if "central committee" in lower and "replace" in lower:
            assert not re.search(r"central committee[^.]*(created|set up|formed)[^.]*replace",
                                 lower), (where, text)
    assert starter["organ"]["cpsu-politburo"]["founded"] == "1919-03-25"
    assert "Party Congress" in starter["fact"]["party-congress-supreme"]["answer"]
