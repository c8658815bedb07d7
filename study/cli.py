"""The `study` command: parse, call one function, print.

This is the only module that reads the clock, the environment and the
terminal; everything below it takes them as arguments.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import IO, Any, NoReturn

import click

from cards.errors import CardsError, InvalidInput
from cards.records import KINDS, PLURALS
from cards.text import json_text, visible

DB_HELP = ("Store file (default: $STUDY_DB, else study.db in the app folder: "
           "~/.config/secretariat on Linux; see the README).")


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print ``text`` with any control characters in it shown as escapes."""
    click.echo(visible(text), err=err, nl=nl)


def now() -> datetime:
    """The current time (UTC); ``STUDY_NOW`` fixes it, for tests and demos."""
    from study.clock import now as clock

    return clock()


def interactive() -> bool:
    """True when a person is at the keyboard (standard input is a terminal)."""
    return sys.stdin is not None and sys.stdin.isatty()


def edit_text(text: str) -> str | None:
    """``text`` edited in the user's editor (see study.editor); None if left unchanged."""
    from study.editor import NoEditor, choose_editor

    try:
        editor = choose_editor(os.environ)
    except NoEditor as err:
        raise click.ClickException(str(err)) from None
    return click.edit(text, editor=editor, extension=".toml")
def _host() -> str:
    import socket

    return socket.gethostname()


def _alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def default_db() -> str:
    """The store in the user data directory (``STUDY_DB`` and ``--db`` choose another)."""
    return str(Path(click.get_app_dir("secretariat")) / "study.db")


#: Problems and findings printed at most; then a count of the rest.
SHOWN = 100


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 card', '2 cards', '1 person', '3 people'."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


class InputProblems(click.ClickException):
    """Every problem of an input, one per line, then a summary."""

    def __init__(self, err: InvalidInput) -> None:
        super().__init__(str(err))
        self.problems = err.problems

    def show(self, file: IO[Any] | None = None) -> None:
        out = file or sys.stderr
        for p in self.problems[:SHOWN]:
            click.echo(visible(str(p), one_line=True), file=out)
        n = len(self.problems)
        if n > SHOWN:
            click.echo(f"... and {n - SHOWN:,} more problem{'s' if n - SHOWN != 1 else ''} "
                       f"(the first {SHOWN} are shown)", file=out)
        click.echo(f"Error: {n} problem{'s' if n != 1 else ''} in the input; nothing was "
                   f"written.", file=out)


class EditKept(CardsError):
    """An edit given up during review; the message says where it is kept."""


def fail(err: CardsError) -> NoReturn:
    if isinstance(err, InvalidInput):
        raise InputProblems(err) from None
    raise click.ClickException(visible(str(err), one_line=True)) from None


class Context:
    """What the commands share: where the store is, and the store once opened."""

    def __init__(self, db: str, default: bool = False) -> None:
        self.db_path = db
        self.default = default  # the user data directory: the one folder we create
        self._store: Any = None
        self.seeded: Any = None  # the starter deck's report, when opening created the store

    def store(self, *, create_with_starter: bool = True, announce: bool = True) -> Any:
        """Open the store; a new one is created with the starter deck (said once).

        Creating the store and loading the deck commit together: a first run
        killed half-way leaves nothing that the next run would take for a store.
        """
        from cards.store import Store

        if self._store is None:
            try:
                if self.default:
                    _make_data_dir(Path(self.db_path).parent)

                def seed(store: Any) -> None:
                    from cards.starter import load_starter

                    self.seeded = load_starter(store, now())

                self._store = Store.open(self.db_path,
                                         seed=seed if create_with_starter else None)
                conn = self._store.db.conn
                if conn.execute("SELECT 1 FROM config WHERE key = 'replay_pending'").fetchone():
                    from study.history import settle

                    echo("Replaying the review history once after the upgrade...", err=True)
                    settle(conn)
                self._store.regenerate_if_stale(now())  # after an upgrade of the card families
                if self.seeded is not None and announce and self.db_path != ":memory:":
                    echo(f"Created a new store with the starter deck at {self.db_path}",
                         err=True)
            except CardsError as err:
                fail(err)
        return self._store


def _make_data_dir(folder: Path) -> None:
    """Create the user data directory, or say in one line why it cannot be."""
    from cards.errors import StoreError

    if str(folder).startswith("~"):
        raise StoreError("cannot find your home folder (HOME is not set); choose a store "
                         "with --db PATH or STUDY_DB")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreError(f"cannot create the folder {folder} for the store "
                         f"({err.strerror}: {err.filename}); choose another with --db PATH "
                         f"or STUDY_DB") from None


pass_ctx = click.make_pass_decorator(Context)


class Group(click.Group):
    """Turns domain errors into one-line messages (exit 1)."""

    def invoke(self, ctx: click.Context) -> Any:
        import sqlite3

        try:
            return super().invoke(ctx)
        except InputProblems:
            raise
        except click.ClickException as err:
            err.message = visible(err.message, one_line=True)  # type: ignore[misc]  # may name what was typed
            raise
        except CardsError as err:
            fail(err)
        except sqlite3.DatabaseError as err:
            # a damaged or truncated file shows itself only when a page is read; a lock,
            # a full disk or a read-only folder is not damage, and is said as it is
            from cards.db import store_failure

            path = ctx.obj.db_path if isinstance(ctx.obj, Context) else "the store"
            saved = "the answer was not saved" if ctx.invoked_subcommand == "review" else None
            raise click.ClickException(visible(store_failure(path, err, saved),
                                               one_line=True)) from None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)
@click.version_option(package_name="secretariat")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """Secretariat: learn political history by spaced repetition.

    \b
    Start with:
      study review          review today's cards
      study list cards      see what there is to learn
      study import f.toml   add your own facts
    """
    chosen = db or os.environ.get("STUDY_DB")
    ctx.obj = Context(chosen or default_db(), default=not chosen)
    ctx.call_on_close(lambda: ctx.obj._store and ctx.obj._store.close())


def main() -> None:
    cli(prog_name="study")


# -- the fact store ----------------------------------------------------------

@cli.command()
@click.option("--empty", is_flag=True, help="Create the store without the starter deck.")
@click.option("--reset", nargs=2, multiple=True, metavar="KIND ID",
              help="Take the starter's version of this record, whatever you changed "
                   "(repeat for more).")
@pass_ctx
def init(obj: Context, empty: bool, reset: tuple[tuple[str, str], ...]) -> None:
    """Create the store and load the starter deck (again: update it).

    Running it again updates the starter records and leaves your own
    records, your edits to starter records and your review history alone;
    it names the records you edited that the deck has changed since.

    \b
    Example:
      study init
      study init --reset person stalin
      study --db history.db init --empty
    """
    from cards.starter import load_starter

    if empty and reset:
        raise click.UsageError("--reset takes a starter record: it cannot go with --empty")
    for kind, _ in reset:
        if kind not in KINDS:
            raise click.BadParameter(f"{kind!r} is not a kind, expected one of: "
                                     f"{', '.join(KINDS)}", param_hint="'--reset'")
    store = obj.store(create_with_starter=not empty, announce=False)
    if empty:
        echo(f"Store ready at {obj.db_path}")
        return
    report = (obj.seeded if obj.seeded and not reset
              else load_starter(store, now(), reset=list(reset)))
    echo(f"Starter deck: {report.summary()}")
    echo(f"Store ready at {obj.db_path}")


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(readable=False))
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@pass_ctx
def import_(obj: Context, files: tuple[str, ...], dry_run: bool) -> None:
    """Import records from TOML files: all of them, or nothing.

    Records are matched by id: new ids are added, changed records are
    updated and their cards regenerated; a card whose key survives keeps its
    review history.

    \b
    Example:
      study import purges.toml
      study import --dry-run *.toml
    """
    from cards.authoring import load_and_import

    if dry_run and obj.db_path != ":memory:" and not Path(obj.db_path).exists():
        obj.db_path = ":memory:"  # what the store would be: the starter deck, then the files
    store = obj.store()
    with _slow_progress("Importing") as progress:
        report = load_and_import(store, files, now(), dry_run, progress=progress)
    for warning in report.warnings[:SHOWN]:
        echo(visible(str(warning), one_line=True), err=True)
    echo(("Dry run: " if dry_run else "Imported: ") + report.summary())
    if dry_run:
        for label, refs in (("add", report.added), ("change", report.changed)):
            for kind, rid in refs:
                echo(f"  would {label} {kind} '{rid}'")


def _ask_fields(store: Any, kind: Any, raw: dict[str, Any], given: set[str],
                offer: bool) -> None:
    """Ask for the fields not given on the command line, checking each as it is entered.

    With ``offer``, every field not given is asked for: a required one until it
    is right, an optional one offered (Enter skips it). Then the record as a
    whole is checked, and the fields it has problems with are asked again.
    """
    from cards.authoring import field_problems
    from cards.errors import InvalidInput

    def ask(f: Any) -> None:
        while True:
            label = f.name.replace("_", " ").capitalize()
            if f.type == "bool":
                raw[f.name] = click.confirm(f"{label} ({f.help})" if f.help else label,
                                            default=False)
                return
            hint = {"date": "YYYY, YYYY-MM or YYYY-MM-DD", "ref": f"the id of a {f.ref}",
                    "refs": f"ids of {KINDS[f.ref].plural}, separated by commas" if f.ref
                    else "", "texts": "separated by commas"}.get(f.type, "")
            parts = [p for p in (f.help, hint) if p]
            if not f.required:
                parts.append("optional, Enter skips" if f.name != "id" or kind.name != "tenure"
                             else "Enter: PERSON--OFFICE--START")
            text = click.prompt(f"{label} ({'; '.join(parts)})" if parts else label,
                                default="", show_default=False).strip()
            if f.type in ("texts", "refs"):
                raw[f.name] = [t.strip() for t in text.split(",") if t.strip()]
            else:
                raw[f.name] = text or None
            if not text and f.required:
                click.echo(f"  {f.name}: required", err=True)
                continue
            problems = field_problems(kind, raw, f.name, store)
            for problem in problems:
                click.echo(f"  {f.name}: {problem}", err=True)
            if not problems:
                return

    if offer:
        for f in kind.all_fields:
            if f.name not in given:
                ask(f)
    from cards.authoring import record_from_fields

    # what the options given had wrong, and what only the whole record shows (an
    # event needs a date or a start): say it, and ask those fields again
    while True:
        problems = [(f.name, m) for f in kind.all_fields if raw.get(f.name) not in (None, "", [])
                    for m in field_problems(kind, raw, f.name, store)]
        try:
            record_from_fields(kind, raw, name="study add")
        except InvalidInput as err:
            problems += [(p.field, p.message) for p in err.problems]
        names = {f.name for f in kind.all_fields}
        if not problems or any(name not in names for name, _ in problems):
            return  # nothing to ask (an unknown field): the command reports it
        for name, message in dict.fromkeys(problems):
            click.echo(f"  {name}: {message}", err=True)
        for name in dict.fromkeys(name for name, _ in problems):
            ask(kind.field(name))


def _option_name(field: str) -> str:
    singular = {"tags": "tag", "aliases": "alias", "people": "person", "organs": "organ"}
    return "--" + singular.get(field, field).replace("_", "-")


def _add_command(kind_name: str) -> click.Command:
    kind = KINDS[kind_name]

    @pass_ctx
    def command(obj: Context, /, **values: Any) -> None:
        from cards.authoring import check_references, record_from_fields

        raw: dict[str, Any] = {}
        for f in kind.all_fields:
            value = values.get(f.name)
            if f.type in ("texts", "refs"):
                value = list(value or ())
            raw[f.name] = value
        store = obj.store()
        if interactive():
            missing = any(f.required and not raw.get(f.name) for f in kind.all_fields)
            _ask_fields(store, kind, raw, given={n for n, v in raw.items() if v}, offer=missing)
        loc = record_from_fields(kind, raw, name="study add")
        problems = check_references([loc], store, [])
        if problems:
            raise InvalidInput(problems)
        from cards.editing import add_record

        cards = add_record(store, kind.name, loc.record, now(),
                           warn=lambda w: echo(visible(str(w), one_line=True), err=True))
        echo(f"Added {kind.name} '{loc.record['id']}' ({plural(cards['added'], 'new card')})")

    params: list[click.Parameter] = []
    for f in kind.all_fields:
        name = _option_name(f.name)
        help_text = f.help + (" (required)" if f.required else "")
        if f.type == "bool":
            params.append(click.Option([f"{name}/--no-{name[2:]}", f.name], default=None,
                                       help=help_text))
        elif f.type in ("texts", "refs"):
            params.append(click.Option([name, f.name], multiple=True,
                                       help=help_text + " (repeat for more)"))
        else:
            metavar = "YYYY[-MM[-DD]]" if f.type == "date" else "ID" if f.type == "ref" else "TEXT"
            params.append(click.Option([name, f.name], metavar=metavar, help=help_text))
    example = {
        "person": "study add person --id molotov --name 'Vyacheslav Molotov' --born 1890-03-09",
        "organ": "study add organ --id mgb --name 'Ministry of State Security' --short MGB",
        "office": "study add office --id mgb-minister --title 'Minister of State Security' "
                  "--organ mgb",
        "tenure": "study add tenure --person beria --office nkvd-commissar --start 1938-11-25",
        "event": "study add event --id twentieth-congress --name '20th Party Congress' "
                 "--start 1956-02-14 --end 1956-02-25",
        "fact": "study add fact --id kolkhoz --question 'What is a kolkhoz?' "
                "--answer 'A collective farm' --reverse",
    }[kind_name]
    article = "an" if kind_name[0] in "aeiou" else "a"
    return click.Command(
        kind_name, callback=command, params=params,
        help=f"Add {article} {kind_name}.\n\nIn a terminal, the fields not given are asked "
             f"for, each checked as it is entered.\n\n"
             f"\b\nExample:\n  {example}",
        short_help=f"Add {article} {kind_name}.")


@cli.group()
def add() -> None:
    """Add one record, with an option per field.

    \b
    Example:
      study add person --id molotov --name 'Vyacheslav Molotov'
    """


for _kind in KINDS:
    add.add_command(_add_command(_kind))

KIND_CHOICE = click.Choice(list(KINDS))


@cli.command()
@click.argument("kind", type=KIND_CHOICE)
@click.argument("record_id", metavar="ID")
@pass_ctx
def edit(obj: Context, kind: str, record_id: str) -> None:
    """Edit one record as TOML in $EDITOR; on an error, offer to edit again.

    \b
    Example:
      study edit person stalin
    """
    from cards.editing import EditGivenUp, edit_record

    try:
        result = edit_record(obj.store(), kind, record_id, now(),
                             edit=edit_text,
                             again=lambda problems: _again(problems))
    except EditGivenUp as err:
        if not interactive():
            raise  # the problems have not been shown: the error lists them
        raise click.ClickException(f"{kind} '{record_id}' was not saved. "
                                   f"{keep_edit(kind, record_id, err.text)}") from None
    echo(result)


def _again(problems: list[Any]) -> bool:
    """Show the problems and offer another edit (without a terminal, the error says them)."""
    if not interactive():
        return False
    for p in problems:
        click.echo(visible(str(p), one_line=True), err=True)
    return click.confirm("Edit again?", default=True, err=True)


def keep_edit(kind: str, record_id: str, text: str) -> str:
    """Keep an edit given up in a file; says where, and how to use it."""
    import tempfile

    fd, path = tempfile.mkstemp(prefix=f"study-edit-{kind}-{record_id}-", suffix=".toml")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    return f"Your edit is kept in {path}: fix it, then `study import {path}`."


@cli.command()
@click.argument("kind", type=KIND_CHOICE)
@click.argument("record_id", metavar="ID")
@pass_ctx
def remove(obj: Context, kind: str, record_id: str) -> None:
    """Remove a record that no other record refers to.

    Its cards leave the queue; their review history is kept.

    \b
    Example:
      study remove fact nomenklatura
    """
    retired = obj.store().remove(kind, record_id, now())
    echo(f"Removed {kind} '{record_id}'; {plural(retired, 'card')} retired")


def _kind_choices() -> list[str]:
    """Every card family's name and plural (``tenure``, ``tenures``, ``as-of``, ...)."""
    from cards.registry import FAMILIES, load

    load()
    names = list(FAMILIES)
    names += [f.plural.lower().replace(" ", "-") for f in FAMILIES.values()]
    return list(dict.fromkeys(names))


def _family_names() -> list[str]:
    from cards.registry import family_names

    return family_names()


def _family_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--kind`` as the family's name (``tenures`` -> ``tenure``)."""
    if value is None:
        return None
    from cards.registry import family_of

    return family_of(value).name


KIND_FILTER = click.Choice(_kind_choices())


LIST_CHOICE = click.Choice([*PLURALS, "cards"])
STATE_CHOICE = click.Choice(["new", "learning", "review", "suspended", "buried", "leech"])


def echo_json_rows(rows: Any) -> None:
    """Print rows as one JSON array, a row at a time, so that memory stays flat."""
    out = sys.stdout
    first = True
    for row in rows:
        out.write(("[\n" if first else ",\n") + json_text(row))
        first = False
    out.write("[]\n" if first else "\n]\n")
    out.flush()


def warn_unknown_tag(store: Any, tag: str | None) -> None:
    """Warn on stderr about a --tag that no record carries, with the closest ones."""
    if tag:
        from cards.listing import unknown_tag

        warning = unknown_tag(store, tag)
        if warning:
            echo(f"Warning: {warning}", err=True)


@cli.command("list")
@click.argument("kind", type=LIST_CHOICE)
@click.option("--search", "-s", metavar="TEXT", help="Only entries containing TEXT (any case).")
@click.option("--tag", "-t", metavar="TAG", help="Only records with this tag.")
@click.option("--state", type=STATE_CHOICE, help="Cards only: only cards in this state.")
@click.option("--kind", "-k", "card_kind", type=KIND_FILTER, callback=_family_name,
              help="Cards only: only this kind.")
@click.option("--due", metavar="WHEN",
              help="Cards only: only cards due by WHEN: now, today, tomorrow or Nd (7d).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_ctx
def list_(obj: Context, kind: str, search: str | None, tag: str | None, state: str | None,
          card_kind: str | None, due: str | None, as_json: bool) -> None:
    """List records or cards: a table, or JSON with --json.

    KIND is one of people, organs, offices, tenures, events, facts, cards.
    Cards show their state (new, learning, review, suspended, buried,
    leech) and when they are due.

    \b
    Example:
      study list tenures --tag ussr
      study list cards --state learning --due today
      study list cards --search Stalin --json
    """
    from cards.listing import iter_cards, iter_records

    if kind != "cards" and (state or card_kind or due):
        raise click.UsageError("--state, --kind and --due apply to `study list cards` only")
    store = obj.store()
    warn_unknown_tag(store, tag)
    moment = now()
    settings = _settings(store.config())
    tz = local_timezone(settings.timezone)
    if kind == "cards":
        from study.queue import due_cutoff

        cutoff = None
        if due:
            try:
                cutoff = due_cutoff(due, moment, tz, settings.rollover_hour)
            except ValueError as err:
                raise click.BadParameter(str(err), param_hint="'--due'") from None
        # --kind is already a family's name (the option's callback, _family_name)
        rows = iter_cards(store, search=search, tag=tag, state=state, kind=card_kind,
                          due_before=cutoff, now=moment)
    else:
        rows = iter_records(store, PLURALS[kind].name, search=search, tag=tag)
    if as_json:
        echo_json_rows(rows)
        return
    from study.screen import print_table

    shown = list(rows)
    print_table(kind, shown, now=moment, tz=tz)
    if not shown and store.is_empty():
        from study.terminal import EMPTY

        echo(EMPTY, err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_ctx
def tags(obj: Context, as_json: bool) -> None:
    """List the tags, with how many records and cards carry each.

    \b
    Example:
      study tags
      study list cards --tag ussr
    """
    from cards.listing import tag_counts

    counts = tag_counts(obj.store())
    if as_json:
        echo_json_rows({"tag": t, "records": r, "cards": c} for t, r, c in counts)
        return
    from study.screen import print_tags

    print_tags(counts)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--tag", "-t", metavar="TAG", help="Only records with this tag (and what they use).")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@pass_ctx
def dump(obj: Context, file: str, tag: str | None, force: bool) -> None:
    """Write the store's records as TOML that `study import` reads back.

    \b
    Example:
      study dump backup.toml
      study dump - --tag china
    """
    from cards.authoring import dump_toml
    from cards.files import write_atomic

    store = obj.store()
    warn_unknown_tag(store, tag)
    text = dump_toml(store.all_records(), tag)
    if file == "-":
        echo(text, nl=False)
        return
    write_atomic(file, text.encode(), force=force)
    echo(f"Wrote {file}")


@cli.command()
@pass_ctx
def check(obj: Context) -> None:
    """Report inconsistencies: overlaps, lifetimes, cycles, dates.

    Errors exit with status 1; warnings are printed.

    \b
    Example:
      study check
    """
    from cards.check import check as run_check

    findings = run_check(obj.store().all_records())
    for f in findings[:SHOWN]:
        echo(visible(str(f), one_line=True))
    if len(findings) > SHOWN:
        echo(f"... and {len(findings) - SHOWN:,} more (the first {SHOWN} are shown)")
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    echo(f"{plural(errors, 'error')}, {plural(warnings, 'warning')}")
    if errors:
        sys.exit(1)


# -- review ------------------------------------------------------------------

def local_timezone(name: str) -> Any:
    from study.clock import local_timezone as resolve

    return resolve(name)


def _settings(config: dict[str, Any]) -> Any:
    from study.settings import Settings

    return Settings.from_config(config)




@cli.command()
@click.option("--new", "new_limit", type=click.IntRange(0), metavar="N",
              help="New cards in this session, whatever today's limit (default: what is "
                   "left of the daily limit).")
@click.option("--limit", type=click.IntRange(0), metavar="N",
              help="Reviews in this session, whatever today's limit (default: what is left "
                   "of the daily limit).")
@click.option("--tag", "-t", metavar="TAG", help="Only cards of records with this tag.")
@click.option("--kind", "-k", type=KIND_FILTER, callback=_family_name,
              help="Only cards of this kind.")
@click.option("--order", type=click.Choice(["added", "random"]), default="added",
              show_default=True, help="Order of new cards.")
@click.option("--type", "type_answers", is_flag=True, help="Type each answer; it is checked.")
@pass_ctx
def review(obj: Context, new_limit: int | None, limit: int | None, tag: str | None,
           kind: str | None, order: str, type_answers: bool) -> None:
    """Review today's cards in the terminal.

    Space shows the answer; 1 Again, 2 Hard, 3 Good, 4 Easy grade it;
    u undo, s suspend, b bury, e edit, ? help, q quit. Every answer is saved
    at once. Without a terminal, keys are read from standard input.

    \b
    Example:
      study review
      study review --tag china --new 5
      printf ' 3 3 1q' | study review
    """
    import time

    from study.live import begin as begin_session
    from study.live import end as end_session
    from study.queue import Filters, Limits
    from study.session import ReviewSession
    from study.terminal import run, stdin_frontend, until_unlocked

    store = obj.store()
    warn_unknown_tag(store, tag)
    settings = _settings(store.config())
    tz = local_timezone(settings.timezone)

    def edit(session: ReviewSession, showing: Any) -> str | None:
        from cards.editing import edit_record

        card = showing.card
        from cards.registry import FAMILIES

        kind_, rid = FAMILIES[card["record_kind"]].edit_target(card["record_id"],
                                                               card["template"])
        from cards.editing import EditGivenUp

        try:
            return edit_record(session.store, kind_, rid, now(),
                               edit=edit_text, again=_again)
        except EditGivenUp as err:
            raise EditKept(f"{kind_} '{rid}'. {keep_edit(kind_, rid, err.text)}") from None

    def say(text: str) -> None:
        echo(text, err=True)

    # recorded as running, so that `study undo` elsewhere leaves this session's answers alone
    conn = store.db.conn
    live_id = until_unlocked(lambda: begin_session(conn, os.getpid(), _host(), now(), _alive), say)
    try:
        session = ReviewSession(store, settings, tz, Filters(tag, kind),
                                Limits(new_limit, limit), order, live_id)
        run(session, stdin_frontend(now, time.monotonic, tz, edit, type_answers))
    finally:
        until_unlocked(lambda: end_session(conn, live_id), say)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--tag", "-t", metavar="TAG", help="Only cards of records with this tag.")
@click.option("--kind", "-k", type=KIND_FILTER, callback=_family_name,
              help="Only cards of this kind.")
@pass_ctx
def due(obj: Context, as_json: bool, tag: str | None, kind: str | None) -> None:
    """How many cards are there to study today, after the daily limits.

    Fast enough for a shell prompt.

    \b
    Example:
      study due
      study due --json
    """
    from cards.db import connect_current
    from study.due import counts_for, day_settings, render
    from study.queue import Filters

    if tag:  # not the fast path (which takes no --tag): the store may be opened
        warn_unknown_tag(obj.store(), tag)
    conn = connect_current(obj.db_path) if Path(obj.db_path).exists() else None
    if conn is None:
        conn = obj.store().db.conn
    settings = day_settings(conn)
    counts = counts_for(conn, now(), local_timezone(settings.timezone), settings,
                        Filters(tag, kind))
    echo(render(counts, as_json))


@cli.command()
@pass_ctx
def undo(obj: Context) -> None:
    """Undo the last answer, even after the session ended.

    The answers of a review session that is still running are left alone:
    press u in that session instead.

    \b
    Example:
      study undo
    """
    from study.live import running
    from study.scheduler import RATINGS
    from study.scheduler import undo as undo_last

    store = obj.store()
    conn = store.db.conn
    at = now()
    review = undo_last(conn, now=at, running=running(conn, at, _host(), _alive))
    tz = local_timezone(_settings(store.config()).timezone)
    given = datetime.fromisoformat(review["reviewed_at"]).astimezone(tz)
    moment = at.astimezone(tz)
    when = given.strftime("%H:%M") + ("" if given.date() == moment.date() else
                                     given.strftime(" on %a %d %b %Y"))
    rating = review["rating"]
    echo(f"Undid your answer {rating} {RATINGS.get(rating, '?')} to {review['card_key']}, "
         f"given at {when}")
    card = conn.execute("SELECT question FROM cards WHERE key = ?",
                        [review["card_key"]]).fetchone()
    if card:
        echo(f"  Q: {card[0]}")


def _suspension(suspend: bool) -> click.Command:
    verb = "Suspend" if suspend else "Unsuspend"

    @pass_ctx
    def command(obj: Context, targets: tuple[str, ...], tag: str | None,
                search: str | None) -> None:
        from cards.listing import select_cards
        from study.scheduler import set_suspended

        if not (targets or tag or search):
            raise click.UsageError("name the cards: KEY, KIND:ID, --tag TAG or --search TEXT")
        store = obj.store()
        warn_unknown_tag(store, tag)
        keys = select_cards(store, list(targets), tag=tag, search=search)
        changed = set_suspended(store.db.conn, keys, suspend)
        unchanged = len(keys) - len(changed)
        already = (f" ({unchanged} already {'suspended' if suspend else 'not suspended'})"
                   if unchanged else "")
        echo(f"{verb}ed {plural(len(changed), 'card')}{already}")

    doc = ("Suspend cards: they are not shown until unsuspended.\n\n"
           if suspend else "Unsuspend cards (leeches too).\n\n")
    doc += ("Name cards by key, all the cards of a record by KIND:ID, or choose them\n"
            "with --tag and --search.\n\n"
            f"\b\nExample:\n  study {verb.lower()} organ:pravda:founded\n"
            f"  study {verb.lower()} person:stalin\n  study {verb.lower()} --tag purges")
    return click.Command(
        verb.lower(), callback=command, help=doc, short_help=doc.split("\n")[0],
        params=[click.Argument(["targets"], nargs=-1, metavar="[KEY|KIND:ID]..."),
                click.Option(["--tag", "-t"], metavar="TAG",
                             help="Cards of records with this tag."),
                click.Option(["--search", "-s"], metavar="TEXT",
                             help="Cards whose key, question or answer contains TEXT.")])


suspend = _suspension(True)
unsuspend = _suspension(False)
cli.add_command(suspend)
cli.add_command(unsuspend)


def _shown(key: str, value: Any) -> str:
    """A setting as `study config` shows it, which `study config set` accepts back."""
    if key == "parameters":
        # short where that is exact, else every digit: what is shown sets the same weights
        return " ".join(f"{v:g}" if float(f"{v:g}") == v else repr(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON for scripts.")
@click.pass_context
def config(ctx: click.Context, as_json: bool) -> None:
    """Show the scheduler settings; `study config set KEY VALUE` changes one.

    \b
    Example:
      study config
      study config get new_per_day
      study config set desired_retention 0.85
      study config set learning_steps '1m 10m 1h'
      study config reset new_per_day
    """
    if ctx.invoked_subcommand is not None:
        if as_json:
            raise click.UsageError("--json goes with `study config` alone")
        return
    from study.settings import DESCRIPTIONS

    values = _settings(ctx.obj.store().config()).to_config()
    if as_json:
        echo(json_text({key: values[key] for key in DESCRIPTIONS}, indent=2))
        return
    for key, description in DESCRIPTIONS.items():
        echo(f"{key} = {_shown(key, values[key])}")
        echo(f"    {description}")


@config.command("get")
@click.argument("key")
@pass_ctx
def config_get(obj: Context, key: str) -> None:
    """Print one setting's value.

    \b
    Example:
      study config get desired_retention
    """
    from study.settings import known_setting

    known_setting(key)
    echo(_shown(key, _settings(obj.store().config()).to_config()[key]))


# a value may start with '-' ("-5" gets the range error, not "No such option")
@config.command("set", context_settings={"ignore_unknown_options": True})
@click.argument("key")
@click.argument("value")
@pass_ctx
def config_set(obj: Context, key: str, value: str) -> None:
    """Change one setting; the value is checked.

    \b
    Example:
      study config set new_per_day 10
      study config set fuzz off
    """
    from study.settings import parse_setting

    parsed = parse_setting(key, value)
    store = obj.store()
    store.set_config(key, parsed)
    echo(f"{key} = {_shown(key, _settings(store.config()).to_config()[key])}")


@config.command("reset")
@click.argument("keys", nargs=-1, metavar="KEY...")
@click.option("--all", "every", is_flag=True, help="Reset every setting.")
@pass_ctx
def config_reset(obj: Context, keys: tuple[str, ...], every: bool) -> None:
    """Give settings back their default values (the FSRS parameters too, with --all).

    \b
    Example:
      study config reset new_per_day
      study config reset --all
    """
    from study.settings import DESCRIPTIONS, known_setting

    if every == bool(keys):
        raise click.UsageError("name the settings to reset, or give --all")
    for key in keys:
        known_setting(key)
    store = obj.store()
    chosen = list(DESCRIPTIONS) if every else list(keys)
    store.reset_config(chosen)
    values = _settings(store.config()).to_config()
    for key in chosen:
        echo(f"{key} = {_shown(key, values[key])}")


# -- the review log ----------------------------------------------------------

@cli.group()
def log() -> None:
    """Share the review history between machines as JSON Lines.

    \b
    Example:
      study log export ~/Sync/laptop.jsonl
      study log merge ~/Sync/desktop.jsonl
    """


@log.command("export")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@pass_ctx
def log_export(obj: Context, file: str, force: bool) -> None:
    """Write every review event (answers and undos) to FILE, one JSON object a line.

    \b
    Example:
      study log export --force ~/Sync/laptop.jsonl
    """
    from study.logfile import export_log

    n = export_log(obj.store().db.conn, file, force)
    click.echo(f"Wrote {n:,} event{'s' if n != 1 else ''} to {click.format_filename(file)}")


@log.command("merge")
@click.argument("file", type=click.Path(dir_okay=False))
@pass_ctx
def log_merge(obj: Context, file: str) -> None:
    """Merge the review events of FILE into this store's history.

    A union by event id: events already here are skipped, so merging a file
    twice changes nothing. The cards they touch are replayed.

    \b
    Example:
      study log merge ~/Sync/desktop.jsonl
    """
    from study.logfile import merge_log

    store = obj.store()
    new, read, unknown = merge_log(store.db.conn, file, _settings(store.config()), now())
    click.echo(f"Merged {new:,} new event{'s' if new != 1 else ''} from "
               f"{click.format_filename(file)} ({read - new:,} of {read:,} already here or "
               f"skipped).")
    if unknown:
        click.echo(f"Skipped the events of {len(unknown):,} card"
                   f"{'s' if len(unknown) != 1 else ''} this store does not have "
                   f"(first: {unknown[0]}); import their records and merge again.")


@cli.command()
@click.option("--dry-run", is_flag=True, help="Report the differences; repair nothing.")
@pass_ctx
def doctor(obj: Context, dry_run: bool) -> None:
    """Rebuild every card's scheduling state by replaying its review events.

    The state kept with each card is a cache of that replay; this reports
    the cards whose cache differed, and repairs them.

    \b
    Example:
      study doctor --dry-run
      study doctor
    """
    from study.history import rebuild

    store = obj.store()
    repairs = rebuild(store.db.conn, _settings(store.config()), dry_run, keep=20)
    for diff in repairs.differences:
        changes = "; ".join(f"{column} {old} -> {new}"
                            for column, (old, new) in diff.columns.items())
        click.echo(f"{diff.key}: {changes}")
    n, total = repairs.differed, repairs.cards
    if n > len(repairs.differences):
        click.echo(f"... and {n - len(repairs.differences):,} more")
    cards = f"{n:,} card{'s' if n != 1 else ''}"
    if not n:
        click.echo(f"Replayed {total:,} cards: every cached state agrees with its events.")
    elif dry_run:
        click.echo(f"Replayed {total:,} cards: {cards} differ{'s' if n == 1 else ''} from their "
                   f"events; run "
                   f"`study doctor` to repair them.")
    else:
        click.echo(f"Replayed {total:,} cards: repaired {cards} whose cached state differed.")


# -- optimize ----------------------------------------------------------------

@cli.command()
@click.option("--dry-run", is_flag=True, help="Fit and report; save nothing.")
@pass_ctx
def optimize(obj: Context, dry_run: bool) -> None:
    """Fit the FSRS parameters to your own review history.

    Prints the log loss and RMSE of the current and the fitted parameters on
    your answers, and saves the fitted ones only when they are better (a
    lower log loss). Needs the optional fsrs-rs-python, the Rust FSRS that
    Anki uses: pip install 'secretariat[optimize]'.

    \b
    Example:
      study optimize --dry-run
      study optimize
    """
    from study.optimize import optimize as fit

    store = obj.store()
    settings = _settings(store.config())
    with _optimize_progress() as progress:
        result = fit(store.db.conn, settings.parameters, progress, now=now(),
                     tz=local_timezone(settings.timezone), rollover_hour=settings.rollover_hour,
                     relearning_steps=len(settings.relearning_steps))
    echo(f"Fitted to {plural(result.items, 'answer')} on {plural(result.cards, 'card')}:")
    echo(f"  {'parameters':<12}{'log loss':>10}{'RMSE (bins)':>13}")
    for name, metrics in (("current", result.current), ("fitted", result.fitted)):
        echo(f"  {name:<12}{metrics.log_loss:>10.4f}{metrics.rmse:>13.4f}")
    if not result.better:
        echo("The fitted parameters are not better (no lower log loss); "
                   "kept the current ones.")
    elif dry_run:
        echo("The fitted parameters are better; dry run, nothing saved.")
    else:
        store.set_config("parameters", list(result.parameters))
        echo("The fitted parameters are better; saved them (see `study config`).")


def _slow_progress(title: str, after: float = 1.0) -> Any:
    """A progress bar on stderr for work that lasts longer than ``after`` seconds.

    A context giving the callback ``(what, share)``; the bar shows only when
    stderr is a terminal, appears once ``after`` seconds have passed (quick
    work never flickers one), and is cleared at the end.
    """
    import contextlib
    import threading

    if not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    @contextlib.contextmanager
    def bar() -> Any:
        shown = Progress(TextColumn("{task.description}"), BarColumn(),
                         TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                         console=Console(stderr=True), transient=True)
        task = shown.add_task(title, total=1.0)
        timer = threading.Timer(after, shown.start)
        timer.daemon = True
        timer.start()
        try:
            yield lambda what, share: shown.update(task, description=f"{title}: {what}",
                                                   completed=share)
        finally:
            timer.cancel()
            timer.join()
            shown.stop()

    return bar()


def _optimize_progress() -> Any:
    """A progress bar on stderr when it is a terminal: a context giving the callback, or None."""
    import contextlib

    if not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    from rich.console import Console
    from rich.progress import Progress

    @contextlib.contextmanager
    def bar() -> Any:
        with Progress(console=Console(stderr=True), transient=True) as shown:
            task = shown.add_task("Reading the review history", total=1.0)
            yield lambda what, share: shown.update(task, description=what, completed=share)

    return bar()


# -- export ------------------------------------------------------------------

EXPORT_KINDS = KIND_FILTER


@cli.group()
def export() -> None:
    """Write the cards for other programs: an Anki deck, or text for Anki.

    \b
    Example:
      study export anki secretariat.apkg
      study export csv secretariat.csv --tag china
    """


def _export_options(command: Any) -> Any:
    """The options both exports share."""
    for option in reversed((
        click.option("--deck", default="Secretariat", show_default=True, metavar="NAME",
                     help="Deck name; '::' makes a subdeck."),
        click.option("--split-by", type=click.Choice(["kind"]),
                     help="One subdeck per kind: Secretariat::Tenures, ..."),
        click.option("--tag", "-t", metavar="TAG", help="Only records with this tag."),
        click.option("--kind", "-k", type=EXPORT_KINDS, metavar="KIND", callback=_family_name,
                     help="Only cards of this kind: " + ", ".join(_family_names()) + "."),
        click.option("--force", is_flag=True, help="Overwrite OUT if it exists."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar."),
    )):
        command = option(command)
    return command


def _export_progress(quiet: bool) -> Any:
    """A progress bar on stderr unless quiet or not a terminal: a context giving the callback."""
    import contextlib

    if quiet or not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    from rich.console import Console
    from rich.progress import Progress

    @contextlib.contextmanager
    def bar() -> Any:
        with Progress(console=Console(stderr=True), transient=True) as shown:
            task = shown.add_task("Exporting", total=None)
            yield lambda done, total: shown.update(task, completed=done, total=total)

    return bar()


def _warn_extension(out: str, extensions: tuple[str, ...], what: str) -> None:
    from cards.files import extension_warning

    warning = extension_warning(out, extensions, what)
    if warning:
        echo(f"Warning: {warning}", err=True)


@export.command("anki")
@click.argument("out", type=click.Path(dir_okay=False))
@_export_options
@pass_ctx
def export_anki(obj: Context, out: str, deck: str, split_by: str | None, tag: str | None,
                kind: str | None, force: bool, quiet: bool) -> None:
    """Write an Anki package (.apkg): a note per record, the store's cards.

    The cards carry their scheduling and review history: a first import
    with "Import any learning progress" starts where the terminal is.
    Importing a newer export updates the notes that changed, in place, and
    keeps your Anki reviews (but adds no new history: use study anki sync).

    \b
    Example:
      study export anki secretariat.apkg
      study export anki china.apkg --tag china --deck 'History::China' --force
    """
    from exports.anki import export_apkg

    _warn_extension(out, (".apkg",), "an Anki package")
    store = obj.store()
    warn_unknown_tag(store, tag)
    settings = _settings(store.config())
    with _export_progress(quiet) as progress:
        result = export_apkg(store, out, deck=deck, split_by=split_by, tag=tag,
                             kind=kind, force=force, progress=progress, now=now(),
                             tz=local_timezone(settings.timezone), settings=settings)
    echo(f"Wrote {out}: {result.summary()}")


# -- Anki sync ---------------------------------------------------------------

@cli.group()
def anki() -> None:
    """Sync reviews both ways with Anki and AnkiDroid (AnkiWeb or your own server).

    \b
    Example:
      study anki sync --user me@example.org
      study anki sync
      study anki status
    """


@anki.command("sync")
@click.option("--user", metavar="NAME", help="Log in as NAME (the first time, or to switch).")
@click.option("--server", metavar="URL",
              help="A self-hosted sync server (default: AnkiWeb), with --user.")
@click.option("--collection", type=click.Path(dir_okay=False), metavar="PATH",
              help="Sync with a local Anki collection file (collection.anki2) instead.")
@click.option("--download", is_flag=True,
              help="Replace the mirror by the account's collection first (when Anki asks "
                   "for a full sync); your answers are pushed again.")
@pass_ctx
def anki_sync(obj: Context, user: str | None, server: str | None, collection: str | None,
              download: bool) -> None:
    """Sync with Anki: push notes and terminal answers, pull answers given in Anki.

    The password comes from a prompt, or from STUDY_ANKI_PASSWORD; only the
    host key is kept (mode 0600), never the password. The first sync
    downloads the account's collection (on an empty account, uploads the
    notes so that a phone can download them).

    \b
    Example:
      study anki sync --user me@example.org
      study anki sync --server http://192.168.1.5:8080/ --user me
      study anki sync
      study anki sync --collection ~/.local/share/Anki2/User\\ 1/collection.anki2
    """
    from exports import sync as anki_sync_
    from study.live import Process

    if server and not user:
        raise click.UsageError("--server needs --user NAME (the account on that server)")
    if collection and (user or download):
        raise click.UsageError("--collection works on a local file: no --user or --download")
    anki_sync_._anki()  # says how to install the anki package when it is missing
    store = obj.store()
    settings = _settings(store.config())
    directory = anki_sync_.sync_dir(obj.db_path)
    account = None
    if collection is None:
        if user:
            password = os.environ.get("STUDY_ANKI_PASSWORD")
            if password is None:
                if not interactive():
                    raise click.ClickException(
                        "no password: set STUDY_ANKI_PASSWORD, or run the command in a "
                        "terminal to be asked for it")
                password = click.prompt(f"Password for {user}", hide_input=True)
            account = anki_sync_.login(directory, anki_sync_.Login(user, password, server))
            echo(f"Logged in as {user} on {account.server}", err=True)
        else:
            account = anki_sync_.load_account(directory)
    report = anki_sync_.sync(store, settings, directory=directory, now=now(),
                             tz=local_timezone(settings.timezone), account=account,
                             collection=collection, download=download,
                             log=lambda line: echo(line, err=True),
                             process=Process(os.getpid(), _host(), _alive))
    echo(f"Synced: {report.summary()}")
    if report.uploaded:
        echo("The account was empty: uploaded the notes; sync your phone to get them.")


@anki.command("status")
@pass_ctx
def anki_status(obj: Context) -> None:
    """The Anki account, the last sync, and what waits to be pushed.

    \b
    Example:
      study anki status
    """
    from exports.sync import status as sync_status
    from exports.sync import sync_dir

    figures = sync_status(obj.store(), sync_dir(obj.db_path))
    if figures["user"] is None:
        echo("Not logged in: run study anki sync --user NAME")
    else:
        echo(f"Account: {figures['user']} on {figures['server']}")
        echo(f"Last sync: {figures['last_sync'] or 'never'}")
    n, c = figures["pending_answers"], figures["changed_cards"]
    echo(f"Waiting to be pushed: {n} answer{'s' if n != 1 else ''}, "
               f"{c} card{'s' if c != 1 else ''} changed"
               + (", notes changed" if figures["notes_changed"] else ""))


@export.command("csv")
@click.argument("out", type=click.Path(dir_okay=False))
@_export_options
@click.option("--separator", type=click.Choice(["tab", "comma"]), default="tab",
              show_default=True, help="Column separator.")
@pass_ctx
def export_csv(obj: Context, out: str, deck: str, split_by: str | None, tag: str | None,
               kind: str | None, force: bool, quiet: bool, separator: str) -> None:
    """Write the notes as text for Anki's import (File > Import).

    Uses the note types of a Secretariat .apkg: import one of those first.

    \b
    Example:
      study export csv secretariat.csv
      study export csv facts.csv --kind fact --separator comma
    """
    from exports.csv import export_csv as write_csv

    _warn_extension(out, (".csv", ".tsv", ".txt"), "a file for Anki's text import")
    warn_unknown_tag(obj.store(), tag)
    with _export_progress(quiet) as progress:
        result = write_csv(obj.store(), out, deck=deck, split_by=split_by, tag=tag, kind=kind,
                           separator=separator, force=force, progress=progress)
    echo(f"Wrote {out}: {result.summary()}")


# -- stats -------------------------------------------------------------------

@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON for scripts.")
@click.option("--tag", "-t", metavar="TAG", help="Only cards of records with this tag.")
@click.option("--kind", "-k", type=KIND_FILTER, callback=_family_name,
              help="Only cards of this kind.")
@pass_ctx
def stats(obj: Context, as_json: bool, tag: str | None, kind: str | None) -> None:
    """Your progress: answers a day, retention, cards by state, what falls due.

    A calendar of the answers of the last 365 days; today's answers; true
    retention (answers on review cards that were not Again) over the last
    day, week, month and year, and by kind; cards by state; cards due on
    each of the next 30 days; the leeches.

    \b
    Example:
      study stats
      study stats --kind tenures --tag ussr
      study stats --json
    """
    from study.queue import Filters
    from study.stats import compute, render

    store = obj.store()
    warn_unknown_tag(store, tag)
    settings = _settings(store.config())
    tz = local_timezone(settings.timezone)
    figures = compute(store.db.conn, now(), tz, settings.rollover_hour, Filters(tag, kind))
    if as_json:
        echo(json_text(figures, indent=2))
        return
    render(figures)
