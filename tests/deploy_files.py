"""Checks of deploy/ that a schema cannot make (tests/deploy_check.sh runs it in its venv).

    python deploy_files.py manifest deploy/k8s/job.yaml
        the Indexed Job and the merge Job agree: completionMode Indexed, FAASPLAN_SHARDS equal to
        completions in both Jobs, parallelism <= completions, the merge suspended, both mounting
        the file's PersistentVolumeClaim at FAASPLAN_PARTIALS; prints the shard Job's N, its
        args and the merge's args, one per line, as JSON, for the local run of the same steps
    python deploy_files.py containerfile deploy/Containerfile REPO
        two stages, a rust:1.95 builder, every COPY from the build context names a path that
        exists in REPO, and the ENTRYPOINT is a file a COPY put in the final stage

Exits 1 with the reasons when a check fails.
"""

import json
import os
import sys

import yaml
from dockerfile_parse import DockerfileParser


def fail(errors):
    for e in errors:
        print(f"deploy_files: {e}", file=sys.stderr)
    sys.exit(1)


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def manifest(path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    claims = {d["metadata"]["name"] for d in docs if d["kind"] == "PersistentVolumeClaim"}
    jobs = [d for d in docs if d["kind"] == "Job"]
    shards = [j for j in jobs if j["spec"].get("completionMode") == "Indexed"]
    merges = [j for j in jobs if j["spec"].get("completionMode") != "Indexed"]
    errors = []
    if len(shards) != 1 or len(merges) != 1:
        fail([f"{path}: expected one Indexed Job (the shards) and one other Job (the merge), "
              f"found {len(shards)} and {len(merges)}"])
    shard, merge = shards[0], merges[0]
    n = shard["spec"].get("completions")
    if not isinstance(n, int) or n < 1:
        errors.append(f"{path}: the shards Job's completions ({n!r}) must be a whole number >= 1")
    if shard["spec"].get("parallelism", 1) > (n or 0):
        errors.append(f"{path}: parallelism exceeds completions")
    if merge["spec"].get("suspend") is not True:
        errors.append(f"{path}: the merge Job must be created suspended (spec.suspend: true), "
                      "or it starts before the shards are done")
    args = {}
    for job in (shard, merge):
        name = job["metadata"]["name"]
        pod = job["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        env = env_of(container)
        if env.get("FAASPLAN_SHARDS") != str(n):
            errors.append(f"{path}: job {name}: FAASPLAN_SHARDS={env.get('FAASPLAN_SHARDS')!r}, "
                          f"but the shards Job has completions: {n}")
        mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
        vols = {v["name"]: v.get("persistentVolumeClaim", {}).get("claimName")
                for v in pod.get("volumes", [])}
        shared = [vol for vol, claim in vols.items() if claim in claims and mounts.get(vol) ==
                  env.get("FAASPLAN_PARTIALS")]
        if not shared:
            errors.append(f"{path}: job {name}: FAASPLAN_PARTIALS ({env.get('FAASPLAN_PARTIALS')}) "
                          f"is not the mount of the file's PersistentVolumeClaim {sorted(claims)}")
        if pod.get("restartPolicy") != "Never":
            errors.append(f"{path}: job {name}: restartPolicy should be Never (a retry is a new pod)")
        args[name] = container.get("args", [])
    if args[shard["metadata"]["name"]][:1] != ["shard"]:
        errors.append(f"{path}: the shards Job's args must start with `shard`")
    if args[merge["metadata"]["name"]][:1] != ["merge"]:
        errors.append(f"{path}: the merge Job's args must start with `merge`")
    if errors:
        fail(errors)
    print(json.dumps(n))
    print(json.dumps(args[shard["metadata"]["name"]]))
    print(json.dumps(args[merge["metadata"]["name"]]))


def containerfile(path, repo):
    # fileobj: given a path, the parser takes any name but "Dockerfile" for a directory.
    with open(path, "rb") as f:
        parser = DockerfileParser(fileobj=f)
        structure = parser.structure
    errors = []
    stages = [i for i in structure if i["instruction"] == "FROM"]
    if len(stages) != 2:
        errors.append(f"{path}: expected two stages (builder, runtime), found {len(stages)}")
    if not stages or not stages[0]["value"].startswith("rust:1.95"):
        errors.append(f"{path}: the builder must be based on rust:1.95")
    final_start = stages[-1]["startline"] if stages else 0
    copied = set()
    for i in structure:
        if i["instruction"] != "COPY":
            continue
        words = i["value"].split()
        flags = [w for w in words if w.startswith("--")]
        paths = [w for w in words if not w.startswith("--")]
        *sources, dest = paths
        if not any(f.startswith("--from=") for f in flags):
            for s in sources:
                if not os.path.exists(os.path.join(repo, s)):
                    errors.append(f"{path}:{i['startline'] + 1}: COPY {s}: no such path in the "
                                  "build context (the repository's root)")
        if i["startline"] > final_start:
            copied.add(dest)
    entry = [i for i in structure if i["instruction"] == "ENTRYPOINT"]
    if not entry:
        errors.append(f"{path}: no ENTRYPOINT")
    else:
        program = json.loads(entry[-1]["value"])[0]
        if program not in copied:
            errors.append(f"{path}: ENTRYPOINT {program} is not a file the final stage copies in")
    if errors:
        fail(errors)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "manifest":
        manifest(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "containerfile":
        containerfile(sys.argv[2], sys.argv[3])
    else:
        fail(["usage: deploy_files.py manifest FILE | containerfile FILE REPO"])
