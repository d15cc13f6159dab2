"""Kairos's rules that JSON Schema cannot write, taught to Schemathesis's generator.

The OpenAPI document states every rule it can (lengths, ranges, patterns, enums, required and
either-or fields). What is left relates two fields, or a field and the clock, or a list of
common passwords; a schema-valid request breaking one of these is rightly a 422. These hooks
rewrite only *positive* cases (the ones Schemathesis expects to be accepted) so that they keep
the rules; negative cases go out as generated. Every check still runs on every operation.
"""

from __future__ import annotations

import json
import os
import urllib.request
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import schemathesis

COMMON_PASSWORDS = {
    line.strip().lower()
    for line in (Path(__file__).resolve().parent.parent / "kairos" / "assets" / "common-passwords.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip() and not line.startswith("#")
}

# A session lasts at most 24 hours; a series stays within a year and 200 sessions.
MAX_SESSION = timedelta(hours=24)
# The widest `until` that cannot make more than 200 sessions, seven days a week.
MAX_UNTIL_DAYS = 190
# `from`..`to` of a range is at most 366 days.
MAX_RANGE = timedelta(days=366)
# Booking a session that has started, or is closer than the service's booking notice (at most
# 366 days), is a 422 by the contract. Sessions the run adds or moves start beyond that, so the
# bookings the stateful phase makes of them through the document's links can be accepted.
BOOKABLE_FROM = timedelta(days=400)


def _time(raw: str) -> datetime | None:
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except (AttributeError, ValueError):
        return None


def _text(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _is_positive(case) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


def _bookable_start(body: dict) -> datetime | None:
    start = _time(body.get("startsAt"))
    if start is None:
        return None
    earliest = datetime.now(timezone.utc) + BOOKABLE_FROM
    if start < earliest:
        # Keep the generated time of day; only the date moves.
        start = start.astimezone(timezone.utc).replace(
            year=earliest.year, month=earliest.month, day=earliest.day
        ) + timedelta(days=1)
        body["startsAt"] = _text(start)
    return start


def _session_times(body: dict) -> None:
    """A start that can be booked; `endsAt` after it by at most 24 hours; a series' `until`
    after it."""
    start = _bookable_start(body)
    if start is None:
        return
    end = _time(body.get("endsAt")) if "endsAt" in body else None
    if "endsAt" in body and (end is None or not (start < end <= start + MAX_SESSION)):
        body["endsAt"] = _text(start + timedelta(hours=1))
    repeat = body.get("repeat")
    if isinstance(repeat, dict) and isinstance(repeat.get("until"), str):
        try:
            until = date.fromisoformat(repeat["until"])
        except ValueError:
            return
        # One day of slack: the service's time zone may already be on the next day.
        first = start.astimezone(timezone.utc).date()
        if not (first + timedelta(days=1) <= until <= first + timedelta(days=MAX_UNTIL_DAYS)):
            repeat["until"] = (first + timedelta(days=28)).isoformat()


def _session_edit(body: dict) -> None:
    """A new `endsAt` alone is measured against the current start, which the fuzzer cannot
    know; give the start with it (`null` is the same as leaving it out)."""
    if "endsAt" in body and body.get("startsAt") is None:
        end = _time(body["endsAt"])
        if end is not None:
            body["startsAt"] = _text(end - timedelta(hours=1))
    _session_times(body)


def _range(query: dict) -> None:
    """`to` after `from` (which defaults to now) by at most 366 days."""
    if "to" not in query:
        return
    start = _time(query.get("from")) if "from" in query else datetime.now(timezone.utc)
    end = _time(query["to"])
    if start is None:
        return
    if end is None or not (start < end <= start + MAX_RANGE):
        query["to"] = _text(start + timedelta(days=30))


_keys_sent = 0


def _fresh_idempotency_key(case) -> None:
    """A key names one attempt: a different booking with a key already used is a 422
    (`idempotency_key_reused`), as the Idempotency-Key draft asks."""
    global _keys_sent
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and isinstance(headers[name], str):
            _keys_sent += 1
            headers[name] = f"{headers[name][:240]}-{_keys_sent}"


def _password(body: dict) -> None:
    password = body.get("password")
    if isinstance(password, str) and password.lower() in COMMON_PASSWORDS:
        body["password"] = password[:100] + " not common"


# Every webhook the run saves points at loopback by name: without --webhook-allow-networks the
# server never connects there, and no run ever sends traffic off this machine.
WEBHOOK_URL = "http://localhost:9/hook"
EVENT_NAMES = [
    "booking.created", "booking.moved", "booking.cancelled", "booking.completed",
    "session.moved", "session.cancelled", "service.published", "service.archived",
]


def _webhook(body: dict, positive: bool) -> None:
    url = body.get("url")
    # Every URL the schema allows (at most 2000 characters, no NUL) is rewritten, whatever the
    # case: the server trims and parses leniently, so no generated string may reach it as a URL.
    # Only a string the schema refuses stays, and the server refuses it before saving anything.
    if isinstance(url, str) and len(url) <= 2000 and "\x00" not in url:
        body["url"] = WEBHOOK_URL
    events = body.get("events")
    if positive and isinstance(events, list):
        # Known names, each once (or "*" alone): the rule the schema's plain strings cannot say.
        body["events"] = EVENT_NAMES[: max(1, min(len(events), len(EVENT_NAMES)))]


def _window(item: dict) -> None:
    """`to` after `from` (both HH:MM, which the schema does say)."""
    start, end = item.get("from"), item.get("to")
    if isinstance(start, str) and isinstance(end, str) and end <= start:
        item["from"], item["to"] = "00:00", "23:59"


def _availability(body: dict) -> None:
    # Windows with `to` after `from`; each exception's date once, either closed or with hours;
    # and few enough windows and days that the rule stays under its 20,000 sessions (and the
    # run does not fill the database with them).
    weekly = body.get("weekly")
    if isinstance(weekly, list):
        del weekly[2:]
        for item in weekly:
            if isinstance(item, dict):
                _window(item)
    horizon = body.get("horizonDays")
    body["horizonDays"] = min(horizon, 3) if isinstance(horizon, int) else 3
    exceptions = body.get("exceptions")
    if isinstance(exceptions, list):
        seen, kept = set(), []
        for item in exceptions:
            if not isinstance(item, dict) or item.get("date") in seen:
                continue
            seen.add(item.get("date"))
            if item.get("closed") is True:
                item.pop("from", None)
                item.pop("to", None)
            elif isinstance(item.get("from"), str) and isinstance(item.get("to"), str):
                item.pop("closed", None)
                _window(item)
            else:
                item.pop("from", None)
                item.pop("to", None)
                item["closed"] = True
            kept.append(item)
        body["exceptions"] = kept


@schemathesis.hook
def map_case(context, case):
    label = case.operation.label
    body = case.body if isinstance(case.body, dict) else None
    if body is not None and "/webhooks" in label:
        _webhook(body, _is_positive(case))
    if not _is_positive(case):
        return case
    if body is not None:
        if label.endswith("/sessions") and label.startswith("POST "):
            _session_times(body)
        elif label.startswith("PATCH ") and label.endswith("/sessions/{sessionID}"):
            _session_edit(body)
        elif label in ("POST /api/users", "PUT /api/users", "POST /api/user/{adminID}/create"):
            _password(body)
        elif label.startswith("PUT ") and label.endswith("/availability"):
            _availability(body)
    if label == "POST /api/user/{userID}/book":
        _fresh_idempotency_key(case)
    if isinstance(case.query, dict):
        _range(case.query)
    return case


# The two forms of a customer's change to a booking; a move names `sessionId`.
BOOKING_CHANGES = (
    "PATCH /api/user/{userID}/bookings/{bookingID}",
    "POST /api/user/{userID}/bookings/{bookingID}/update",
)


def _get(path: str):
    """The run's server's JSON answer to a GET, as the run's user; None if it is not a 200."""
    request = urllib.request.Request(
        os.environ["KAIROS_ST_BASE"] + path,
        headers={"authorization": f"Bearer {os.environ.get('KAIROS_ST_TOKEN', '')}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)
    except (OSError, ValueError):
        return None


def _move_within_service(case, body: dict) -> None:
    """A booking moves only to another session of its own service (`different_service`, 422).

    Which service the booking is of is known only once the stateful phase's link has named the
    booking, so this runs just before the call: a move to a session the booking's service does
    not have (a generated id, or a seeded session when the booking is of another service) goes
    to one it does have, or, if it has no other, the change edits the notes alone.
    """
    wanted = body.get("sessionId")
    user, booking_id = case.path_parameters.get("userID"), case.path_parameters.get("bookingID")
    if not isinstance(wanted, str) or not user or not booking_id:
        return
    booking = _get(f"/api/user/{user}/bookings/{booking_id}")
    if not isinstance(booking, dict) or "serviceId" not in booking:
        return  # not this user's booking, or none: its 404 is the answer to check
    start = _time(booking.get("sessionDetails", {}).get("time", {}).get("start"))
    if start is None:
        return
    window = f"from={_text(start - MAX_RANGE / 2)}&to={_text(start + MAX_RANGE / 2)}"
    sessions = _get(f"/api/services/{booking['serviceId']}/sessions?{window}&limit=100")
    if not isinstance(sessions, list):
        return  # the lookup failed: send the case as generated rather than guess
    ids = [s.get("id") for s in sessions]
    if wanted in ids:
        return
    others = [i for i in ids if i != booking.get("sessionId")]
    if others:
        body["sessionId"] = others[0]
    else:
        body.pop("sessionId")


@schemathesis.hook
def before_call(context, case, kwargs):
    if (
        _is_positive(case)
        and case.operation.label in BOOKING_CHANGES
        and isinstance(case.body, dict)
    ):
        _move_within_service(case, case.body)
