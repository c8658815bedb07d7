"""The review session in the terminal: single keys in, rich panels out.

When standard input is not a terminal, keys are read from it one character
at a time (newlines ignored) and the output is plain text, so that
``printf ' 3 3 1q' | study review`` answers three cards and quits.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import signal
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import IO, Any, Protocol, TypeVar

import click

from cards.db import busy, from_iso
from cards.errors import CardsError
from cards.text import visible
from study.answers import Verdict, check, differences
from study.queue import Counts
from study.scheduler import RATINGS, CardMoved, NothingToUndo
from study.session import ReviewSession, Showing, Summary
from study.settings import format_interval

QUIT = {"q", "Q", "\x1b"}
REVEAL = {" ", "\r", "\n"}
ENTER = {"\r", "\n"}
HELP = """Keys
  Space/Enter  show the answer
  1 2 3 4      Again, Hard, Good, Easy (after the answer is shown)
  u            undo the last answer
  s            suspend this card
  b            bury this card until tomorrow
  e            edit this card's record in $EDITOR
  ?            this help
  q / Esc      quit (answers given are saved)
With --type: Enter takes the suggested grade; Esc or Ctrl-D at the answer
prompt quits."""


#: What an empty store says: how to put facts in it.
EMPTY = ("The store has no facts yet. Add some with `study add fact` (or person, organ, "
         "office, tenure, event), import a TOML file with `study import FILE`, or load the "
         "starter deck with `study init`.")


T = TypeVar("T")


class Keys(Protocol):
    def get(self) -> str: ...

    def line(self, prompt: str) -> str | None:
        """A typed line; None when the learner quits (Esc, Ctrl-D)."""

    def session(self) -> contextlib.AbstractContextManager[None]: ...

    def cooked(self) -> contextlib.AbstractContextManager[None]: ...


#: One key in what a terminal sends: an escape sequence (arrows, F-keys) or one character.
_KEY = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1bO.|.", re.DOTALL)


class TerminalKeys:
    """Single keys from a real terminal, without Enter.

    For the whole session the terminal is in cbreak mode (no echo, no line
    editing; Ctrl-C still interrupts), so keys typed while a card is drawn
    are kept and not echoed; several keys that arrive in one read are handed
    out one at a time. ``cooked()`` gives the terminal back for typing an
    answer or running the editor; the mode is restored on every exit,
    SIGTERM included, and re-applied after Ctrl-Z.
    """

    def __init__(self) -> None:
        import codecs

        self.pending: list[str] = []
        self.decoder = codecs.getincrementaldecoder(sys.stdin.encoding or "utf-8")("replace")
        self.fd = sys.stdin.fileno()
        self.saved: list[Any] | None = None
        self.single = False  # the terminal is in single-key mode

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        try:
            import termios
            import tty
        except ImportError:  # Windows: fall back to click.getchar in get()
            yield
            return
        self.saved = termios.tcgetattr(self.fd)

        def single_keys(*_: object) -> None:
            if self.single:  # not while an answer is typed or the editor runs
                tty.setcbreak(self.fd, termios.TCSANOW)  # TCSANOW: keep keys typed ahead

        def terminate(*_: object) -> None:
            raise SystemExit(143)

        # Ctrl-C quits even where SIGINT was ignored when we started (a shell's
        # background job): Python then installs no KeyboardInterrupt of its own.
        previous = {sig: signal.signal(sig, handler) for sig, handler in
                    ((signal.SIGTERM, terminate), (signal.SIGCONT, single_keys),
                     (signal.SIGINT, signal.default_int_handler))}
        self.single = True
        single_keys()
        try:
            yield
        finally:
            self.single = False
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.saved = None

    @contextlib.contextmanager
    def cooked(self) -> Iterator[None]:
        if self.saved is None:
            yield
            return
        import termios
        import tty

        self.single = False
        termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
        try:
            yield
        finally:
            self.single = True
            tty.setcbreak(self.fd, termios.TCSANOW)

    def get(self) -> str:
        if not self.pending:
            self.pending = _KEY.findall(self._read()) or [""]
        key = self.pending.pop(0)
        if key == "\x03":
            raise KeyboardInterrupt
        if key == "\x04":
            raise EOFError
        return key

    def _read(self) -> str:
        if self.saved is None:
            return click.getchar()
        while True:
            data = os.read(self.fd, 64)
            if not data:
                raise EOFError
            # a letter split between two reads (a paste, 'ł' typed) is kept whole
            text = self.decoder.decode(data)
            if text:
                return text

    def line(self, prompt: str) -> str | None:
        """A typed line, edited in single-key mode: Enter ends it; Esc or Ctrl-D
        (None) quit; Backspace and Ctrl-U erase; arrows and other keys are ignored."""
        if self.saved is None:  # no single-key mode (Windows): the terminal's own editing
            try:
                text = input(prompt)
            except EOFError:
                return None
            return None if text.startswith("\x1b") else text
        from rich.cells import cell_len

        out = sys.stdout
        out.write(prompt)
        out.flush()
        typed: list[str] = []
        while True:
            try:
                key = self.get()
            except EOFError:  # Ctrl-D
                out.write("\n")
                return None
            if key in ("\r", "\n"):
                out.write("\n")
                out.flush()
                return "".join(typed)
            if key == "\x1b":
                out.write("\n")
                return None
            if key in ("\x7f", "\x08"):
                if typed:
                    width = cell_len(typed.pop())
                    out.write("\b" * width + " " * width + "\b" * width)
            elif key == "\x15":  # Ctrl-U
                width = cell_len("".join(typed))
                out.write("\b" * width + " " * width + "\b" * width)
                typed.clear()
            elif len(key) == 1 and key.isprintable():
                typed.append(key)
                out.write(key)
            out.flush()


class StreamKeys:
    """Keys from a pipe or file, one character at a time; newlines are ignored."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def get(self) -> str:
        while True:
            ch = self.stream.read(1)
            if ch == "":
                raise EOFError
            if ch not in "\r\n":
                return ch

    def line(self, prompt: str) -> str | None:
        text = self.stream.readline()
        if text == "":
            raise EOFError
        text = text.rstrip("\r\n")
        return None if text.startswith(("\x1b", "\x04")) else text

    def session(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def cooked(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


def when(due: str | None, now: datetime, tz: tzinfo) -> str:
    """'in 10m (22:15)', 'in 3d (Wed 25 Nov)'."""
    if due is None:
        return "never: there are no cards in review"
    at = from_iso(due)
    delta = at - now
    local = at.astimezone(tz)
    if delta.total_seconds() <= 0:
        return "now"
    stamp = local.strftime("%H:%M") if delta.days < 1 else local.strftime("%a %d %b %Y %H:%M")
    return f"in {format_interval(delta)} ({stamp})"


def duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def buttons(showing: Showing) -> str:
    return "   ".join(f"{r} {RATINGS[r]} {format_interval(showing.previews[r])}"
                      for r in RATINGS)


class View(Protocol):
    def card(self, counts: Counts, answered: int, showing: Showing) -> None: ...

    def reveal(self, showing: Showing, verdict: Verdict | None) -> None: ...

    def say(self, text: str, style: str = "") -> None: ...

    def note(self, text: str, style: str = "") -> None:
        """Say what just happened to a card (undone, suspended, saved...), so that
        it stays in sight when the next card is drawn."""

    def summary(self, summary: Summary, text: str) -> None: ...


class PlainView:
    """Plain text, for pipes and scripts."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def _p(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def card(self, counts: Counts, answered: int, showing: Showing) -> None:
        self._p(f"[new {counts.new} · learning {counts.learning} · due {counts.review} · "
                f"answered {answered}]")
        if showing.changed:
            self._p("(answer changed since your last review)")
        self._p(f"Q: {visible(showing.card['question'])}")

    def reveal(self, showing: Showing, verdict: Verdict | None) -> None:
        if verdict:
            line = f"You typed: {visible(verdict.typed)}"
            if verdict.typed.strip() and verdict.result != "correct":
                marks = {"same": "{}", "wrong": "[-{}-]", "missing": "{{+{}+}}"}
                line += "   difference: " + "".join(
                    marks[how].format(visible(text))
                    for text, how in differences(verdict.typed.strip(), showing.card["answer"]))
            self._p(line)
            self._p(f"{verdict.detail} → suggested {verdict.grade} {RATINGS[verdict.grade]}")
        self._p(f"A: {visible(showing.card['answer'])}")
        for line in showing.context:
            self._p(f"   {visible(line)}")
        self._p(buttons(showing))

    def say(self, text: str, style: str = "") -> None:
        self._p(visible(text))

    def note(self, text: str, style: str = "") -> None:
        self._p(visible(text))

    def summary(self, summary: Summary, text: str) -> None:
        self._p(visible(text))


class RichView:
    """Panels and colours for a real terminal."""

    def __init__(self, type_answers: bool = False) -> None:
        from rich.console import Console

        self.console = Console(highlight=False)
        self.type_answers = type_answers
        self.notes: list[tuple[str, str]] = []

    def card(self, counts: Counts, answered: int, showing: Showing) -> None:
        from rich.panel import Panel
        from rich.text import Text

        self.console.clear()
        left = counts.new + counts.learning + counts.review
        done = answered / (answered + left) if answered + left else 1.0
        width = 20
        filled = round(done * width)
        header = Text.assemble(
            ("new ", "dim"), (str(counts.new), "bold blue"), ("   learning ", "dim"),
            (str(counts.learning), "bold red"), ("   due ", "dim"),
            (str(counts.review), "bold green"), ("   answered ", "dim"), (str(answered), "bold"),
            ("   ", ""), ("━" * filled, "green"), ("━" * (width - filled), "grey30"),
            (f" {done:.0%}", "dim"))
        self.console.print(header)
        for text, style in self.notes:  # the screen was cleared: say them again
            self.say(text, style)
        self.notes.clear()
        title = f"{showing.card['kind']} · {showing.reason}"
        if showing.changed:
            title += " · [yellow]answer changed[/]"
        self.console.print(Panel(Text(visible(showing.card["question"]), style="bold"), title=title,
                                 title_align="left", padding=(1, 2)))
        if self.type_answers:
            self.console.print("[dim]Type your answer and press Enter (empty: show it)   "
                               "Esc or Ctrl-D: quit[/]")
        else:
            self.console.print("[dim]Space: show answer   ?: help   q: quit[/]")

    def reveal(self, showing: Showing, verdict: Verdict | None) -> None:
        from rich.panel import Panel
        from rich.text import Text

        body = Text(visible(showing.card["answer"]), style="bold green")
        if showing.context:
            body.append("\n\n" + visible("\n".join(showing.context)), style="dim")
        if verdict:
            style = {"correct": "green", "close": "yellow", "wrong": "red"}[verdict.result]
            if verdict.typed.strip():
                # what was typed, as typed; beside it, letter by letter, what differs
                line = Text("You typed: ", style="dim")
                line.append(visible(verdict.typed.strip()))
                if verdict.result != "correct":
                    line.append("   difference: ", style="dim")
                    looks = {"same": "", "wrong": "red strike", "missing": "green underline"}
                    for text, how in differences(verdict.typed.strip(), showing.card["answer"]):
                        line.append(visible(text), looks[how])
                self.console.print(line)
            self.console.print(Text(f"{visible(verdict.detail)}  (suggested: {verdict.grade} "
                                    f"{RATINGS[verdict.grade]})", style=style))
        self.console.print(Panel(body, title="answer", title_align="left", padding=(1, 2)))
        styles = {1: "bold red", 2: "bold yellow", 3: "bold green", 4: "bold blue"}
        line = Text()
        for r, name in RATINGS.items():
            line.append(f"{r} {name} ", styles[r])
            line.append(format_interval(showing.previews[r]), "dim")
            line.append("   ")
        self.console.print(line)
        accept = (f"Enter: the suggested grade ({verdict.grade} {RATINGS[verdict.grade]})   "
                  if verdict else "")
        self.console.print(f"[dim]{accept}u undo   s suspend   b bury   e edit   ?: help   "
                           f"q: quit[/]")

    def say(self, text: str, style: str = "") -> None:
        from rich.text import Text

        self.console.print(Text(visible(text), style=style))

    def note(self, text: str, style: str = "") -> None:
        self.say(text, style)
        self.notes.append((text, style))

    def summary(self, summary: Summary, text: str) -> None:
        from rich.panel import Panel
        from rich.text import Text

        self.console.print(Panel(Text(visible(text)), title="session over", title_align="left"))


@dataclass
class Frontend:
    """Everything the loop needs from outside: keys, screen, clock and editor."""

    keys: Keys
    view: View
    clock: Callable[[], datetime]
    timer: Callable[[], float]
    edit: Callable[[ReviewSession, Showing], str | None]
    tz: tzinfo
    type_answers: bool = False


def summary_text(summary: Summary, now: datetime, tz: tzinfo, leeches: list[str]) -> str:
    lines = [f"Answered {summary.answered} card{'s' if summary.answered != 1 else ''} "
             f"({summary.again} Again) in {duration(summary.seconds)}.",
             f"Next card due: {when(summary.next_due, now, tz)}.",
             f"Due tomorrow: {summary.due_tomorrow}."]
    if leeches:
        lines.append(f"New leeches (suspended): {', '.join(leeches)}")
    return "\n".join(lines)


def run(session: ReviewSession, ui: Frontend) -> Summary:
    """Show cards until none is left or the learner quits; returns the summary."""
    try:
        with ui.keys.session():
            _loop(session, ui)
    except (KeyboardInterrupt, EOFError):
        ui.view.say("")
    now = ui.clock()
    summary = session.summary(now)
    ui.view.summary(summary, summary_text(summary, now, ui.tz, session.tally.leeches))
    return summary


class _Quit(Exception):
    pass


def _loop(session: ReviewSession, ui: Frontend) -> None:
    first = True
    while True:
        now = ui.clock()
        showing = session.next(now)
        if showing is None:
            counts = session.counts(now)
            if first and session.store.is_empty():
                ui.view.say(EMPTY)
            elif first:
                ui.view.say(f"Nothing to review now. Next card due: "
                            f"{when(counts.next_due, now, ui.tz)}.")
            else:
                ui.view.say("All done for now.", "bold green")
            return
        first = False
        try:
            _one(session, ui, showing)
        except _Quit:
            return


def _one(session: ReviewSession, ui: Frontend, showing: Showing) -> None:
    """Show one card until it is answered, skipped or the learner quits."""
    started = ui.timer()
    revealed = False
    verdict: Verdict | None = None
    ui.view.card(showing.counts or session.counts(ui.clock()), session.tally.answered,
                     showing)
    session.idle()
    while True:
        if ui.type_answers and not revealed:
            typed = ui.keys.line("Your answer: ")
            if typed is None:  # Esc or Ctrl-D
                raise _Quit
            verdict = check(typed, showing.card["answer"], showing.card["template"],
                            showing.aliases)
            revealed = True
            ui.view.reveal(showing, verdict)
            continue
        key = ui.keys.get()
        if key in QUIT:
            raise _Quit
        if key == "?":
            ui.view.say(HELP)
        elif key in REVEAL and not revealed:
            revealed = True
            ui.view.reveal(showing, None)
        elif key in ENTER and verdict is not None:
            _grade(session, ui, showing, verdict.grade, started)
            return
        elif key in REVEAL and verdict is not None:  # Space never grades
            ui.view.say(f"Enter takes the suggested grade ({verdict.grade} "
                        f"{RATINGS[verdict.grade]}); or press 1, 2, 3 or 4.", "yellow")
        elif revealed and key in "1234" and len(key) == 1:
            _grade(session, ui, showing, int(key), started)
            return
        elif key == "u":
            try:
                review = _until_unlocked(ui, lambda: session.undo(ui.clock()))
            except NothingToUndo as err:
                ui.view.say(str(err), "yellow")
                continue
            ui.view.note(f"Undid your answer to {review['card_key']}.", "yellow")
            return
        elif key == "s":
            _until_unlocked(ui, functools.partial(session.suspend, showing))
            ui.view.note(f"Suspended {showing.key}.", "yellow")
            return
        elif key == "b":
            _until_unlocked(ui, functools.partial(session.bury, showing, ui.clock()))
            ui.view.note(f"Buried {showing.key} until tomorrow.", "yellow")
            return
        elif key == "e":
            try:
                with ui.keys.cooked():
                    message = ui.edit(session, showing)
            except CardsError as err:
                ui.view.note(f"Not saved: {err}", "red")
                message = None
            except click.ClickException as err:  # the editor failed (vim's :cq)
                ui.view.note(f"Not saved: {err.format_message()}", "red")
                message = None
            except sqlite3.OperationalError as err:
                if not busy(err):
                    raise
                ui.view.note("Not saved: the store is locked by another program; edit again "
                             "when it is done", "red")
                message = None
            if message:
                ui.view.note(message)
            fresh = session.refresh(showing, ui.clock())
            if fresh is None:
                ui.view.note("The edit removed this card.", "yellow")
                return
            showing = fresh
            revealed, verdict = False, None
            ui.view.card(showing.counts or session.counts(ui.clock()), session.tally.answered,
                     showing)


#: Seconds between tries when another program holds the store's lock.
RETRY_SECONDS = 1.0


def until_unlocked(write: Callable[[], T], say: Callable[[str], None]) -> T:
    """Run ``write``; while another program holds the lock, ``say`` so once and try again.

    The store's busy timeout already waits some seconds; a longer lock (a
    backup, a sync, a database browser) must not end the session mid-card.
    """
    told = False
    while True:
        try:
            return write()
        except sqlite3.OperationalError as err:
            if not busy(err):
                raise
            if not told:
                say("The store is locked by another program; waiting for it (Ctrl-C quits)...")
                told = True
            time.sleep(RETRY_SECONDS)


def _until_unlocked(ui: Frontend, write: Callable[[], T]) -> T:
    return until_unlocked(write, lambda text: ui.view.say(text, "yellow"))


def _grade(session: ReviewSession, ui: Frontend, showing: Showing, rating: int,
           started: float) -> None:
    elapsed = int((ui.timer() - started) * 1000)
    try:
        result = _until_unlocked(ui, lambda: session.answer(showing, rating, ui.clock(),
                                                            elapsed))
    except CardMoved as err:
        ui.view.note(str(err), "yellow")
        return
    if result.leech:
        ui.view.note(f"{showing.key} has lapsed {session.settings.leech_threshold} times: "
                     f"tagged leech and suspended. Consider rewording its record.", "bold red")


def stdin_frontend(clock: Callable[[], datetime], timer: Callable[[], float], tz: tzinfo,
                   edit: Callable[[ReviewSession, Showing], str | None],
                   type_answers: bool) -> Frontend:
    """A front end for the real terminal, or a plain one when stdin is not a terminal."""
    if sys.stdin is None:  # started with standard input closed: no keys will come
        return Frontend(StreamKeys(io.StringIO("")), PlainView(sys.stdout), clock, timer, edit,
                        tz, type_answers)
    if sys.stdin.isatty():
        return Frontend(TerminalKeys(), RichView(type_answers), clock, timer, edit, tz,
                        type_answers)
    return Frontend(StreamKeys(sys.stdin), PlainView(sys.stdout), clock, timer, edit, tz,
                    type_answers)
