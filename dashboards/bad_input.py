"""What the board answers when a request carries a value no page offers (a hand-made
callback, an edited link): 400 with the reason, never a 500 with a stack trace. Real faults
(the warehouse copy missing, a bug in SQL) still answer 500. Every refusal is logged in one
line with the place that raised, so a bug cannot hide behind one (and a flood of bad
requests cannot flood the log with stack traces)."""

from __future__ import annotations

import logging
import traceback

from dash.exceptions import CallbackException, UnsupportedRelativePath
from werkzeug.exceptions import BadRequest

from dagster_project.lib.remediation.rules import LARGEST_ID, WorkflowError

log = logging.getLogger(__name__)

# What a value of the wrong type, shape or range raises in the code a callback runs: a
# day that is no date, an id that is no number, a dict where text belongs, a code no
# catalog knows, a page path that is not one (Dash's router).
BAD_INPUT = (ValueError, TypeError, KeyError, IndexError, AttributeError, WorkflowError,
             UnsupportedRelativePath)


def refuse_bad_input(err: Exception):
    """Dash's global callback error handler."""
    if not isinstance(err, BAD_INPUT):
        raise err
    reason = " ".join(str(err).split())[:200] or type(err).__name__
    where = traceback.extract_tb(err.__traceback__)[-1] if err.__traceback__ else None
    log.warning("refused a callback request: %s: %s%s", type(err).__name__, reason,
                f" (raised at {where.filename}:{where.lineno})" if where else "")
    raise BadRequest(f"bad request: {reason}") from err


def refuse_mismatched_request(err: CallbackException):
    """Flask's handler of Dash's request checks, which run before any callback (and so
    before refuse_bad_input): outputs or inputs that match no callback's definition (a
    hand-made request, e.g. a pattern-matching id sent as text) are the request's fault.
    Subclasses (a callback's invalid return value, ...) are the board's: still 500."""
    if type(err) is not CallbackException:
        raise err
    reason = " ".join(str(err).split())[:200]
    log.warning("refused a callback request: %s", reason)
    return BadRequest(f"bad request: {reason}")


def require_form_values(**fields) -> None:
    """A form's fields as the page sends them: text (or a list of texts), or nothing.
    Anything else was not sent by the page."""
    for name, value in fields.items():
        texts = value if isinstance(value, list) else [value]
        if not all(text is None or isinstance(text, str) for text in texts):
            raise BadRequest(f"bad request: {name} must be text")


def record_id(raw) -> int | None:
    """An issue or change id from a link or a form: a positive whole number the store can
    hold, else None."""
    text = str(raw)
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= LARGEST_ID else None
