"""Results the grader made, told apart from results anyone could write.

`autograder ci` signs the block `autograder merge` reads (`extra_data.autograder` of
results.json) with HMAC-SHA256 under a key kept as a CI secret that students never see
(`AUTOGRADER_RESULTS_KEY`; autograder/ci/README.md says where each platform keeps it), and
`merge` refuses a file whose tag is missing or does not match. A hand-written or edited
results.json cannot carry a valid tag without the key.

The tag covers the block as canonical JSON (keys sorted, no spaces, ASCII), so a file may be
re-indented or moved between folders and still verify; any change to a value does not.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os

KEY_VARIABLE = "AUTOGRADER_RESULTS_KEY"
TAG_FIELD = "autograder_tag"  # beside `autograder` in results.json's `extra_data`
ALGORITHM = "HMAC-SHA256"
MIN_KEY_BYTES = 16  # e.g. `openssl rand -hex 32` gives 64 characters


class KeyProblem(ValueError):
    """No usable key: the message says how to set one."""


def results_key(environ=os.environ) -> bytes | None:
    """The key from `AUTOGRADER_RESULTS_KEY`, None when unset; `KeyProblem` when too short."""
    value = environ.get(KEY_VARIABLE, "").strip()
    if not value:
        return None
    if len(value.encode()) < MIN_KEY_BYTES:
        raise KeyProblem(f"{KEY_VARIABLE} is {len(value)} characters long; use at least "
                         f"{MIN_KEY_BYTES} random ones (e.g. `openssl rand -hex 32`)")
    return value.encode()


def _canonical(block: object) -> bytes:
    return json.dumps(block, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode()


def tag_of(block: object, key: bytes) -> str:
    return hmac.new(key, _canonical(block), hashlib.sha256).hexdigest()


def sign(results: dict, key: bytes) -> dict:
    """Add the tag of `results["extra_data"]["autograder"]` to `results` (and return it)."""
    extra = results["extra_data"]
    extra[TAG_FIELD] = {"algorithm": ALGORITHM, "tag": tag_of(extra["autograder"], key)}
    return results


def check(data: dict, key: bytes) -> str | None:
    """None when `data` (a parsed results.json) carries a valid tag; else the reason."""
    extra = data.get("extra_data") if isinstance(data, dict) else None
    tag = extra.get(TAG_FIELD) if isinstance(extra, dict) else None
    if not isinstance(tag, dict) or not isinstance(tag.get("tag"), str):
        return ("unauthenticated: it carries no authentication tag (`autograder ci` adds one "
                f"only where {KEY_VARIABLE} is set, as a CI secret students never see)")
    if tag.get("algorithm") != ALGORITHM:
        return f"unauthenticated: its tag is not {ALGORITHM}"
    try:
        expected = tag_of(extra.get("autograder"), key)
    except ValueError:  # NaN or infinity: never in what `ci` writes
        return "unauthenticated: it holds numbers JSON does not allow (NaN, Infinity)"
    if not hmac.compare_digest(expected, tag["tag"]):
        return ("authentication failed: the tag does not match (the file was changed after "
                f"grading, or signed with another {KEY_VARIABLE})")
    return None
