"""The `study` command: parse, call one function, print.

This is the only module that reads the clock, the environment and the
terminal; everything below it takes them as arguments.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import IO, Any, NoReturn

import click

from cards.errors import CardsError, InvalidInput
from cards.records import KINDS, PLURALS

DB_HELP = "Store file (default: $STUDY_DB, else study.db in the user data directory)."


def now() -> datetime:
    """The current time (UTC); ``STUDY_NOW`` fixes it, for tests and demos."""
    from study.due import clock

    return clock()


def interactive() -> bool:
    """True when a person is at the keyboard (standard input is a terminal)."""
    return sys.stdin is not None and sys.stdin.isatty()


def default_db() -> str:
    return os.environ.get("STUDY_DB") or str(Path(click.get_app_dir("secretariat")) / "study.db")


class InputProblems(click.ClickException):
    """Every problem of an input, one per line, then a summary."""

    def __init__(self, err: InvalidInput) -> None:
        super().__init__(str(err))
        self.problems = err.problems

    def show(self, file: IO[Any] | None = None) -> None:
        out = file or sys.stderr
        for p in self.problems:
            click.echo(str(p), file=out)
        n = len(self.problems)
        click.echo(f"Error: {n} problem{'s' if n != 1 else ''} in the input; nothing was written.",
                   file=out)


def fail(err: CardsError) -> NoReturn:
    if isinstance(err, InvalidInput):
        raise InputProblems(err) from None
    raise click.ClickException(str(err)) from None


class Context:
    """What the commands share: where the store is, and the store once opened."""

    def __init__(self, db: str) -> None:
        self.db_path = db
        self._store: Any = None

    def store(self, *, create_with_starter: bool = True) -> Any:
        """Open the store; a missing one is created with the starter deck (said once)."""
        from cards.store import Store

        if self._store is None:
            fresh = self.db_path == ":memory:" or not Path(self.db_path).exists()
            try:
                self._store = Store.open(self.db_path)
                self._store.regenerate_if_stale(now())  # after an upgrade of the card families
                if fresh and create_with_starter:
                    from cards.starter import load_starter

                    load_starter(self._store, now())
                if fresh and create_with_starter and self.db_path != ":memory:":
                    click.echo(f"Created a new store with the starter deck at {self.db_path}",
                               err=True)
            except CardsError as err:
                fail(err)
        return self._store


pass_ctx = click.make_pass_decorator(Context)


class Group(click.Group):
    """Turns domain errors into one-line messages (exit 1)."""

    def invoke(self, ctx: click.Context) -> Any:
        import sqlite3

        try:
            return super().invoke(ctx)
        except CardsError as err:
            fail(err)
        except sqlite3.DatabaseError as err:
            # a damaged or truncated file shows itself only when a page is read
            path = ctx.obj.db_path if isinstance(ctx.obj, Context) else "the store"
            raise click.ClickException(
                f"{path}: the store cannot be read ({err}); nothing was changed. Restore it "
                f"from a copy, or start another with --db") from None


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
    ctx.obj = Context(db or default_db())
    ctx.call_on_close(lambda: ctx.obj._store and ctx.obj._store.close())


def main() -> None:
    cli(prog_name="study")


# -- the fact store ----------------------------------------------------------

@cli.command()
@click.option("--empty", is_flag=True, help="Create the store without the starter deck.")
@pass_ctx
def init(obj: Context, empty: bool) -> None:
    """Create the store and load the starter deck (again: update it).

    Running it again updates the starter records and leaves your own
    records and your review history alone.

    \b
    Example:
      study init
      study --db history.db init --empty
    """
    from cards.starter import load_starter

    store = obj.store(create_with_starter=False)
    if empty:
        click.echo(f"Store ready at {obj.db_path}")
        return
    report = load_starter(store, now())
    click.echo(f"Starter deck: {report.summary()}")
    click.echo(f"Store ready at {obj.db_path}")


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
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
    report = load_and_import(obj.store(), files, now(), dry_run)
    for warning in report.warnings:
        click.echo(str(warning), err=True)
    click.echo(("Dry run: " if dry_run else "Imported: ") + report.summary())
    if dry_run:
        for label, refs in (("add", report.added), ("change", report.changed)):
            for kind, rid in refs:
                click.echo(f"  would {label} {kind} '{rid}'")


def _option_name(field: str) -> str:
    singular = {"tags": "tag", "aliases": "alias", "people": "person", "organs": "organ"}
    return "--" + singular.get(field, field).replace("_", "-")


def _add_command(kind_name: str) -> click.Command:
    kind = KINDS[kind_name]

    @pass_ctx
    def command(obj: Context, **values: Any) -> None:
        from cards.authoring import check_references, record_from_fields

        raw: dict[str, Any] = {}
        for f in kind.all_fields:
            value = values.get(f.name)
            if f.type in ("texts", "refs"):
                value = list(value or ())
            raw[f.name] = value
        if interactive():
            for f in kind.all_fields:
                if f.required and not raw.get(f.name):
                    raw[f.name] = click.prompt(f.name.replace("_", " ").capitalize())
        store = obj.store()
        loc = record_from_fields(kind, raw, name="study add")
        problems = check_references([loc], store, [])
        if problems:
            raise InvalidInput(problems)
        from cards.editing import add_record

        cards = add_record(store, kind.name, loc.record, now())
        for warning in cards["warnings"]:
            click.echo(str(warning), err=True)
        click.echo(f"Added {kind.name} '{loc.record['id']}' ({cards['added']} new cards)")

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
        help=f"Add {article} {kind_name}. Missing required fields are asked for in a terminal.\n\n"
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
    from cards.editing import edit_record

    result = edit_record(obj.store(), kind, record_id, now(),
                         edit=lambda text: click.edit(text, extension=".toml"),
                         again=lambda problems: _again(problems))
    click.echo(result)


def _again(problems: list[Any]) -> bool:
    """Show the problems and offer another edit (without a terminal, the error says them)."""
    if not interactive():
        return False
    for p in problems:
        click.echo(str(p), err=True)
    return click.confirm("Edit again?", default=True, err=True)


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
    click.echo(f"Removed {kind} '{record_id}'; {retired} cards retired")


LIST_CHOICE = click.Choice([*PLURALS, "cards"])


@cli.command("list")
@click.argument("kind", type=LIST_CHOICE)
@click.option("--search", "-s", metavar="TEXT", help="Only entries containing TEXT (any case).")
@click.option("--tag", "-t", metavar="TAG", help="Only records with this tag.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_ctx
def list_(obj: Context, kind: str, search: str | None, tag: str | None, as_json: bool) -> None:
    """List records or cards: a table, or JSON with --json.

    KIND is one of people, organs, offices, tenures, events, facts, cards.

    \b
    Example:
      study list tenures --tag ussr
      study list cards --search Stalin --json
    """
    from cards.listing import list_cards, list_records

    store = obj.store()
    if kind == "cards":
        rows = list_cards(store, search=search, tag=tag)
    else:
        rows = list_records(store, PLURALS[kind].name, search=search, tag=tag)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from study.screen import print_table

    print_table(kind, rows)


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

    text = dump_toml(obj.store().all_records(), tag)
    if file == "-":
        click.echo(text, nl=False)
        return
    write_atomic(file, text.encode(), force=force)
    click.echo(f"Wrote {file}")


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
    for f in findings:
        click.echo(str(f))
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    click.echo(f"{errors} errors, {warnings} warnings")
    if errors:
        sys.exit(1)


# -- review ------------------------------------------------------------------

def local_timezone(name: str) -> Any:
    from study.due import local_timezone as resolve

    return resolve(name)


def _settings(config: dict[str, Any]) -> Any:
    from study.settings import Settings

    return Settings.from_config(config)


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

    from study.queue import Filters, Limits
    from study.session import ReviewSession
    from study.terminal import run, stdin_frontend

    store = obj.store()
    settings = _settings(store.config())
    tz = local_timezone(settings.timezone)
    session = ReviewSession(store, settings, tz, Filters(tag, kind), Limits(new_limit, limit),
                            order)

    def edit(session: ReviewSession, showing: Any) -> str | None:
        from cards.editing import edit_record

        card = showing.card
        from cards.registry import FAMILIES

        kind_, rid = FAMILIES[card["record_kind"]].edit_target(card["record_id"],
                                                               card["template"])
        return edit_record(session.store, kind_, rid, now(),
                           edit=lambda text: click.edit(text, extension=".toml"), again=_again)

    run(session, stdin_frontend(now, time.monotonic, tz, edit, type_answers))


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
    from study.due import counts_for, render

    conn = connect_current(obj.db_path) if Path(obj.db_path).exists() else None
    if conn is None:
        conn = obj.store().db.conn
    click.echo(render(counts_for(conn, now(), tag, kind), as_json))


@cli.command()
@pass_ctx
def undo(obj: Context) -> None:
    """Undo the last answer, even after the session ended.

    \b
    Example:
      study undo
    """
    from study.scheduler import undo as undo_last

    review = undo_last(obj.store().db.conn)
    click.echo(f"Undid the answer {review['rating']} to {review['card_key']} "
               f"given at {review['reviewed_at']}")


@cli.command()
@click.argument("keys", nargs=-1, required=True)
@pass_ctx
def suspend(obj: Context, keys: tuple[str, ...]) -> None:
    """Suspend cards: they are not shown until unsuspended.

    \b
    Example:
      study suspend organ:pravda:founded
    """
    from study.scheduler import set_suspended

    changed = set_suspended(obj.store().db.conn, list(keys), True)
    click.echo(f"Suspended {len(changed)} card{'s' if len(changed) != 1 else ''}")


@cli.command()
@click.argument("keys", nargs=-1, required=True)
@pass_ctx
def unsuspend(obj: Context, keys: tuple[str, ...]) -> None:
    """Unsuspend cards (leeches too).

    \b
    Example:
      study unsuspend organ:pravda:founded
    """
    from study.scheduler import set_suspended

    changed = set_suspended(obj.store().db.conn, list(keys), False)
    click.echo(f"Unsuspended {len(changed)} card{'s' if len(changed) != 1 else ''}")


@cli.group(invoke_without_command=True)
@click.pass_context
def config(ctx: click.Context) -> None:
    """Show the scheduler settings; `study config set KEY VALUE` changes one.

    \b
    Example:
      study config
      study config set desired_retention 0.85
      study config set learning_steps '1m 10m 1h'
    """
    if ctx.invoked_subcommand is None:
        from study.settings import DESCRIPTIONS

        values = _settings(ctx.obj.store().config()).to_config()
        for key, description in DESCRIPTIONS.items():
            value = values[key]
            shown = " ".join(f"{v:g}" for v in value) if key == "parameters" else value
            if isinstance(shown, bool):
                shown = str(shown).lower()
            click.echo(f"{key} = {shown}")
            click.echo(f"    {description}")


@config.command("set")
@click.argument("key")
@click.argument("value")
@pass_ctx
def config_set(obj: Context, key: str, value: str) -> None:
    """Change one setting; the value is checked.

    \b
    Example:
      study config set new_per_day 10
    """
    from study.settings import parse_setting

    parsed = parse_setting(key, value)
    obj.store().set_config(key, parsed)
    click.echo(f"{key} = {value}")


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
    click.echo(f"Fitted to {result.items:,} answers on {result.cards:,} cards:")
    click.echo(f"  {'parameters':<12}{'log loss':>10}{'RMSE (bins)':>13}")
    for name, metrics in (("current", result.current), ("fitted", result.fitted)):
        click.echo(f"  {name:<12}{metrics.log_loss:>10.4f}{metrics.rmse:>13.4f}")
    if not result.better:
        click.echo("The fitted parameters are not better (no lower log loss); "
                   "kept the current ones.")
    elif dry_run:
        click.echo("The fitted parameters are better; dry run, nothing saved.")
    else:
        store.set_config("parameters", list(result.parameters))
        click.echo("The fitted parameters are better; saved them (see `study config`).")


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


@export.command("anki")
@click.argument("out", type=click.Path(dir_okay=False))
@_export_options
@pass_ctx
def export_anki(obj: Context, out: str, deck: str, split_by: str | None, tag: str | None,
                kind: str | None, force: bool, quiet: bool) -> None:
    """Write an Anki package (.apkg): a note per record, the store's cards.

    Importing a newer export into Anki updates the notes that changed, in
    place, and keeps your reviews.

    \b
    Example:
      study export anki secretariat.apkg
      study export anki china.apkg --tag china --deck 'History::China' --force
    """
    from exports.anki import export_apkg

    with _export_progress(quiet) as progress:
        result = export_apkg(obj.store(), out, deck=deck, split_by=split_by, tag=tag,
                             kind=kind, force=force, progress=progress)
    click.echo(f"Wrote {out}: {result.summary()}")


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

    with _export_progress(quiet) as progress:
        result = write_csv(obj.store(), out, deck=deck, split_by=split_by, tag=tag, kind=kind,
                           separator=separator, force=force, progress=progress)
    click.echo(f"Wrote {out}: {result.summary()}")


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
    settings = _settings(store.config())
    tz = local_timezone(settings.timezone)
    figures = compute(store.db.conn, now(), tz, settings.rollover_hour, Filters(tag, kind))
    if as_json:
        click.echo(json.dumps(figures, indent=2, ensure_ascii=False))
        return
    render(figures)
