#!/usr/bin/env python3
"""Checks that ci/github/reconciler-sim.yml (or the file given) is valid YAML, is shaped like a
GitHub Actions workflow, and runs nothing but steps of ci/check.sh (the
script .ci/run runs), so the two callers cannot drift apart.

Exit 0 when it holds, 1 with the reasons when it does not, 2 when PyYAML is
missing (install python3-yaml or `pip install pyyaml`).
"""

import re
import sys
from pathlib import Path

try:
    import yaml
except ImportError:
    print("check_workflow: PyYAML is not installed (python3-yaml)", file=sys.stderr)
    sys.exit(2)

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "ci/github/reconciler-sim.yml"
CHECK = ROOT / "ci/check.sh"
# A run line may make a downloaded binary executable before the step.
RUN = re.compile(r"^(chmod \+x \S+ && )?ci/check\.sh (\S+)( .+)?$")


def main() -> int:
    workflow = Path(sys.argv[1]) if len(sys.argv) > 1 else WORKFLOW
    try:
        doc = yaml.safe_load(workflow.read_text())
    except yaml.YAMLError as e:
        print(f"{workflow}: not valid YAML: {e}", file=sys.stderr)
        return 1
    problems = []
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    if not isinstance(doc, dict) or "jobs" not in doc or not ({"on", True} & doc.keys()):
        print(f"{workflow}: not a workflow (needs `on` and `jobs`)", file=sys.stderr)
        return 1
    steps = set(re.findall(r"^  ([a-z]+)\)", CHECK.read_text(), re.M)) - {"all"}
    used = set()
    for name, job in doc["jobs"].items():
        if "runs-on" not in job or not job.get("steps"):
            problems.append(f"job {name}: needs runs-on and steps")
            continue
        for step in job["steps"]:
            if "run" not in step:
                continue
            m = RUN.match(step["run"].strip())
            if not m or m.group(2) not in steps:
                problems.append(f"job {name}: `{step['run'].strip()}` is not a ci/check.sh step {sorted(steps)}")
            else:
                used.add(m.group(2))
    missing = steps - used
    if missing:
        problems.append(f"ci/check.sh steps the workflow never runs: {sorted(missing)}")
    for p in problems:
        print(f"{workflow}: {p}", file=sys.stderr)
    if not problems:
        print(f"{workflow}: valid; runs ci/check.sh {' '.join(sorted(used))}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
