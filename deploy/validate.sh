#!/usr/bin/env bash
# Validates the deployment files in deploy/ (README.md here says what each is):
#   1. the Kubernetes objects (Secret, CronJob) against Kubernetes' own
#      schemas, strictly (unknown fields are errors): `kubernetes-validate`
#      from PyPI, which ships them;
#   2. the SpinApp against schema/spinapp-v1alpha1.schema.json (written from
#      spin-operator v0.6's SpinAppSpec; kubernetes-validate has no SpinKube
#      schema): `check-jsonschema` from PyPI;
#   3. that spinapp.yaml, secrets.example.yaml and the app agree: every
#      variable the SpinApp sets exists in spin.toml, every secret variable of
#      spin.toml that production must set comes from the Secret, every key it
#      reads is in the Secret, and the production runtime config names every
#      KV and SQLite label of spin.toml.
# The runtime configs are validated by starting real Spin with them
# (`cargo test -p e2e --test deploy -- --ignored`, in `cargo xtask test`).
# The tools go into a virtualenv under target/ (pinned versions).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
venv="$root/target/deploy-venv"
if [ ! -x "$venv/bin/check-jsonschema" ] || [ ! -x "$venv/bin/kubernetes-validate" ]; then
  # PyPI can drop a connection now and then: three tries, each with pip's
  # own retries, and no half-made virtualenv left behind for the next run
  for try in 1 2 3; do
    rm -rf "$venv"
    python3 -m venv "$venv"
    if "$venv/bin/pip" install --quiet --retries 10 --timeout 60 check-jsonschema==0.39.0 kubernetes-validate==1.37.0; then
      break
    fi
    rm -rf "$venv"
    if [ "$try" = 3 ]; then
      echo "deploy: could not install check-jsonschema and kubernetes-validate from PyPI" >&2
      exit 1
    fi
    echo "deploy: pip install failed (try $try of 3); trying again in 10 s" >&2
    sleep 10
  done
fi
echo "deploy: Kubernetes objects (kubernetes-validate --strict)"
"$venv/bin/kubernetes-validate" --strict --no-warn "$here/secrets.example.yaml" "$here/cronjob.yaml"
echo "deploy: SpinApp (check-jsonschema, schema/spinapp-v1alpha1.schema.json)"
"$venv/bin/check-jsonschema" --schemafile "$here/schema/spinapp-v1alpha1.schema.json" "$here/spinapp.yaml"
echo "deploy: spinapp.yaml, secrets.example.yaml, runtime-config.production.toml against spin.toml"
"$venv/bin/python" - "$root" <<'PY'
import sys, tomllib, yaml, pathlib
root = pathlib.Path(sys.argv[1])
manifest = tomllib.loads((root / "spin.toml").read_text())
declared = manifest["variables"]
app = yaml.safe_load((root / "deploy/spinapp.yaml").read_text())
secret = yaml.safe_load((root / "deploy/secrets.example.yaml").read_text())
rc = tomllib.loads((root / "deploy/runtime-config.production.toml").read_text())
errors = []
set_here = {v["name"]: v for v in app["spec"].get("variables", [])}
for name, v in set_here.items():
    if name not in declared:
        errors.append(f"spinapp.yaml sets {name}, which spin.toml does not declare")
    ref = v.get("valueFrom", {}).get("secretKeyRef")
    if ref and (ref.get("name") != secret["metadata"]["name"] or ref["key"] not in secret["stringData"]):
        errors.append(f"spinapp.yaml reads {name} from {ref}, which secrets.example.yaml does not hold")
    if declared.get(name, {}).get("secret") and "value" in v:
        errors.append(f"{name} is a secret: spinapp.yaml must read it from the Secret, not inline")
# every secret production must set (sandbox_admin_token stays empty: the sandbox is off)
for name, v in declared.items():
    if v.get("secret") and name not in ("sandbox_admin_token",) and name not in set_here:
        errors.append(f"secret variable {name} of spin.toml is not set by spinapp.yaml")
labels = {"key_value_store": set(), "sqlite_database": set()}
for c in manifest["component"].values():
    labels["key_value_store"].update(c.get("key_value_stores", []))
    labels["sqlite_database"].update(c.get("sqlite_databases", []))
for kind, want in labels.items():
    have = set(rc.get(kind, {}))
    for missing in sorted(want - have):
        errors.append(f"runtime-config.production.toml has no [{kind}.{missing}]")
    for name in sorted(have):
        t = rc[kind][name].get("type")
        if (kind, t) not in (("key_value_store", "redis"), ("sqlite_database", "libsql")):
            errors.append(f"[{kind}.{name}] is type {t!r}: production shares state across replicas (redis / libsql)")
if errors:
    print("\n".join("  " + e for e in errors))
    sys.exit(1)
print(f"  ok: {len(set_here)} variables, {sum(len(v) for v in labels.values())} store labels")
PY
echo "deploy: all files valid"
