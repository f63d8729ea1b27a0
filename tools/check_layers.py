#!/usr/bin/env python3
"""Checks that each src/<module> includes only the modules below it (docs/architecture.md).

usage: tools/check_layers.py [REPO_ROOT]; exits 1 and lists the offending includes.
"""
import pathlib
import re
import sys

# module -> modules it may include (besides itself)
ALLOWED = {
    "common": set(),
    "flow": {"common"},
    "net": {"common", "flow"},
    "decode": {"common", "flow"},
    "enrich": {"common", "flow"},
    "store": {"common", "flow"},
    "web": set(),
    "ingest": {"common", "flow", "net", "decode", "enrich", "store"},
    "query": {"common", "flow", "store"},
    "detect": {"common", "flow", "query"},
    "api": {"common", "flow", "query", "detect", "store", "decode", "ingest", "web"},
    "cli": {"common", "flow", "net", "decode", "ingest", "store", "query", "api", "enrich", "server", "web"},
    "server": {"common", "flow", "net", "decode", "ingest", "store", "query", "detect", "api", "enrich", "web"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    problems = []
    for path in sorted((root / "src").rglob("*")):
        if path.suffix not in (".h", ".cc"):
            continue
        module = path.relative_to(root / "src").parts[0]
        allowed = ALLOWED.get(module)
        if allowed is None:
            problems.append(f"{path}: module '{module}' is not in tools/check_layers.py")
            continue
        for line_no, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            match = INCLUDE.match(line)
            if match and match.group(1) != module and match.group(1) not in allowed:
                problems.append(f"{path}:{line_no}: {module}/ must not include {match.group(1)}/")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
