"""The live view of a run: the driver's phases tell one sink what they are doing.

Events: `start` (the run's first line), `phase_start`, `advance` (work done inside a phase),
`generation` (after each generation of a search), `phase_end`, `note` (a line of the run's log) and
`summary` (the front table and the files written). `use(sink)` chooses the sink for the length of a command;
code that runs without one (the Python API, tests) logs plain lines to stderr. Sinks:

- `Terminal`: rich progress bars on stderr, one per phase while it runs, a line per phase once it ends; the
  search's bar shows generations, candidates evaluated per second, the best value of each objective, the
  hypervolume and the ETA.
- `Lines`: what a log wants (CI, pipes): one line per phase and about ten lines per search, on stderr; the
  run's first line comes with the first phase's (so a run that fails at once prints its error line alone).
- `JsonLines`: one JSON object per event on stdout (`{"event": "generation", ...}`), for programs.
- `Progress` itself is the quiet sink: nothing but the front table.

Warnings and errors are not events: every mode prints them to stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass

import rich.console
import rich.progress
import rich.text

from stitchc.evolve.objectives import Evaluation
from stitchc.ir.printable import printable

GENERATION_LINES = 10  # generation lines a Lines log prints per search


@dataclass(frozen=True)
class Generation:
    """The state of a search after one generation."""

    generation: int
    generations: int | None  # None: the search runs until its budget
    evaluated: int  # distinct candidates so far (reused ones included)
    best: dict[str, float]  # objective label -> best value so far
    hypervolume: float
    budget: int | None = None  # distinct candidates the search may evaluate

    @property
    def done(self) -> tuple[int, int]:
        """(done, total) in the unit the search is bounded by: candidates under a budget, else generations."""
        if self.budget is not None:
            return self.evaluated, self.budget
        return self.generation, self.generations or 0

    def __str__(self) -> str:
        if self.budget is not None:
            return f"generation {self.generation}"
        return f"generation {self.generation}/{self.generations}"


def generation_record(
    generation: int,
    generations: int | None,
    archive: list[Evaluation],
    objectives,
    hypervolume: float,
    budget: int | None = None,
) -> Generation:
    """The record of a generation: the archive's size and the best value of each objective in it."""
    best = {}
    for index, objective in enumerate(objectives):
        pick = max if objective.direction == "maximize" else min
        best[objective.label] = pick(e.values[index] for e in archive) if archive else float("nan")
    return Generation(generation, generations, len(archive), best, hypervolume, budget)


class Progress:
    """The quiet sink and the interface of every sink: it keeps the clock of the current phase and shows
    nothing but the front table."""

    def __init__(self) -> None:
        self.name = self.phase = ""  # the running phase's name and description
        self.started = self.phase_started = time.perf_counter()
        self.completed, self.total = 0, None
        self.first: tuple[float, int] | None = None  # (time, evaluated) at the search's first generation
        self.first_done = 0

    def start(self, title: str) -> None:
        """The run begins."""

    def phase_start(self, phase: str, description: str, total: int | None = None) -> None:
        self.name, self.phase, self.completed, self.total = phase, description, 0, total
        self.phase_started, self.first = time.perf_counter(), None
        self.logged = -1  # the tenth of the search last logged (Lines)

    def advance(self, steps: int = 1) -> None:
        self.completed += steps

    def generation(self, record: Generation) -> None:
        self.completed = record.done[0] + 1
        if self.first is None:
            self.first, self.first_done = (time.perf_counter(), record.evaluated), record.done[0]

    def phase_end(self, detail: str = "") -> None:
        """The phase is over; `detail` says what it did."""
        self.show_end(detail)
        self.name = self.phase = ""

    def show_end(self, detail: str) -> None:
        """Shows the end of the phase (the phase's fields are still set)."""

    def note(self, message: str) -> None:
        """A line of the run's log."""

    def summary(self, table: str, files: list[str], front: list[dict]) -> None:
        """The run is over: the front table (stdout), then the files written."""
        print(printable(table, lines=True), flush=True)

    def close(self) -> None:
        """The command is over (also on errors and Ctrl-C): stop drawing."""

    def elapsed(self) -> float:
        return time.perf_counter() - self.phase_started

    def rate(self, record: Generation) -> float:
        """Candidates evaluated per second since the search's first generation ended (0 before the second)."""
        if self.first is None:
            return 0.0
        seconds = time.perf_counter() - self.first[0]
        return (record.evaluated - self.first[1]) / seconds if seconds > 0 else 0.0

    def eta(self, record: Generation) -> float | None:
        """Seconds left in the search at the pace of the generations after the first (which also starts the
        workers and evaluates the parents); None before the second and after the last."""
        position, total = record.done
        done = position - (self.first_done if self.first else position)
        if done <= 0 or position >= total:
            return None
        return (time.perf_counter() - self.first[0]) / done * (total - position)


def describe(record: Generation, rate: float, eta: float | None) -> str:
    """`412 evaluated, 14.2/s, best accuracy(mnist.val) 0.9861, macs 23,680, hypervolume 0.8097, ETA 1m05s`."""
    best = ", ".join(f"{label} {_value(value)}" for label, value in record.best.items())
    parts = [f"{record.evaluated:,} evaluated"] + ([f"{rate:.1f}/s"] if rate else [])
    parts += [f"best {best}", f"hypervolume {record.hypervolume:.4f}"]
    return ", ".join(parts + ([f"ETA {_duration(eta)}"] if eta is not None else []))


def _value(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() and abs(value) >= 1000 else f"{value:.4g}"


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m{seconds:02d}s"


def written(files: list[str]) -> list[str]:
    """The summary's closing lines: front.json and report.html, then the models."""
    documents = [f for f in files if not f.endswith((".onnx", ".pt2"))]
    models = [f for f in files if f.endswith((".onnx", ".pt2"))]
    lines = [f"wrote {', '.join(documents)}"] if documents else []
    for folder in dict.fromkeys(os.path.dirname(f) for f in models):
        names = [os.path.basename(f) for f in models if os.path.dirname(f) == folder]
        kind = "ONNX models" if names[0].endswith(".onnx") else "models"
        lines.append(f"wrote {len(names)} {kind} to {folder or '.'}: {', '.join(names)}")
    return lines


class Lines(Progress):
    """Plain lines on stderr: one line per phase when it ends (with its time), about GENERATION_LINES lines
    per search."""

    title = ""

    def print(self, message: str) -> None:
        print(printable(message, lines=True), file=sys.stderr, flush=True)

    def start(self, title: str) -> None:
        """Printed with the first phase's end line, so that a run failing before (a bad spec, an unreadable
        model) prints its error line alone."""
        self.title = title

    def generation(self, record: Generation) -> None:
        super().generation(record)
        position, total = record.done
        tenth = position * GENERATION_LINES // max(total, 1)
        if tenth != self.logged or position >= total:
            self.logged = tenth
            self.print(f"  {record}: {describe(record, self.rate(record), self.eta(record))}")

    def show_end(self, detail: str) -> None:
        if self.title:
            self.print(self.title)
            self.title = ""
        self.print(f"{detail or self.phase} ({self.elapsed():.1f} s)")

    def note(self, message: str) -> None:
        self.print(message)

    def summary(self, table: str, files: list[str], front: list[dict]) -> None:
        super().summary(table, files, front)
        for line in written(files):
            self.print(line)


class _Bars(rich.progress.Progress):
    """rich's progress bars, each followed by its task's `info` on a line of its own (it is long)."""

    def get_renderables(self):
        yield self.make_tasks_table(self.tasks)
        for task in self.tasks:
            if task.fields.get("info"):
                yield rich.text.Text("  " + task.fields["info"], overflow="fold")


class Terminal(Lines):
    """Lines, plus a rich progress bar for the phase that is running (on stderr)."""

    def __init__(self, console: rich.console.Console | None = None) -> None:
        super().__init__()
        self.console = console or rich.console.Console(stderr=True)
        self.bars = _Bars(
            rich.progress.SpinnerColumn(),
            rich.progress.TextColumn("{task.description}"),
            rich.progress.BarColumn(),
            rich.progress.MofNCompleteColumn(),
            rich.progress.TimeElapsedColumn(),
            console=self.console,
        )
        self.bars.start()
        self.task = None

    def print(self, message: str) -> None:
        self.console.print(printable(message, lines=True), markup=False, highlight=False)

    def start(self, title: str) -> None:
        self.print(title)  # at once: the bars follow

    def phase_start(self, phase: str, description: str, total: int | None = None) -> None:
        super().phase_start(phase, description, total)
        self._drop()
        self.task = self.bars.add_task(description, total=total, info="")

    def advance(self, steps: int = 1) -> None:
        super().advance(steps)
        if self.task is not None:
            self.bars.update(self.task, completed=self.completed)

    def generation(self, record: Generation) -> None:
        Progress.generation(self, record)
        eta = self.eta(record)
        if self.task is not None:
            self.bars.update(
                self.task,
                completed=record.done[0] + 1,
                total=record.done[1] + 1,
                info=describe(record, self.rate(record), eta),
            )

    def show_end(self, detail: str) -> None:
        self._drop()
        super().show_end(detail)

    def close(self) -> None:
        self._drop()
        self.bars.stop()

    def _drop(self) -> None:
        if self.task is not None:
            self.bars.remove_task(self.task)
            self.task = None


class JsonLines(Progress):
    """One JSON object per event on stdout: {"event": ..., "seconds": since the run started, ...}."""

    def emit(self, event: str, **fields) -> None:
        fields = {"event": event, "seconds": round(time.perf_counter() - self.started, 3), **fields}
        print(json.dumps(fields), flush=True)

    def start(self, title: str) -> None:
        self.emit("start", title=title)

    def phase_start(self, phase: str, description: str, total: int | None = None) -> None:
        super().phase_start(phase, description, total)
        self.emit("phase_start", phase=phase, description=description, total=total)

    def advance(self, steps: int = 1) -> None:
        super().advance(steps)
        self.emit("advance", phase=self.name, completed=self.completed, total=self.total)

    def generation(self, record: Generation) -> None:
        super().generation(record)
        fields = asdict(record)
        fields["per_second"] = round(self.rate(record), 3)
        eta = self.eta(record)
        fields["eta_seconds"] = round(eta, 3) if eta is not None else None
        self.emit("generation", **fields)

    def show_end(self, detail: str) -> None:
        self.emit("phase_end", phase=self.name, detail=detail or self.phase, phase_seconds=round(self.elapsed(), 3))

    def note(self, message: str) -> None:
        self.emit("note", message=message)

    def summary(self, table: str, files: list[str], front: list[dict]) -> None:
        self.emit("summary", files=files, front=front)


_current: Progress = Lines()


def current() -> Progress:
    """The sink of the command that is running (plain lines on stderr outside a command)."""
    return _current


@contextlib.contextmanager
def use(sink: Progress):
    """Makes `sink` the current sink for the block, and closes it on leaving (errors and Ctrl-C included)."""
    global _current
    previous, _current = _current, sink
    try:
        yield sink
    finally:
        _current = previous
        sink.close()


def choose(quiet: bool, as_json: bool) -> Progress:
    """The sink for the command line: --json, --quiet, rich bars on a terminal, plain lines otherwise."""
    if as_json:
        return JsonLines()
    if quiet:
        return Progress()
    return Terminal() if sys.stderr.isatty() else Lines()
