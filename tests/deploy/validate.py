"""Validates Kubernetes objects offline: built-in kinds against the Kubernetes OpenAPI schemas
that the kubernetes-validate package ships, strictly (an unknown field is an error), and the
kinds of the CRDs in crds/ (ServiceMonitor, PrometheusRule) against their openAPIV3Schema,
made as strict (unknown fields are errors where the schema lists the properties and does not
preserve unknown fields).

usage: validate.py KUBERNETES_VERSION FILE...   (multi-document YAML; prints one line per
object; exit status 1 when any object is invalid or of a kind no schema covers)
"""

import copy
import glob
import os
import sys

import jsonschema
import kubernetes_validate
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


def strict(schema):
    """The schema with additionalProperties: false wherever it lists properties."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def crd_schemas():
    """(apiVersion, kind) -> validator, from every CRD in crds/."""
    out = {}
    for path in sorted(glob.glob(os.path.join(HERE, "crds", "*.yaml"))):
        with open(path) as f:
            for crd in yaml.safe_load_all(f):
                if not crd:
                    continue
                group = crd["spec"]["group"]
                kind = crd["spec"]["names"]["kind"]
                for version in crd["spec"]["versions"]:
                    schema = strict(version["schema"]["openAPIV3Schema"])
                    out[(f"{group}/{version['name']}", kind)] = jsonschema.Draft7Validator(schema)
    return out


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    version, files = argv[1], argv[2:]
    crds = crd_schemas()
    failed = 0
    count = 0
    for path in files:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for obj in docs:
            count += 1
            what = f"{path}: {obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
            key = (obj.get("apiVersion"), obj.get("kind"))
            try:
                if key in crds:
                    errors = sorted(crds[key].iter_errors(obj), key=lambda e: list(e.path))
                    if errors:
                        raise ValueError(
                            "; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors)
                        )
                else:
                    kubernetes_validate.validate(obj, version, strict=True)
            except Exception as error:  # every failure is reported, with the object it is about
                failed += 1
                # jsonschema's errors carry the message and where it is; str() adds the
                # whole schema.
                detail = getattr(error, "message", None) or str(error)
                at = ".".join(map(str, getattr(error, "absolute_path", None) or []))
                print(f"INVALID {what}: {at + ': ' if at else ''}{detail}")
                continue
            print(f"valid {what}")
    print(f"{count - failed} valid, {failed} invalid")
    return 1 if failed or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
