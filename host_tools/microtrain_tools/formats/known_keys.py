# SPDX-License-Identifier: MIT
"""Unknown keys in what a user writes are errors, never silently ignored: a policy with
"lerning_rate" or a layer with "activation" would otherwise run with the defaults."""

import difflib


def unknown_key(doc: dict, known) -> str | None:
    """None if every key of doc is known; else a message naming the first unknown key and the
    nearest known one."""
    known = sorted(known)
    for key in doc:
        if key not in known:
            # A close spelling, or a known key the unknown one starts with ("activation": "act").
            near = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6) or \
                [k for k in known if str(key).startswith(k)][:1]
            hint = f"; did you mean {near[0]!r}?" if near else ""
            return f"unknown key {key!r}{hint} (known: {', '.join(known)})"
    return None
