"""Summarises one run of a configuration (by Terraform or by Strata) for the JSON-syntax and
override fixtures: `python3 config_peer_summary.py DIR` reads DIR/validate.json (`validate
-json`) and DIR/plan.json (`show -json` of the saved plan) and prints {"errors": [...]} or
{"outputs": ..., "resources": ...} with sorted keys, the form of <case>/terraform.golden.json."""
import json
import os
import sys

case = sys.argv[1]


def load(name):
    path = os.path.join(case, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        text = f.read()
    try:
        return json.loads(text)
    except ValueError:
        return None


validate = load("validate.json") or {}
errors = [
    {
        "summary": d.get("summary"),
        "file": (d.get("range") or {}).get("filename"),
        "line": ((d.get("range") or {}).get("start") or {}).get("line"),
        "column": ((d.get("range") or {}).get("start") or {}).get("column"),
    }
    for d in validate.get("diagnostics", [])
    if d.get("severity") == "error"
]
plan = load("plan.json")
if errors or plan is None:
    if not errors and os.path.exists(os.path.join(case, "plan.log")):
        errors = [{"summary": "plan failed", "file": None, "line": None, "column": None}]
    result = {"errors": sorted(errors, key=lambda e: (e["file"] or "", e["line"] or 0, e["column"] or 0))}
else:
    outputs = {
        name: {"value": o.get("value"), "sensitive": o.get("sensitive", False)}
        for name, o in plan.get("planned_values", {}).get("outputs", {}).items()
    }
    resources = sorted(
        [rc["address"], rc["change"]["actions"]] for rc in plan.get("resource_changes", [])
    )
    result = {"outputs": outputs, "resources": resources}
print(json.dumps(result, indent=2, sort_keys=True))
