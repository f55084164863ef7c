"""schemathesis hooks for Tests/api-fuzz/run.sh (loaded through SCHEMATHESIS_HOOKS=fuzz_hooks).

`PUT /v1/batch/` and `DELETE /v1/batch/` refuse a body that names one memory twice (400 duplicate_memory_id,
documented in docs/openapi.yaml). JSON Schema cannot say "no two items share a memory_id" (`uniqueItems` only
compares whole items), so generated cases (of every phase) whose body repeats an id are dropped instead of being sent as valid data.
"""

import schemathesis


@schemathesis.hook
def filter_case(context, case):
    if case.operation.path != "/v1/batch/":
        return True
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("memories"), list):
        return True
    ids = [item["memory_id"].lower() for item in body["memories"]
           if isinstance(item, dict) and isinstance(item.get("memory_id"), str)]
    return len(ids) == len(set(ids))
