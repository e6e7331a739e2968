"""The kernel's side of grading: answer one request of the grader with data.

When the grader runs a notebook, the kernel runs the student's cells but never a test cell.
For each probe a check needs, the grader sends an execute request whose code is one call,
``answer_request('<json>')``: the JSON names a coursekit probe function, the student's names to
pass it and the inputs for this call. The probe runs here, on the student's objects, and its
data goes back as one display output of type ``coursekit.core.ANSWER_MIME``, tagged with the
request's id. Nothing here is trusted: the student's code shares this process and may change
any of it, which changes only the data it sends back, and that data is checked by the grader.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from coursekit.core import ANSWER_MIME, decode, run_probe

#: The longest request the kernel reads (the grader's requests are a few kilobytes).
MAX_REQUEST = 2_000_000


def answer(request: dict, namespace: dict) -> dict:
    """Run the requested probe with the student's objects from ``namespace``: its answer,
    ``{"value": data}`` or ``{"error": [type name, message]}``."""
    try:
        function = _probe_function(request.get("probe"))
        arguments = {key: _argument(value, namespace)
                     for key, value in dict(request.get("args") or {}).items()}
    except (LookupError, NameError, ValueError, TypeError, ImportError) as error:
        return {"error": [type(error).__name__, str(error)[:500]]}
    return run_probe(lambda: function(**arguments))


def answer_request(text: str) -> None:
    """The kernel's entry point: answer the request ``text`` (JSON) on the notebook's names
    and display the answer, tagged with the request's id."""
    from IPython import get_ipython
    from IPython.display import publish_display_data

    if not isinstance(text, str) or len(text) > MAX_REQUEST:
        raise ValueError("a request larger than the grader sends")
    request = json.loads(text)
    shell = get_ipython()
    namespace = shell.user_ns if shell is not None else {}
    publish_display_data({ANSWER_MIME: {"id": request.get("id"), **answer(request, namespace)}})


def _probe_function(address: Any):
    if not isinstance(address, str) or ":" not in address:
        raise ValueError(f"a probe address is module:function, not {address!r:.80}")
    module_name, qualname = address.split(":", 1)
    if not module_name.startswith("coursekit.") or "." in qualname:
        raise ValueError(f"{address!r:.80} is not a coursekit probe")
    function = getattr(importlib.import_module(module_name), qualname)
    if not getattr(function, "__coursekit_probe__", False):
        raise ValueError(f"{address!r:.80} is not a coursekit probe")
    return function


def _argument(value: Any, namespace: dict) -> Any:
    if isinstance(value, dict) and list(value) == ["~name"]:
        name = value["~name"]
        if not isinstance(name, str) or name not in namespace:
            raise NameError(f"name '{name}' is not defined: run the cell that defines it "
                            "(and the cells above it) before the test")
        return namespace[name]
    return decode(value)
