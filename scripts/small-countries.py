"""Write src/borderwatch/report/data/small-countries.csv: the countries that the 1:110m
map has no shape for, as one point each (the middle of their largest polygon's bounding
box), from the 1:50m file of the same npm package (world-atlas 2.0.2).

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python scripts/small-countries.py package/countries-50m.json package/countries-110m.json
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from borderwatch.report.worldmap import alpha2, decode_arcs, polygons, ring


def main(fifty: Path, hundred_ten: Path, out: Path) -> None:
    big = json.loads(hundred_ten.read_text())
    drawn = {g.get("id") for g in big["objects"]["countries"]["geometries"]}
    topology = json.loads(fifty.read_text())
    arcs = decode_arcs(topology)
    rows = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        name = geometry["properties"]["name"]
        code = alpha2(geometry.get("id"), name)
        if geometry.get("id") in drawn or code is None:
            continue
        outer = [ring(arcs, polygon[0]) for polygon in polygons(geometry)]
        largest = max(outer, key=len)
        lons = [p[0] for p in largest]
        lats = [p[1] for p in largest]
        lon = (min(lons) + max(lons)) / 2
        lat = (min(lats) + max(lats)) / 2
        rows.append((code, name, f"{lon:.2f}", f"{lat:.2f}"))
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name", "longitude", "latitude"])
        writer.writerows(sorted(rows))


if __name__ == "__main__":
    target = Path(__file__).parent.parent / "src/borderwatch/report/data/small-countries.csv"
    main(Path(sys.argv[1]), Path(sys.argv[2]), target)
