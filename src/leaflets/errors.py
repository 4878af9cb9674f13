"""The error tree: every failure a user can cause, with where and what.

    LeafletsError                 exit 1 unless a subclass says otherwise
    ├── InputError                exit 2: a file cannot be read or does not validate (all problems)
    │   └── AlreadyRendered       exit 2: the fill's folder holds another patient's (product's,
    │                             directions', lot's) record; --replace replaces it
    ├── SafetyError               exit 2: a rule refuses the fill (BUD, directions, abbreviations)
    ├── FitError                  exit 2: a field cannot fit its region at its minimum size
    ├── TemplateError             exit 3: a template is broken (a bug in templates/, not in input)
    ├── OutputError               exit 1: an output file cannot be written
    ├── WorkerLost                exit 1: a batch worker process died (killed?); rerun resumes
    └── Interrupted               exit 130 (Ctrl-C), 143 (SIGTERM), 129 (SIGHUP): a batch stopped
                                  cleanly between fills; rerun resumes

Each error keeps its parts as attributes (file, line, field, expected, got) so batch summaries
and tests use them without parsing the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, located as precisely as the input allows."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class LeafletsError(Exception):
    exit_code = 1


class InputError(LeafletsError):
    """One or more problems in input files; all of them are reported at once."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, file: str | Path, field: str, message: str, line: int | None = None) -> InputError:
        return cls([Problem(str(file), line, field, message)])


class AlreadyRendered(InputError):
    """Rendering would replace a record of another fill with the same Rx and fill number.
    `fields` names what differs; the message never shows the published values (patient data)."""

    def __init__(self, directory: Path, fields: list[str], message: str) -> None:
        self.directory = directory
        self.fields = tuple(fields)
        super().__init__([Problem(str(directory), None, "", message)])


class SafetyError(LeafletsError):
    """A domain rule refuses the input. `field` names the input field it concerns."""

    exit_code = 2

    def __init__(self, field: str, message: str, *, file: str | None = None,
                 line: int | None = None) -> None:
        self.field = field
        self.reason = message
        self.file = file
        self.line = line
        super().__init__(self._text())

    def _text(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        return f"{where}{self.field}: {self.reason}"

    def located(self, field: str, file: str, line: int | None) -> SafetyError:
        return SafetyError(field, self.reason, file=file, line=line)


class FitError(LeafletsError):
    """Text that cannot fit its region at the region's minimum size: never shrink or clip."""

    exit_code = 2

    def __init__(self, field: str, needed_pt: float, available_pt: float, detail: str, *,
                 file: str | None = None, line: int | None = None) -> None:
        self.field = field
        self.needed_pt = needed_pt
        self.available_pt = available_pt
        self.detail = detail
        self.file = file
        self.line = line
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        super().__init__(f"{where}{field}: {detail}")

    def located(self, field: str, file: str, line: int | None) -> FitError:
        return FitError(field, self.needed_pt, self.available_pt, self.detail, file=file,
                        line=line)


class TemplateError(LeafletsError):
    exit_code = 3


class OutputError(LeafletsError):
    """An output cannot be written; `errno` says why (a full disk stops a batch, a file in the
    way of one fill's folder fails that fill alone)."""

    exit_code = 1

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


class WorkerLost(LeafletsError):
    """A batch worker process died (killed, out of memory); the fills already done are kept."""

    exit_code = 1


class Interrupted(LeafletsError):
    """Ctrl-C, SIGTERM or SIGHUP: the batch stopped between fills; what is complete stays, and a
    rerun resumes. The exit code is the shell's for the signal (128 + its number)."""

    exit_code = 130

    def __init__(self, message: str, *, signal_number: int = 2) -> None:
        super().__init__(message)
        self.exit_code = 128 + signal_number
