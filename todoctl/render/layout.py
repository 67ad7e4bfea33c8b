"""Output that fits: every line readable at 80 columns, in a pipe and on a terminal, or whole with ``--wide``.

One rule for all text todoctl draws: it breaks between words, never inside one, unless a single
word is wider than the whole line. What counts as a word:

- in prose and in table cells, a run of characters without a space: a name, a path, a revision
  file, a URL (``ix_tasks_user_status_due`` is one word);
- in SQL (:class:`SqlText`), a token of PostgreSQL's own scanner (pglast): a long expression such
  as an index definition may break between ``to_tsvector(`` and ``'english'``, never inside a
  name, a literal or an operator.

Prose keeps its hanging indent (:class:`Hanging`): a line that starts with spaces, or with a
prefix such as ``Error:`` or ``  [X] 0003  ``, continues under its first word. The console that
every view prints on (render.console()) turns each printed line into one; plain writes that do
not go through Rich (an error on stderr, ``version``) use :func:`echo`, which does the same.

Tables (:func:`fit`): each column is at least as wide as its longest word, so a word is never
folded inside a cell; the widest columns give way first. When even that does not fit, the table
is drawn stacked instead: one block per row, ``header: value``. With ``--wide`` nothing folds:
tables take the width they need and long lines are not wrapped.

The width is Rich's: ``COLUMNS`` when set, else the terminal's, else 80 (a pipe). A *logical
line* (an error and its hint, the ``target:`` line, a revision of ``migrate status``, an invalid
index; printed with ``soft_wrap=True`` or through :func:`echo`) is folded only where the reader's
width is known (:func:`knows_width`: a terminal, or ``COLUMNS``): in a pipe or a file without
``COLUMNS`` it stays one line, for the scripts and CI logs that grep it.

Colours: Rich's own style names only (ANSI named colours, which every terminal theme maps to
something readable on its background); SQL uses the "ansi_dark" syntax theme (ANSI colours, no
fixed background). NO_COLOR and a pipe mean no colour at all (Rich reads NO_COLOR itself).
"""

from __future__ import annotations

import os
from typing import Any

from rich.cells import cell_len
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text

# The syntax theme of highlighted SQL: ANSI named colours and the terminal's own background,
# readable on light and dark themes alike (the default, monokai, paints light text on dark).
SQL_THEME = "ansi_dark"

# Wide enough for any table todoctl draws; a table without expand takes only what it needs.
WIDE_WIDTH = 10_000

# A hanging indent leaves at least this many columns for the text itself; a deeper one gives way.
MIN_BODY_WIDTH = 20


# --wide: tables at full width, nothing folded. Set by the CLI's root callback for one invocation
# (render never reads the CLI's state: data flows down).
wide = False


def is_wide() -> bool:
    return wide


# ---------------------------------------------------------------- words and SQL tokens


def _breaks_at_spaces(text: str) -> list[tuple[int, bool]]:
    """Where a line of prose may break: before each word (after the spaces that end the last)."""
    breaks, previous_space = [], False
    for i, ch in enumerate(text):
        if previous_space and not ch.isspace():
            breaks.append((i, True))
        previous_space = ch.isspace()
    return breaks


def sql_token_spans(text: str) -> list[tuple[int, int]] | None:
    """The (start, end) character spans of the SQL tokens of ``text``, by PostgreSQL's scanner
    (comments are tokens too); None when it cannot scan it (an unterminated quote)."""
    from pglast.parser import ParseError, scan

    try:
        tokens = scan(text)
    except ParseError:
        return None
    if text.isascii():
        return [(t.start, t.end + 1) for t in tokens]
    # The scanner counts bytes of UTF-8; a token starts and ends on a character boundary.
    data = text.encode("utf-8")

    def chars(offset: int) -> int:
        return len(data[:offset].decode("utf-8"))

    return [(chars(t.start), chars(t.end + 1)) for t in tokens]


# Tokens that stay on the line of the token before them (a closing bracket, a comma, a cast,
# a qualified name's dot), and tokens the next token stays with (a cast, a dot): a break there
# would leave ")" or "::text" alone at the start of a line.
_GLUED_TO_PREVIOUS = {")", "]", ",", ";", "::", "."}
_GLUED_TO_NEXT = {"::", "."}


def _sql_breaks(text: str) -> list[tuple[int, bool]]:
    """Where a line of SQL may break: between two tokens, unless one of them is glued to the other;
    ``True`` where spaces come before the break."""
    spans = sql_token_spans(text)
    if spans is None:
        return _breaks_at_spaces(text)
    breaks = []
    for (start, end), (next_start, next_end) in zip(spans, spans[1:]):
        if text[start:end] in _GLUED_TO_NEXT or text[next_start:next_end] in _GLUED_TO_PREVIOUS:
            continue
        breaks.append((next_start, text[end:next_start].isspace()))
    return breaks


def _divide(
    text: str, first: int, rest: int, breaks: list[tuple[int, bool]], *, whole_pieces: bool = False
) -> list[int]:
    """Offsets at which to cut ``text`` into a line of at most ``first`` cells, then lines of at
    most ``rest``: each at the last break that fits (one after spaces when that fills at least a
    third of the line); a piece wider than a whole line is folded where the line ends, or with
    ``whole_pieces`` kept whole on a line of its own (SQL to copy: never cut inside a literal)."""
    offsets: list[int] = []
    start = 0
    while cell_len(text[start:].rstrip()) > (width := max(first if not offsets else rest, 1)):
        last = last_spaced = None
        for offset, after_space in breaks:
            if offset <= start:
                continue
            if cell_len(text[start:offset].rstrip()) > width:
                break
            last = offset
            if after_space:
                last_spaced = offset
        if last_spaced is not None and cell_len(text[start:last_spaced].rstrip()) * 3 >= width:
            cut = last_spaced
        elif last is not None:
            cut = last
        elif whole_pieces:  # one token wider than the line: the whole of it, up to the next break
            cut = next((offset for offset, _ in breaks if offset > start), len(text))
        else:  # one word (or token) wider than the line
            cut, used = start, 0
            while cut < len(text) and used + cell_len(text[cut]) <= width:
                used += cell_len(text[cut])
                cut += 1
            cut = max(cut, start + 1)
        offsets.append(cut)
        start = cut
    return offsets


def _breaks(text: str, sql: bool) -> list[tuple[int, bool]]:
    return _sql_breaks(text) if sql else _breaks_at_spaces(text)


def widest_word(text: str, *, sql: bool = False) -> int:
    """The width of the longest piece of ``text`` that must stay on one line: a word, or in SQL
    what lies between two places :func:`_sql_breaks` allows a break."""
    if not sql:
        return max((cell_len(word) for word in text.split()), default=0)
    return max((_first_piece(line, sql=True, every=True) for line in text.splitlines()), default=0)


def _first_piece(line: str, *, sql: bool, every: bool = False) -> int:
    """The width of the first unbreakable piece of ``line`` (``every``: of the widest one)."""
    offsets = [0, *(offset for offset, _ in _breaks(line, sql)), len(line)]
    widths = [cell_len(line[a:b].strip()) for a, b in zip(offsets, offsets[1:])]
    return (max(widths) if every else widths[0]) if widths else 0


def _fold(body: Text, first: int, rest: int) -> list[Text]:
    """``body`` cut into lines: the first at most ``first`` cells wide, the others ``rest``."""
    sql = isinstance(body, SqlText)
    whole = sql and body.whole_tokens
    lines: list[Text] = []
    for number, line in enumerate(body.split("\n", allow_blank=True)):
        plain = line.plain
        width = first if number == 0 else rest
        offsets = _divide(plain, width, rest, _breaks(plain, sql), whole_pieces=whole)
        for number_in_line, piece in enumerate(line.divide(offsets)):
            if number_in_line:  # a folded word may leave the spaces after it at the start
                piece = piece[len(piece.plain) - len(piece.plain.lstrip(" ")):]
            piece.rstrip()
            lines.append(piece)
    return lines


class SqlText(Text):
    """SQL that wraps between PostgreSQL's tokens instead of at spaces only: in a table cell an
    index definition needs only as many columns as its longest name or literal.
    ``whole_tokens``: a token wider than the line (a long regex literal) is never cut but overflows,
    so that SQL copied from the terminal still runs."""

    whole_tokens = False

    def __rich_measure__(self, console, options) -> Measurement:
        lines = self.plain.splitlines()
        longest_line = max((cell_len(line) for line in lines), default=0)
        return Measurement(min(widest_word(self.plain, sql=True), longest_line), longest_line)

    def wrap(self, console, width, *, justify=None, overflow=None, tab_size=8, no_wrap=None):
        from rich.containers import Lines

        if no_wrap or self.no_wrap or overflow == "ignore":
            return super().wrap(console, width, justify=justify, overflow=overflow, tab_size=tab_size, no_wrap=no_wrap)
        return Lines(_fold(self, width, width))

    def copy(self) -> "SqlText":
        return as_sql(self)


def as_sql(text: Text) -> SqlText:
    """``text`` (its styles kept) as SQL that wraps between tokens."""
    shown = SqlText(text.plain, style=text.style, end=text.end)
    shown._spans[:] = text._spans
    shown.whole_tokens = getattr(text, "whole_tokens", False)
    return shown


def sql_text(text: str, style: str = "", *, whole_tokens: bool = False) -> SqlText:
    """SQL for a table cell or a line of prose: it wraps between tokens, never inside one."""
    shown = SqlText(text, style=style)
    shown.whole_tokens = whole_tokens
    return shown


def sql_statements(text: str) -> list[str]:
    """The statements of ``text``, each with its semicolon, split by PostgreSQL's scanner (a ``;``
    inside a literal stays); ``[text]`` when it cannot scan it."""
    from pglast import split
    from pglast.parser import ParseError

    try:
        return [f"{statement};" for statement in split(text, with_parser=False)]
    except ParseError:
        return [text]


# ---------------------------------------------------------------- prose with a hanging indent


class Hanging:
    """Text folded at word boundaries whose continuation lines start under its first word.

    ``Hanging(text)``: each line of ``text`` continues at its own leading spaces.
    ``Hanging(text, indent=n)``: the first ``n`` characters of each line are its prefix
    (``"  [X] 0003  "``), and the rest continues under the message.
    ``Hanging(body, prefix=label)``: ``label`` then ``body`` (which may be :class:`SqlText`),
    continuing under the body's first word.

    A word wider than what the indent leaves moves the continuation lines left rather than be
    folded; a prefix that leaves less than MIN_BODY_WIDTH columns keeps a small indent only.
    """

    def __init__(self, text: Text | str, *, indent: int | None = None, prefix: Text | str | None = None) -> None:
        self.text = Text(text) if isinstance(text, str) else text
        self.indent = indent
        self.prefix = Text(prefix) if isinstance(prefix, str) else prefix

    def _pairs(self) -> list[tuple[Text, Text]]:
        if self.prefix is not None:
            return [(self.prefix, self.text)]
        pairs = []
        for line in self.text.split("\n", allow_blank=True):
            plain = line.plain
            cut = self.indent if self.indent is not None else len(plain) - len(plain.lstrip(" "))
            cut = min(cut, len(plain))
            body = line[cut:]
            pairs.append((line[:cut], as_sql(body) if isinstance(self.text, SqlText) else body))
        return pairs

    def __rich_console__(self, console, options):
        if options.no_wrap or options.overflow == "ignore":
            flat = Text("\n").join(prefix + body for prefix, body in self._pairs())
            yield from flat.render(console)
            yield Segment.line()
            return
        width = options.max_width
        for prefix, body in self._pairs():
            for line in self._lines(prefix, body, width):
                yield from line.render(console)
                yield Segment.line()

    @staticmethod
    def _lines(prefix: Text, body: Text, width: int) -> list[Text]:
        sql = isinstance(body, SqlText)
        used = cell_len(prefix.plain)
        if used + cell_len(body.plain) <= width and "\n" not in body.plain:
            return [prefix + body]
        indent = used if width - used >= MIN_BODY_WIDTH else min(used, 2)
        widest = widest_word(body.plain, sql=sql)
        if widest > width - indent and not getattr(body, "whole_tokens", False):  # keep that word whole: continue further left
            indent = max(0, min(indent, width - widest))
        lead = Text(" " * indent)
        first_line = body.plain.split("\n", 1)[0]
        if body.plain and _first_piece(first_line, sql=sql) <= width - used:
            pieces = _fold(body, width - used, width - indent)
            return [prefix + pieces[0], *(lead + piece for piece in pieces[1:])]
        # the first word does not fit beside the prefix: the prefix alone, then the text
        head = prefix.copy()
        head.rstrip()
        return [head, *(lead + piece for piece in _fold(body, width - indent, width - indent) if body.plain)]

    def __rich_measure__(self, console, options) -> Measurement:
        flat = Text("\n").join(prefix + body for prefix, body in self._pairs())
        measured = Measurement.get(console, options, flat)
        if isinstance(self.text, SqlText):
            return Measurement(widest_word(self.text.plain, sql=True), measured.maximum)
        return measured


def hanging(text: Text | str, *, indent: int | None = None, prefix: Text | str | None = None) -> Hanging:
    """See :class:`Hanging`: ``out.print(hanging(Text(line), indent=len(marker)))``."""
    return Hanging(text, indent=indent, prefix=prefix)


def shorten(text: str, width: int) -> str:
    """``text`` on one line of at most ``width`` cells: cut after the last whole word that fits,
    with "…" where it was cut (``explain list``'s descriptions; ``explain show`` has them whole)."""
    text = " ".join(text.split())
    if cell_len(text) <= width:
        return text
    kept = ""
    for word in text.split(" "):
        candidate = f"{kept} {word}" if kept else word
        if cell_len(candidate) + 1 > width:
            break
        kept = candidate
    if not kept:  # not even the first word fits: fold nothing, cut it
        kept = text[: max(width - 1, 0)]
    return kept.rstrip(",;:") + "…"


def knows_width(console) -> bool:
    """Whether ``console``'s width is the reader's: it writes to a terminal, or ``COLUMNS`` says
    the width. Otherwise (a pipe, a file) its 80 columns are Rich's guess."""
    return console.is_terminal or os.environ.get("COLUMNS", "").strip().isdigit()


def echo(text: str, *, stderr: bool = False, indent: int | None = None, prefix: str | None = None) -> None:
    """Logical lines (an error, a ``target:`` line, ``version``) on stdout or stderr, folded at
    words where the width is known (:func:`knows_width`), else one line each: ``prefix``
    (``"Error: "``) then ``text``, continuing under its first word; or ``indent``: the width of
    each line's own prefix (``"data directory:  "``)."""
    out = make_console(stderr=stderr)
    out.print(Hanging(Text(text), indent=indent, prefix=prefix), soft_wrap=True)


# ---------------------------------------------------------------- tables


def fit(renderable: Any, *, wide: bool | None = None, width: int | None = None, console=None) -> Any:
    """``renderable`` made to fit ``width`` (the console's) without cutting a word: every table in
    it sized so that no word is split (:func:`_widths`), or drawn stacked when it cannot be; prose
    (Text) folded with its hanging indent."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table

    wide = is_wide() if wide is None else wide
    if isinstance(renderable, Table):
        if wide:
            _unfolded(renderable)
        elif width:
            widths = _widths(renderable, width, console)
            if widths is None:
                return stacked(renderable, console=console, width=width)
            for column, column_width in zip(renderable.columns, widths):
                column.width = column_width
                column.overflow = "fold"  # only a word wider than the screen ever gets here
        for column in renderable.columns:
            for cell in column._cells:
                fit(cell, wide=wide, console=console)
    elif isinstance(renderable, Group):
        parts = renderable.renderables  # Rich keeps this list: replacing an item redraws it
        for i, part in enumerate(parts):
            parts[i] = fit(part, wide=wide, width=width, console=console)
    elif isinstance(renderable, Padding):
        inner = width - renderable.left - renderable.right if width else None
        renderable.renderable = fit(renderable.renderable, wide=wide, width=inner, console=console)
    elif type(renderable) is Text and width and not wide:
        return Hanging(renderable)
    return renderable


def _unfolded(table) -> None:
    """--wide: every column as wide as its longest line."""
    table.expand = False
    for column in table.columns:
        column.no_wrap = True
        column.overflow = "fold"


def _measuring_console(console):
    if console is not None:
        return console
    from rich.console import Console

    return Console(width=WIDE_WIDTH, highlight=False)


def _widths(table, width: int, console=None) -> list[int] | None:
    """Each column's width (without padding) inside ``width``, or None when the table cannot fit.

    A column needs its longest word (SQL: its longest token; a ``no_wrap`` column, when there
    is room: its longest line) and would like its longest line; the widest columns give way
    first, none below what it needs. No word is ever folded."""
    console = _measuring_console(console)
    options = console.options.update_width(WIDE_WIDTH)
    table.expand = False
    pads = [table._get_padding_width(i) for i in range(len(table.columns))]
    available = width - table._extra_width - sum(pads)
    needs, likes = [], []
    for column in table.columns:
        low = high = 1
        for cell in (column.header, *column._cells):
            measured = Measurement.get(console, options, cell)
            low, high = max(low, measured.minimum, _indented_word(cell)), max(high, measured.maximum)
        if column.min_width:
            low, high = max(low, column.min_width), max(high, column.min_width)
        needs.append(low)
        likes.append(high)
    if sum(needs) > available:
        return None
    # A no_wrap column (a check's name) stays on one line when the others can still fit.
    keep = [max(low, high) if column.no_wrap else low for column, low, high in zip(table.columns, needs, likes)]
    if sum(keep) <= available:
        needs = keep
    for column in table.columns:
        column.no_wrap = False
    if sum(likes) <= available:
        return likes
    # The largest cap on column widths that fits, then what is left, one column at a time.
    low, high = 0, max(likes)
    while low < high:
        cap = (low + high + 1) // 2
        if sum(max(need, min(like, cap)) for need, like in zip(needs, likes)) <= available:
            low = cap
        else:
            high = cap - 1
    widths = [max(need, min(like, low)) for need, like in zip(needs, likes)]
    spare = available - sum(widths)
    for i in sorted(range(len(widths)), key=lambda i: -likes[i]):
        if spare <= 0:
            break
        if widths[i] < likes[i]:
            widths[i] += 1
            spare -= 1
    return widths


def _indented_word(cell: Any) -> int:
    """The width of the widest line start of ``cell``: its indent and first word, which Rich
    folds together (``"  estimated_hours"`` needs 17 columns, not the 15 its longest word says)."""
    plain = _plain(cell)
    if not plain:
        return 0
    widest = 0
    for line in plain.splitlines():
        words = line.split()
        if words and line[:1].isspace():
            widest = max(widest, cell_len(line[: len(line) - len(line.lstrip())]) + cell_len(words[0]))
    return widest


def _plain(cell: Any) -> str | None:
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return None


def stacked(table, *, console=None, width: int | None = None):
    """The rows of ``table`` as blocks: the first cell in bold, followed on its line by the short
    values of the table's ``no_wrap`` columns (a status), then ``header: value`` lines whose values
    continue under their first word."""
    from rich.console import Group
    from rich.padding import Padding

    def as_text(cell: Any):
        if isinstance(cell, str):
            return Text.from_markup(cell)
        return cell

    parts: list = []
    if table.title:
        parts.append(as_text(table.title))
    headers = [_plain(column.header) or "" for column in table.columns]
    beside = [column.no_wrap for column in table.columns]
    for row in zip(*(column._cells for column in table.columns)):
        first = as_text(row[0])
        if isinstance(first, Text):
            first = first.copy()
            first.stylize("bold")
            for cell, short in zip(row[1:], beside[1:]):
                value = as_text(cell)
                if short and isinstance(value, Text) and value.plain.strip():
                    first.append_text(Text("  ") + value)
            first = Hanging(first)
        parts.append(first)
        for header, cell, short in zip(headers[1:], row[1:], beside[1:]):
            value = as_text(cell)
            if short and isinstance(first, Hanging) and isinstance(value, Text):
                continue  # shown beside the first cell
            label = Text(f"{header}: ", style="dim") if header else Text("")
            if isinstance(value, Text):
                if value.plain.strip():
                    parts.append(Hanging(value, prefix=Text("  ") + label))
                continue
            field = Group(label, fit(value, width=(width - 2) if width else None, console=console))
            parts.append(Padding(field, (0, 0, 0, 2), expand=False))
    if table.caption:
        parts.append(as_text(table.caption))
    return Group(*parts)


def make_console(stderr: bool = False):
    """A Rich console whose print() fits what it prints first (tables, prose); ``--wide``: as wide as the output."""
    from rich.console import Console

    wide = is_wide()

    class FittingConsole(Console):
        def print(self, *objects: Any, **options: Any) -> None:
            if options.get("soft_wrap") and not wide and knows_width(self):
                options["soft_wrap"] = False  # a logical line folds where the reader's width is known
            if not wide and not options.get("soft_wrap") and objects and all(isinstance(o, (str, Text)) for o in objects):
                objects = (self._prose(objects, options),)
            super().print(*(fit(o, width=self.width, console=self) for o in objects), **options)

        def _prose(self, objects, options) -> Hanging:
            """The objects of one print() as one Text, the way Rich would join them."""
            sep = options.pop("sep", " ")
            if len(objects) == 1 and isinstance(objects[0], Text):  # SqlText stays SqlText
                return Hanging(objects[0])
            markup, emoji = options.pop("markup", None), options.pop("emoji", None)
            highlight = options.pop("highlight", None)
            texts = [
                o if isinstance(o, Text) else self.render_str(o, markup=markup, emoji=emoji, highlight=highlight)
                for o in objects
            ]
            return Hanging(Text(sep).join(texts))

    extra = {"width": WIDE_WIDTH} if wide else {}
    return FittingConsole(stderr=stderr, highlight=False, soft_wrap=wide, **extra)


def sql(text: str) -> SqlText:
    """SQL, highlighted in ANSI colours, that wraps between tokens (never inside a name or a literal)."""
    from rich.syntax import Syntax

    highlighted = Syntax(text, "sql", theme=SQL_THEME, background_color="default").highlight(text)
    highlighted.rstrip()
    return as_sql(highlighted)
