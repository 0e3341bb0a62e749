#!/usr/bin/env python3
"""Checks the GitHub Actions workflows in ci/github/ (reconciler-sim.yml and
the nightly reconciler-sim-nightly.yml, or the files given): each is valid
YAML, is shaped like a workflow, uses only the few setup actions listed
below, and runs nothing but steps of ci/check.sh (the script .ci/run runs),
so the callers cannot drift apart. Checking the default pair, every
ci/check.sh step must also be run by one of them.

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
WORKFLOWS = [ROOT / "ci/github/reconciler-sim.yml", ROOT / "ci/github/reconciler-sim-nightly.yml"]
CHECK = ROOT / "ci/check.sh"
# A run line may make a downloaded binary executable before the step.
RUN = re.compile(r"^(chmod \+x \S+ && )?ci/check\.sh (\S+)( .+)?$")
# The setup a job may do besides ci/check.sh steps: check out, install the
# toolchain and nextest, cache, and move artifacts between jobs.
ACTIONS = {
    "actions/checkout",
    "dtolnay/rust-toolchain",
    "Swatinem/rust-cache",
    "taiki-e/install-action",
    "actions/upload-artifact",
    "actions/download-artifact",
}


def check(workflow: Path, steps: set) -> tuple:
    """The problems of one workflow file, and the ci/check.sh steps it runs."""
    try:
        doc = yaml.safe_load(workflow.read_text())
    except OSError as e:
        return [f"cannot read: {e}"], set()
    except yaml.YAMLError as e:
        return [f"not valid YAML: {e}"], set()
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict) or not ({"on", True} & doc.keys()):
        return ["not a workflow (needs `on` and `jobs`)"], set()
    problems = []
    used = set()
    for name, job in doc["jobs"].items():
        if not isinstance(job, dict) or "runs-on" not in job or not job.get("steps"):
            problems.append(f"job {name}: needs runs-on and steps")
            continue
        for step in job["steps"]:
            if "uses" in step:
                action = str(step["uses"]).split("@", 1)[0]
                if action not in ACTIONS:
                    problems.append(f"job {name}: uses {step['uses']}, not one of the allowed setup actions {sorted(ACTIONS)}")
            if "run" not in step:
                continue
            m = RUN.match(str(step["run"]).strip())
            if not m or m.group(2) not in steps:
                problems.append(f"job {name}: `{str(step['run']).strip()}` is not a ci/check.sh step {sorted(steps)}")
            else:
                used.add(m.group(2))
    return problems, used


def main() -> int:
    given = [Path(a) for a in sys.argv[1:]]
    workflows = given or WORKFLOWS
    steps = set(re.findall(r"^  ([a-z][a-z-]*)\)", CHECK.read_text(), re.M)) - {"all"}
    failed = False
    used = set()
    for workflow in workflows:
        problems, runs = check(workflow, steps)
        used |= runs
        for p in problems:
            print(f"{workflow}: {p}", file=sys.stderr)
        if problems:
            failed = True
        else:
            print(f"{workflow}: valid; runs ci/check.sh {' '.join(sorted(runs))}")
    missing = steps - used
    if not given and missing:
        print(f"ci/check.sh steps no workflow runs: {sorted(missing)}", file=sys.stderr)
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
