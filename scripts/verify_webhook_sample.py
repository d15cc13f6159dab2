"""Verifies webhook deliveries Kairos made in the tests with the Standard Webhooks
specification's own Python library (`standardwebhooks` from PyPI).

The API tests write each sample (secret, headers, body) when KAIROS_WEBHOOK_SAMPLE is set. A
sample still within the library's 5-minute tolerance is checked with `verify`; an older one
(the test suite ran on) by comparing its signature with the library's `sign` for the same id,
timestamp and body.
Usage: python verify_webhook_sample.py SAMPLE.json...
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook


def check(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        sample = json.load(f)
    hook = Webhook(sample["secret"])
    headers = sample["headers"]
    body = sample["body"]
    stamp = int(headers["webhook-timestamp"])
    tampered = body.replace('"type"', '"typo"', 1)
    if abs(time.time() - stamp) < 240:
        hook.verify(body, headers)
        try:
            hook.verify(tampered, headers)
        except Exception:
            pass
        else:
            raise AssertionError(f"{path}: a tampered body verified")
        how = "verify"
    else:
        at = datetime.fromtimestamp(stamp, tz=timezone.utc)
        given = headers["webhook-signature"].split(" ")
        expected = hook.sign(headers["webhook-id"], at, body)
        assert expected in given, f"{path}: {expected} not in {given}"
        assert hook.sign(headers["webhook-id"], at, tampered) not in given, f"{path}: tampered"
        how = "sign"
    print(f"{path}: signature accepted by standardwebhooks ({how}); a tampered body refused")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("no samples given")
    for sample in sys.argv[1:]:
        check(sample)
