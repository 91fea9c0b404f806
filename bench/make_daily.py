#!/usr/bin/env python3
"""Write N daily copies of a bundle zip, for bench/timeline.

Usage: make_daily.py SOURCE.zip OUTDIR [--days 365]

Each copy is the source bundle with its manifest's run.started_at moved to day i (a year
before the source's own date, one day apart) and its top folder renamed to match, written as a
zip with its .zip.sha256. The manifest is not among the files it lists, so every copy verifies
intact: stand-ins for a year of daily collections of one account.
"""

import argparse
import datetime
import hashlib
import json
import os
import zipfile


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source")
    p.add_argument("outdir")
    p.add_argument("--days", type=int, default=365)
    a = p.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    with zipfile.ZipFile(a.source) as src:
        infos = src.infolist()
        top = infos[0].filename.split("/", 1)[0]
        contents = {i.filename: src.read(i) for i in infos}
    manifest = json.loads(contents[f"{top}/manifest.json"])
    account = manifest["account"]["id"]
    start = datetime.datetime(2025, 1, 1, 6, 0, 0, tzinfo=datetime.timezone.utc)
    for day in range(a.days):
        at = start + datetime.timedelta(days=day)
        stamp = at.strftime("%Y%m%dT%H%M%SZ")
        name = f"soc2-evidence-{account}-{stamp}"
        manifest["run"]["started_at"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        path = os.path.join(a.outdir, f"{name}.zip")
        with zipfile.ZipFile(path, "w") as out:
            for info in infos:
                rel = info.filename.split("/", 1)[1] if "/" in info.filename else ""
                new = zipfile.ZipInfo(f"{name}/{rel}" if rel else f"{name}/", info.date_time)
                new.compress_type = info.compress_type
                new.external_attr = info.external_attr
                new.create_system = info.create_system
                data = contents[info.filename]
                if rel == "manifest.json":
                    data = (json.dumps(manifest, indent=2) + "\n").encode()
                out.writestr(new, data)
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        with open(path + ".sha256", "w") as f:
            f.write(f"{digest}  {name}.zip\n")
    print(a.days)


if __name__ == "__main__":
    main()
