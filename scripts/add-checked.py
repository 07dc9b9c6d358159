#!/usr/bin/env python3
"""Adds `checked: DATE` to matrix entries that have none, without reformatting anything else.

    scripts/add-checked.py DATE [--rules ID,ID,...] [--matrix DIR]

- software.yaml: every rule (`      - id: ...` under `rules:`) without a `checked:` line gets
  `        checked: DATE` after its `source:` line. With --rules, only the named rules.
- profiles/*.yaml: a `machine.sources` entry written the old way (`key: "URL — words"`) becomes
  `key: { source: ..., checked: DATE }` as a block mapping.

DATE is the day the sources were read (YYYY-MM-DD). Running it twice changes nothing.
After a merge that brings rules without a date: run it with the day their author read the sources.
"""

import argparse
import datetime
import pathlib
import re
import sys

RULE = re.compile(r"^      - id: ([a-z0-9-]+)\s*$")
RULE_FIELD = re.compile(r"^        ([a-z_]+):")
BLOCK_END = re.compile(r"^(  - id: |\S|\s*$)")


def add_to_software(path, date, only):
    lines = path.read_text().splitlines(keepends=True)
    out, i, added = [], 0, 0
    while i < len(lines):
        m = RULE.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        block = [lines[i]]
        i += 1
        while i < len(lines) and not RULE.match(lines[i]) and not BLOCK_END.match(lines[i]):
            block.append(lines[i])
            i += 1
        fields = [RULE_FIELD.match(l).group(1) for l in block[1:] if RULE_FIELD.match(l)]
        wanted = only is None or m.group(1) in only
        if "checked" not in fields and wanted:
            at = next((k + 1 for k, l in enumerate(block) if l.startswith("        source:")), len(block))
            block.insert(at, f"        checked: {date}\n")
            added += 1
        out.extend(block)
    path.write_text("".join(out))
    return added


SOURCE_ENTRY = re.compile(r'^    ([A-Za-z0-9_.]+): (".*")\s*$')


def add_to_profile(path, date):
    lines = path.read_text().splitlines(keepends=True)
    out, in_sources, added = [], False, 0
    for line in lines:
        if line.startswith("  sources:"):
            in_sources = True
            out.append(line)
            continue
        if in_sources and not line.startswith("    "):
            in_sources = False
        m = SOURCE_ENTRY.match(line) if in_sources else None
        if m:
            out.append(f"    {m.group(1)}:\n      source: {m.group(2)}\n      checked: {date}\n")
            added += 1
        else:
            out.append(line)
    path.write_text("".join(out))
    return added


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("date")
    parser.add_argument("--rules", help="comma-separated rule ids (default: every rule without a date)")
    parser.add_argument("--matrix", default=str(pathlib.Path(__file__).resolve().parent.parent / "matrix"))
    args = parser.parse_args()
    try:
        datetime.date.fromisoformat(args.date)
    except ValueError:
        sys.exit(f"add-checked: `{args.date}` is not a date YYYY-MM-DD")
    only = set(args.rules.split(",")) if args.rules else None
    root = pathlib.Path(args.matrix)
    rules = add_to_software(root / "software.yaml", args.date, only)
    figures = sum(add_to_profile(p, args.date) for p in sorted((root / "profiles").glob("*.yaml")))
    print(f"add-checked: {rules} rules and {figures} profile figures dated {args.date}")


if __name__ == "__main__":
    main()
