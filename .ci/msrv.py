#!/usr/bin/env python3
"""Fails when a locked dependency needs a newer Rust than the workspace declares.

The declared `rust-version` (workspace.package, inherited by every member) must be at least
the highest `rust-version` of every package in Cargo.lock that a build on this platform
uses: dependencies, dev-dependencies and build-dependencies of every member (a dev-only
dependency still decides which toolchain can run `cargo test --workspace`). Only one
toolchain is installed here, so this is checked from the manifests rather than by building
with the old compiler; clippy's `incompatible_msrv` lint covers the standard library APIs
the code itself uses.
"""
import json
import subprocess
import sys


def version(text):
    # "1.89" and "1.89.0" are the same version: compare three parts.
    parts = [int(part) for part in text.split(".")]
    return tuple((parts + [0, 0, 0])[:3])


host = next(line.split()[1] for line in subprocess.run(
    ["rustc", "-vV"], capture_output=True, text=True, check=True).stdout.splitlines()
    if line.startswith("host:"))
meta = json.loads(subprocess.run(
    ["cargo", "metadata", "--format-version", "1", "--locked", "--filter-platform", host],
    capture_output=True, text=True, check=True).stdout)

members = set(meta["workspace_members"])
declared = {p["name"]: p.get("rust_version") for p in meta["packages"] if p["id"] in members}
if None in declared.values() or len(set(declared.values())) != 1:
    sys.exit(f"msrv: members must all declare one rust-version, found {declared}")
msrv = version(next(iter(declared.values())))

locked = [(version(p["rust_version"]), p["name"], p["version"])
          for p in meta["packages"] if p["id"] not in members and p.get("rust_version")]
needed = max(v for v, _, _ in locked)
too_new = sorted(f"{n} {ver} needs {'.'.join(map(str, v))}" for v, n, ver in locked if v > msrv)
top = sorted(f"{n} {ver}" for v, n, ver in locked if v == needed)

print(f"msrv: declared {'.'.join(map(str, msrv))}; the {len(locked)} locked packages that "
      f"declare one need at most {'.'.join(map(str, needed))} ({', '.join(top)})")
if too_new:
    print("msrv: these locked packages need a newer Rust than the workspace declares:")
    for line in too_new:
        print(f"  {line}")
    sys.exit(1)
