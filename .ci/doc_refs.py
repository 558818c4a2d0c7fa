#!/usr/bin/env python3
"""Fails when documentation points nowhere:

* a `§N`, `§N.M`, `§N rule K` or `§N.M step K` reference (in a tracked .rs, .md or scenario
  file) to a section or numbered item that docs/node-semantics.md does not have
  (`§2 rule K` means rule K of §2.1; `RFC 1234 §5` is left alone);
* a relative Markdown link to a file that does not exist or lies outside the repository.
"""
import os
import re
import subprocess
import sys

ROOT = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                      text=True, check=True).stdout.strip()
os.chdir(ROOT)
SPEC = "docs/node-semantics.md"

sections, items, current = set(), {}, None
for line in open(SPEC, encoding="utf-8"):
    m = re.match(r"^##+ (\d+(?:\.\d+)?)\.? ", line)
    if m:
        current = m.group(1)
        sections.add(current)
        items.setdefault(current, set())
        continue
    m = re.match(r"^\s{0,3}(\d+)\. ", line)
    if m and current:
        items[current].add(int(m.group(1)))

files = subprocess.run(["git", "ls-files", "*.rs", "*.md", "tests/scenarios/*.json"],
                       capture_output=True, text=True, check=True).stdout.split()
errors, refs, links = [], 0, 0
ref_re = re.compile(r"(RFC \d+ )?§(\d+(?:\.\d+)*)((?:\s*(?:rules?|steps?)\s*[\d–\-, and]+)?)")
link_re = re.compile(r"\]\(([^)\s]+)\)")
for path in files:
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    for no, line in enumerate(text.split("\n"), 1):
        if path != SPEC:
            for m in ref_re.finditer(line):
                if m.group(1):
                    continue
                refs += 1
                sec = m.group(2).rstrip(".")
                if sec not in sections:
                    errors.append(f"{path}:{no}: §{sec} is not a section of {SPEC}")
                    continue
                tail = m.group(3)
                if tail:
                    nums = [int(n) for n in re.findall(r"\d+", tail)]
                    wanted = set(nums)
                    if re.search(r"\d\s*[–-]\s*\d", tail):
                        wanted |= set(range(nums[0], nums[1] + 1))
                    key = "2.1" if sec == "2" else sec
                    missing = sorted(wanted - items.get(key, set()))
                    if missing:
                        errors.append(f"{path}:{no}: §{sec} has no item {missing}")
        if path.endswith(".md"):
            for m in link_re.finditer(line):
                target = m.group(1).split("#")[0]
                if not target or re.match(r"^[a-z]+:", target):
                    continue
                links += 1
                resolved = os.path.normpath(os.path.join(os.path.dirname(path), target))
                if resolved.startswith(".."):
                    errors.append(f"{path}:{no}: link {target} leaves the repository")
                elif not os.path.exists(resolved):
                    errors.append(f"{path}:{no}: link {target} does not exist")

for e in errors:
    print(e)
print(f"doc_refs: {refs} § references, {links} relative links, {len(errors)} broken")
sys.exit(1 if errors else 0)
