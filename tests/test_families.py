"""Card families drawn from the whole record set: succession across renames, as-of,
heads, lineage, chronology, people, offices, organ functions; and the registry."""

from __future__ import annotations

import textwrap

import pytest

from cards.authoring import read_text
from cards.families.as_of import PER_TENURE
from cards.families.chronology import PER_EVENT
from cards.generate import CardSpec, Records, generate
from cards.records import KINDS
from cards.registry import FAMILIES, Family, register_family


def records_of(text: str) -> Records:
    items, problems = read_text(textwrap.dedent(text), "deck.toml")
    assert problems == []
    out: Records = {kind: {} for kind in KINDS}
    for loc in items:
        out[loc.kind][loc.record["id"]] = loc.record
    return out


def by_key(text: str) -> dict[str, CardSpec]:
    return {c.key: c for c in generate(records_of(text))}


def qa(card: CardSpec) -> tuple[str, str]:
    return card.question, card.answer


SECRETARIAT = """\
    [[person]]
    id = "molotov"
    name = "Vyacheslav Molotov"
    [[person]]
    id = "stalin"
    name = "Joseph Stalin"
    [[person]]
    id = "malenkov"
    name = "Georgy Malenkov"
    [[person]]
    id = "khrushchev"
    name = "Nikita Khrushchev"
    summary = "Soviet leader who denounced Stalin in 1956"
    [[person]]
    id = "brezhnev"
    name = "Leonid Brezhnev"
    [[person]]
    id = "gorbachev"
    name = "Mikhail Gorbachev"
    [[person]]
    id = "ivashko"
    name = "Vladimir Ivashko"

    [[organ]]
    id = "secretariat"
    name = "Secretariat of the Central Committee"

    [[office]]
    id = "responsible"
    title = "Responsible Secretary of the RCP(b) Central Committee"
    organ = "secretariat"
    succeeded_by = "gensec"
    [[office]]
    id = "gensec"
    title = "General Secretary of the CPSU Central Committee"
    organ = "secretariat"

    [[tenure]]
    id = "molotov"
    person = "molotov"
    office = "responsible"
    start = "1921-03-16"
    end = "1922-04-03"
    [[tenure]]
    id = "stalin"
    person = "stalin"
    office = "gensec"
    start = "1922-04-03"
    end = "1952-10-16"
    [[tenure]]
    id = "malenkov"
    person = "malenkov"
    office = "gensec"
    start = "1953-03-05"
    end = "1953-03-14"
    informal = true
    title = "Senior Secretary of the CPSU Central Committee"
    [[tenure]]
    id = "khrushchev"
    person = "khrushchev"
    office = "gensec"
    start = "1953-09-07"
    end = "1964-10-14"
    title = "First Secretary of the CPSU Central Committee"
    [[tenure]]
    id = "brezhnev-first"
    person = "brezhnev"
    office = "gensec"
    start = "1964-10-14"
    end = "1966-04-08"
    title = "First Secretary of the CPSU Central Committee"
    [[tenure]]
    id = "brezhnev"
    person = "brezhnev"
    office = "gensec"
    start = "1966-04-08"
    end = "1982-11-10"
    [[tenure]]
    id = "gorbachev"
    person = "gorbachev"
    office = "gensec"
    start = "1985-03-11"
    end = "1991-08-24"
    [[tenure]]
    id = "ivashko"
    person = "ivashko"
    office = "gensec"
    start = "1991-08-24"
    end = "1991-08-29"
    acting = true
    """


@pytest.fixture(scope="module")
def secretariat() -> dict[str, CardSpec]:
    return by_key(SECRETARIAT)


# -- succession across a renamed post ---------------------------------------------------

def test_succession_crosses_an_office_that_took_over_the_role(
        secretariat: dict[str, CardSpec]) -> None:
    # Responsible Secretary -> General Secretary (office.succeeded_by)
    assert qa(secretariat["succession:molotov+stalin:successor"]) == (
        "Who succeeded Vyacheslav Molotov (Responsible Secretary of the RCP(b) Central "
        "Committee) in that post?",
        "Joseph Stalin (General Secretary of the CPSU Central Committee, 1922)")


def test_succession_crosses_a_title_of_the_tenure_and_skips_an_informal_holder(
        secretariat: dict[str, CardSpec]) -> None:
    assert qa(secretariat["succession:stalin+khrushchev:successor"]) == (
        "Who succeeded Joseph Stalin (General Secretary of the CPSU Central Committee) in "
        "that post?", "Nikita Khrushchev (First Secretary of the CPSU Central Committee, 1953)")
    assert qa(secretariat["succession:stalin+khrushchev:predecessor"]) == (
        "Whom did Nikita Khrushchev (First Secretary of the CPSU Central Committee) succeed "
        "in that post in 1953?", "Joseph Stalin")


def test_acting_and_informal_holders_never_succeed(secretariat: dict[str, CardSpec]) -> None:
    assert qa(secretariat["succession:gorbachev+ivashko:acting"]) == (
        "Who was acting General Secretary of the CPSU Central Committee after "
        "Mikhail Gorbachev?", "Vladimir Ivashko (1991)")
    assert qa(secretariat["succession:stalin+malenkov:acting"]) == (
        "Who was de facto Senior Secretary of the CPSU Central Committee after Joseph Stalin?",
        "Georgy Malenkov (1953)")
    said = [c for c in secretariat.values() if c.template in ("successor", "predecessor")]
    assert said and not any("ivashko" in c.record_id or "malenkov" in c.record_id for c in said)
    assert "succeeded" not in secretariat["tenure:malenkov:holder"].question


def test_a_renamed_title_by_the_same_person_is_no_succession(
        secretariat: dict[str, CardSpec]) -> None:
    assert not [k for k in secretariat if k.startswith("succession:brezhnev-first+brezhnev:")]
    # Brezhnev to Gorbachev: more than a year apart (no Andropov here), no card
    assert not [k for k in secretariat if k.startswith("succession:brezhnev+")]
    assert qa(secretariat["succession:khrushchev+brezhnev-first:successor"]) == (
        "Who succeeded Nikita Khrushchev as First Secretary of the CPSU Central Committee?",
        "Leonid Brezhnev (1964)")


def test_the_tenure_title_is_the_one_asked(secretariat: dict[str, CardSpec]) -> None:
    assert qa(secretariat["tenure:khrushchev:holder"]) == (
        "Who was First Secretary of the CPSU Central Committee from 1953 to 1964?",
        "Nikita Khrushchev")
    assert qa(secretariat["tenure:malenkov:holder"]) == (
        "Who was de facto Senior Secretary of the CPSU Central Committee in March 1953?",
        "Georgy Malenkov")


# -- as-of -------------------------------------------------------------------------------

def test_as_of_asks_years_one_holder_held_throughout(secretariat: dict[str, CardSpec]) -> None:
    as_of = [c for c in secretariat.values() if c.kind == "as-of"]
    assert as_of
    per_tenure: dict[str, int] = {}
    for card in as_of:
        tid, year = card.record_id.rsplit("@", 1)
        per_tenure[tid] = per_tenure.get(tid, 0) + 1
        assert card.question == (
            f"Who was {_title(tid)} in {year}?")
        tenure = records_of(SECRETARIAT)["tenure"][tid]
        assert int(tenure["start"][:4]) < int(year) < int(tenure["end"][:4])
    assert max(per_tenure.values()) <= PER_TENURE
    # never for an acting or informal holder, never for 1953 (three holders that year)
    assert not {c.record_id.split("@")[0] for c in as_of} & {"ivashko", "malenkov"}
    assert not [c for c in as_of if c.record_id.endswith("@1953")]


def _title(tid: str) -> str:
    tenure = records_of(SECRETARIAT)["tenure"][tid]
    if "title" in tenure:
        return str(tenure["title"])
    return str(records_of(SECRETARIAT)["office"][tenure["office"]]["title"])


def test_as_of_skips_a_year_shared_with_another_holder() -> None:
    cards = by_key("""\
        [[person]]
        id = "a"
        name = "Anna Ames"
        [[person]]
        id = "b"
        name = "Boris Bell"
        [[office]]
        id = "o"
        title = "Chair"
        [[tenure]]
        id = "ta"
        person = "a"
        office = "o"
        start = "1900-06-01"
        end = "1903-06-01"
        [[tenure]]
        id = "tb"
        person = "b"
        office = "o"
        start = "1902-01-01"
        end = "1902-02-01"
        acting = true
        """)
    # 1901 only: 1900 and 1903 are partial, 1902 had an acting chair too
    assert [k for k in cards if k.startswith("as-of:")] == ["as-of:ta@1901:held-in"]
    assert qa(cards["as-of:ta@1901:held-in"]) == ("Who was Chair in 1901?", "Anna Ames")


# -- heads -------------------------------------------------------------------------------

HEADS = """\
    [[person]]
    id = "yagoda"
    name = "Genrikh Yagoda"
    [[person]]
    id = "yezhov"
    name = "Nikolai Yezhov"
    [[person]]
    id = "kirov"
    name = "Sergei Kirov"
    [[organ]]
    id = "nkvd"
    name = "People's Commissariat for Internal Affairs"
    short = "NKVD"
    [[office]]
    id = "nkvd-commissar"
    title = "People's Commissar for Internal Affairs"
    organ = "nkvd"
    [[tenure]]
    id = "yagoda"
    person = "yagoda"
    office = "nkvd-commissar"
    start = "1934-07-10"
    end = "1936-09-26"
    [[tenure]]
    id = "yezhov"
    person = "yezhov"
    office = "nkvd-commissar"
    start = "1936-09-26"
    end = "1938-11-25"
    [[event]]
    id = "kirov"
    name = "Assassination of Sergei Kirov"
    date = "1934-12-01"
    people = ["kirov"]
    organs = ["nkvd"]
    [[event]]
    id = "handover"
    name = "Yezhov replaces Yagoda"
    date = "1936-09"
    organs = ["nkvd"]
    [[event]]
    id = "early"
    name = "Founding of the commissariat"
    date = "1934"
    organs = ["nkvd"]
    """


def test_heads_joins_an_event_to_the_one_holder_of_its_organs_post() -> None:
    cards = by_key(HEADS)
    assert qa(cards["heads:kirov@nkvd-commissar:head-at"]) == (
        "Who was People's Commissar for Internal Affairs at the time of the assassination of "
        "Sergei Kirov (1934)?", "Genrikh Yagoda")
    # two holders in September 1936; the year 1934 may be before Yagoda: no card
    assert [k for k in cards if k.startswith("heads:")] == ["heads:kirov@nkvd-commissar:head-at"]


# -- lineage and chronology ---------------------------------------------------------------

CHAIN = """\
    [[organ]]
    id = "cheka"
    name = "Cheka"
    succeeded_by = "gpu"
    [[organ]]
    id = "gpu"
    name = "State Political Directorate"
    short = "GPU"
    succeeded_by = "ogpu"
    [[organ]]
    id = "ogpu"
    name = "Joint State Political Directorate"
    short = "OGPU"
    succeeded_by = "nkvd"
    [[organ]]
    id = "nkvd"
    name = "People's Commissariat for Internal Affairs"
    short = "NKVD"
    """


def test_lineage_asks_a_link_that_gives_nothing_away() -> None:
    cards = by_key(CHAIN)
    # the middle link (GPU) stands in its neighbour's name ("Joint State Political
    # Directorate"): the next one is asked
    lineage = [c for c in cards.values() if c.kind == "lineage"]
    assert [qa(c) for c in lineage] == [(
        "Which body came between the State Political Directorate and the People's Commissariat "
        "for Internal Affairs?", "Joint State Political Directorate")]
    assert lineage[0].key == "lineage:cheka@ogpu:missing-link"
    assert lineage[0].siblings[0] == "organ:ogpu"
    assert not [k for k in by_key(CHAIN.replace('succeeded_by = "ogpu"', ""))
                if k.startswith("lineage:")]  # chains of two make none


def _events(n: int, years: int = 1, tag: str = "ussr") -> str:
    return "".join(f'[[event]]\nid = "e{i}"\nname = "Event number {i}"\n'
                   f'date = "{1900 + i * years}"\ntags = ["{tag}"]\n' for i in range(n))


def test_chronology_pairs_events_that_share_a_tag_and_are_close() -> None:
    cards = by_key(_events(30))
    pairs = [c for c in cards.values() if c.kind == "chronology"]
    assert 0 < len(pairs) <= 30 * PER_EVENT
    for card in pairs:
        early, late = card.record_id.split("+")
        assert int(early[1:]) < int(late[1:]) <= int(early[1:]) + 5
        assert card.answer == f"Event number {early[1:]}"
        assert card.question.startswith("Which came first: Event number")
    # far apart or without a shared tag: none
    assert not [k for k in by_key(_events(5, years=10)) if k.startswith("chronology:")]
    untagged = _events(5).replace('tags = ["ussr"]\n', "")
    assert not [k for k in by_key(untagged) if k.startswith("chronology:")]


def test_an_event_named_by_a_plain_noun_reads_in_lower_case_after_the() -> None:
    from cards.kinds.event import the_event

    assert the_event("Death of Lenin") == "the death of Lenin"
    assert the_event("Arrest of the Gang of Four") == "the arrest of the Gang of Four"
    # proper names keep their capitals; sentence-like names take no article
    assert the_event("Long March") == "the Long March"
    assert the_event("Third Plenum of the 11th CCP Central Committee") == (
        "the Third Plenum of the 11th CCP Central Committee")
    assert the_event("Trotsky removed as war commissar") == "Trotsky removed as war commissar"
    assert the_event("Death Valley Conference") == "the Death Valley Conference"
    # a name ending in a lower-case event noun is a name, not a sentence
    assert the_event("August coup (State Committee on the State of Emergency)") == (
        "the August coup (State Committee on the State of Emergency)")
    assert the_event("Tiananmen crackdown (\"June Fourth\")") == (
        "the Tiananmen crackdown (\"June Fourth\")")


def test_chronology_keys_are_stable_when_far_events_are_added() -> None:
    before = {k for k in by_key(_events(20)) if k.startswith("chronology:")}
    after = {k for k in by_key(_events(20) + _events(3, tag="china").replace('"e', '"z'))
             if k.startswith("chronology:")}
    assert before <= after
    assert all("z" in k for k in after - before)


# -- people, offices, organs -------------------------------------------------------------

def test_who_was_a_person_from_tenures_and_summary(secretariat: dict[str, CardSpec]) -> None:
    assert qa(secretariat["person:khrushchev:who"]) == (
        "Who was Nikita Khrushchev?",
        "Soviet leader who denounced Stalin in 1956; "
        "First Secretary of the CPSU Central Committee, 1953–1964")
    assert secretariat["person:ivashko:who"].answer == (
        "acting General Secretary of the CPSU Central Committee, 1991")


def test_an_office_that_took_over_a_role(secretariat: dict[str, CardSpec]) -> None:
    assert qa(secretariat["office:responsible:took-over"]) == (
        "Which office took over the role of the Responsible Secretary of the RCP(b) Central "
        "Committee?", "General Secretary of the CPSU Central Committee")


def test_organ_function_masks_the_name_and_parent_needs_a_name_of_its_own() -> None:
    cards = by_key("""\
        [[organ]]
        id = "cpsu"
        name = "Communist Party of the Soviet Union"
        short = "CPSU"
        [[organ]]
        id = "cc"
        name = "Central Committee of the CPSU"
        part_of = "cpsu"
        summary = "directed the party between congresses; the central committee of the cpsu met"
        [[organ]]
        id = "politburo"
        name = "Politburo"
        part_of = "cc"
        summary = "The Politburo decided urgent questions."
        """)
    assert "organ:cc:parent" not in cards  # "CPSU" stands in its name
    assert qa(cards["organ:politburo:parent"]) == (
        "Which body is the Politburo part of?", "Central Committee of the CPSU")
    assert qa(cards["organ:politburo:function"]) == (
        "Which body is this? The … decided urgent questions.", "Politburo")
    assert qa(cards["organ:cc:function"]) == (
        "Which body directed the party between congresses; the … met?",
        "Central Committee of the CPSU")
    assert qa(cards["organ:cpsu:expansion"]) == (
        "What does CPSU stand for?", "Communist Party of the Soviet Union")


def test_fact_reverse_reads_as_a_question() -> None:
    cards = by_key("""\
        [[fact]]
        id = "kolkhoz"
        question = "What is a kolkhoz?"
        answer = "A collective farm"
        reverse = true
        [[fact]]
        id = "nkvd"
        question = "What was the NKVD troika?"
        answer = "NKVD panel of three"
        reverse_question = "What was a panel of three NKVD officials called?"
        """)
    assert qa(cards["fact:kolkhoz:reverse"]) == ("Which term means: a collective farm?",
                                                 "kolkhoz")
    assert qa(cards["fact:nkvd:reverse"]) == (
        "What was a panel of three NKVD officials called?", "NKVD troika")


# -- the registry ------------------------------------------------------------------------

def test_template_names_are_unique_across_families() -> None:
    seen: dict[str, str] = {}
    for family in FAMILIES.values():
        for template in family.templates:
            assert template not in seen, (template, family.name, seen.get(template))
            seen[template] = family.name

    class Clash(Family):
        name = "clash"
        templates = ("holder",)

    with pytest.raises(ValueError, match="template 'holder' of family 'clash'"):
        register_family(Clash())
    assert "clash" not in FAMILIES


def test_every_kind_and_family_is_in_its_own_module() -> None:
    assert list(KINDS) == ["person", "organ", "office", "tenure", "event", "fact"]
    for name, family in FAMILIES.items():
        module = type(family).__module__
        assert module.startswith(("cards.kinds.", "cards.families.")), (name, module)
        assert family.templates and family.label and family.plural


def test_a_holder_with_two_terms_is_asked_with_the_year_and_answered_without_it() -> None:
    cards = by_key("""\
        [[person]]
        id = "k"
        name = "Sergei Kruglov"
        [[person]]
        id = "b"
        name = "Lavrentiy Beria"
        [[office]]
        id = "mvd"
        title = "Minister of Internal Affairs"
        [[tenure]]
        id = "k1"
        person = "k"
        office = "mvd"
        start = "1946-03-15"
        end = "1953-03-05"
        [[tenure]]
        id = "b1"
        person = "b"
        office = "mvd"
        start = "1953-03-05"
        end = "1953-06-26"
        [[tenure]]
        id = "k2"
        person = "k"
        office = "mvd"
        start = "1953-06-26"
        end = "1956-01-31"
        """)
    # Kruglov held the post twice: the question needs the year, so the answer omits it
    assert qa(cards["succession:k1+b1:successor"]) == (
        "Who succeeded Sergei Kruglov as Minister of Internal Affairs in 1953?",
        "Lavrentiy Beria")
    # Beria held it once: the answer gives the year of the succession
    assert qa(cards["succession:b1+k2:successor"]) == (
        "Who succeeded Lavrentiy Beria as Minister of Internal Affairs?",
        "Sergei Kruglov (1953)")

def test_posts_held_side_by_side_in_a_role_are_no_succession() -> None:
    cards = by_key("""\
        [[person]]
        id = "mao"
        name = "Mao Zedong"
        [[person]]
        id = "deng"
        name = "Deng Xiaoping"
        [[office]]
        id = "chairman"
        title = "Chairman of the CCP Central Committee"
        succeeded_by = "gs"
        [[office]]
        id = "gs"
        title = "General Secretary of the CCP Secretariat"
        [[tenure]]
        id = "mao"
        person = "mao"
        office = "chairman"
        start = "1945-06-19"
        end = "1976-09-09"
        [[tenure]]
        id = "deng"
        person = "deng"
        office = "gs"
        start = "1956-09-28"
        end = "1966-08-01"
        """)
    assert not [k for k in cards if k.startswith("succession:")]


def test_which_office_only_when_the_person_held_no_other_at_the_time() -> None:
    cards = by_key("""\
        [[person]]
        id = "p"
        name = "Pavel Petrov"
        [[office]]
        id = "a"
        title = "Chair"
        [[office]]
        id = "b"
        title = "Editor"
        [[office]]
        id = "c"
        title = "Envoy"
        [[tenure]]
        id = "long"
        person = "p"
        office = "a"
        start = "1900"
        end = "1920"
        [[tenure]]
        id = "inside"
        person = "p"
        office = "b"
        start = "1905"
        end = "1906"
        [[tenure]]
        id = "later"
        person = "p"
        office = "c"
        start = "1930"
        end = "1935"
        """)
    assert "tenure:long:office" not in cards and "tenure:inside:office" not in cards
    assert qa(cards["tenure:later:office"]) == (
        "Which office did Pavel Petrov hold from 1930 to 1935?", "Envoy")


def test_a_heads_card_reads_a_headline_event_name_as_a_clause() -> None:
    from cards.families.heads import at_the_time
    assert at_the_time("Long March") == "at the time of the Long March"
    assert at_the_time("OGPU absorbed into the NKVD") == (
        "when this happened: OGPU absorbed into the NKVD")


def test_an_organ_summary_that_is_a_noun_phrase_gets_its_verb() -> None:
    cards = by_key("""\
        [[organ]]
        id = "gugb"
        name = "Main Directorate of State Security"
        dissolved = "1941"
        summary = "the state security arm inside the interior commissariat"
        [[organ]]
        id = "un"
        name = "United Nations"
        summary = "the world organisation founded in 1945"
        """)
    assert cards["organ:gugb:function"].question == (
        "What was the state security arm inside the interior commissariat?")
    assert cards["organ:un:function"].question == (
        "What is the world organisation founded in 1945?")


def test_a_person_card_names_a_post_the_summary_gives_only_once() -> None:
    cards = by_key("""\
        [[person]]
        id = "z"
        name = "Zhang Wentian"
        summary = "General Secretary of the Chinese party from 1935 to 1943"
        [[office]]
        id = "gs"
        title = "General Secretary of the CCP Central Committee"
        [[office]]
        id = "fm"
        title = "Foreign Minister"
        [[tenure]]
        id = "t1"
        person = "z"
        office = "gs"
        start = "1935"
        end = "1943"
        [[tenure]]
        id = "t2"
        person = "z"
        office = "fm"
        start = "1950"
        end = "1955"
        """)
    assert cards["person:z:who"].answer == (
        "General Secretary of the Chinese party from 1935 to 1943; Foreign Minister, 1950–1955")



def test_a_person_card_names_a_post_held_twice_once_with_both_spans() -> None:
    cards = by_key("""\
        [[person]]
        id = "m"
        name = "Vsevolod Merkulov"
        [[office]]
        id = "nkgb"
        title = "People's Commissar for State Security"
        [[office]]
        id = "mgb"
        title = "Minister of State Security"
        [[tenure]]
        id = "t1"
        person = "m"
        office = "nkgb"
        start = "1941-02"
        end = "1941-07"
        [[tenure]]
        id = "t2"
        person = "m"
        office = "nkgb"
        start = "1943"
        end = "1946"
        [[tenure]]
        id = "t3"
        person = "m"
        office = "mgb"
        start = "1946-03"
        end = "1946-05"
        """)
    assert cards["person:m:who"].answer == (
        "People's Commissar for State Security, 1941 and 1943–1946; "
        "Minister of State Security, 1946")


PARTY = """\
    [[person]]
    id = "stalin"
    name = "Joseph Stalin"
    [[person]]
    id = "malenkov"
    name = "Georgy Malenkov"
    [[person]]
    id = "khrushchev"
    name = "Nikita Khrushchev"
    [[person]]
    id = "ivashko"
    name = "Vladimir Ivashko"
    [[person]]
    id = "mao"
    name = "Mao Zedong"
    [[organ]]
    id = "cpsu"
    name = "Communist Party of the Soviet Union"
    kind = "party"
    tags = ["ussr::party"]
    [[organ]]
    id = "cc"
    name = "Central Committee"
    part_of = "cpsu"
    [[organ]]
    id = "secretariat"
    name = "Secretariat"
    part_of = "cc"
    [[organ]]
    id = "pravda"
    name = "Pravda"
    part_of = "cc"
    [[organ]]
    id = "kgb"
    name = "Committee for State Security"
    tags = ["ussr::security"]
    [[organ]]
    id = "ccp"
    name = "Chinese Communist Party"
    kind = "party"
    tags = ["china::party"]
    [[office]]
    id = "gensec"
    title = "General Secretary"
    organ = "secretariat"
    succeeded_by = "firstsec"
    [[office]]
    id = "firstsec"
    title = "First Secretary"
    organ = "secretariat"
    [[office]]
    id = "editor"
    title = "Editor of Pravda"
    organ = "pravda"
    [[office]]
    id = "ccp-chairman"
    title = "Chairman of the CCP"
    organ = "ccp"
    [[tenure]]
    id = "stalin"
    person = "stalin"
    office = "gensec"
    start = "1922-04-03"
    end = "1953-03-05"
    [[tenure]]
    id = "malenkov"
    person = "malenkov"
    office = "gensec"
    start = "1953-03-05"
    end = "1953-03-14"
    informal = true
    title = "Senior Secretary"
    [[tenure]]
    id = "khrushchev"
    person = "khrushchev"
    office = "firstsec"
    start = "1953-09-07"
    end = "1964-10-14"
    [[tenure]]
    id = "ivashko"
    person = "ivashko"
    office = "firstsec"
    start = "1991-08-24"
    end = "1991-08-29"
    acting = true
    [[tenure]]
    id = "editor"
    person = "stalin"
    office = "editor"
    start = "1917"
    end = "1918"
    [[tenure]]
    id = "mao"
    person = "mao"
    office = "ccp-chairman"
    start = "1943-03-20"
    end = "1976-09-09"
    [[event]]
    id = "kgb-founded"
    name = "Founding of the KGB"
    date = "1954-03-13"
    organs = ["kgb"]
    tags = ["ussr::security"]
    [[event]]
    id = "untagged"
    name = "Untagged event"
    date = "1954-03-13"
    [[event]]
    id = "sino-soviet"
    name = "Sino-Soviet treaty"
    date = "1954-03-13"
    tags = ["ussr::state", "china::state"]
    [[event]]
    id = "stalin-dies"
    name = "Interregnum"
    date = "1953-03-10"
    tags = ["ussr::party"]
    [[event]]
    id = "suspension"
    name = "Last Plenum"
    date = "1991-08-26"
    organs = ["cc"]
    """


def test_heads_asks_who_held_the_party_top_post_for_an_event_of_another_organ() -> None:
    cards = by_key(PARTY)
    # the KGB is no party organ; the event's top-level tag `ussr` gives the party
    assert qa(cards["heads:kgb-founded@firstsec:head-at"]) == (
        "Who was First Secretary at the time of the founding of the KGB (1954)?",
        "Nikita Khrushchev")


def test_the_party_top_post_is_the_role_with_the_most_tenures() -> None:
    from cards.families.heads import top_posts
    from cards.graph import Graph
    # the role of gensec -> firstsec (named by its first id, 4 tenures) beats Pravda (1)
    assert top_posts(Graph(records_of(PARTY))) == {"cpsu": "firstsec", "ccp": "ccp-chairman"}


def test_no_party_card_without_exactly_one_party() -> None:
    keys = set(by_key(PARTY))
    assert not any(k.startswith("heads:untagged@") for k in keys)  # no organ, no tag
    assert not any(k.startswith("heads:sino-soviet@") for k in keys)  # two parties


def test_an_informal_holder_is_not_presented_as_holding_the_party_post() -> None:
    cards = by_key(PARTY)
    assert not any(k.startswith("heads:stalin-dies@") for k in cards)
    # an acting holder is named as acting, found through the event's party organ
    assert qa(cards["heads:suspension@firstsec:head-at"]) == (
        "Who was acting First Secretary at the time of the Last Plenum (1991)?",
        "Vladimir Ivashko")


def test_a_tie_for_the_party_top_post_gives_no_party_card() -> None:
    from cards.families.heads import top_posts
    from cards.graph import Graph
    tied = PARTY + textwrap.dedent("""\
        [[tenure]]
        id = "editor-2"
        person = "khrushchev"
        office = "editor"
        start = "1918"
        end = "1919"
        [[tenure]]
        id = "editor-3"
        person = "malenkov"
        office = "editor"
        start = "1919"
        end = "1920"
        [[tenure]]
        id = "editor-4"
        person = "ivashko"
        office = "editor"
        start = "1920"
        end = "1921"
        """)
    assert "cpsu" not in top_posts(Graph(records_of(tied)))
    assert not any(k.startswith("heads:kgb-founded@") for k in by_key(tied))


def test_a_long_party_tenure_gets_a_card_only_for_the_event_nearest_its_ends() -> None:
    events = "".join(f"""
    [[event]]
    id = "e{year}"
    name = "Plenum of {year}"
    date = "{year}-06-01"
    tags = ["ussr::party"]
    """ for year in range(1923, 1953))
    keys = [k for k in by_key(PARTY + events) if k.startswith("heads:e")]
    assert keys == ["heads:e1952@gensec:head-at"]  # 9 months before its end
