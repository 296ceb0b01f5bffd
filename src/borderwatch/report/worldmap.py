"""Country shapes for an offline world map: Natural Earth 1:110m as TopoJSON.

The shapes are the `countries-110m.json` of the npm package world-atlas 2.0.2
(Natural Earth, public domain; packaged by Mike Bostock, ISC licence: data/NOTICE.md),
shipped with borderwatch so a board report draws its map without a network. Countries
too small for that scale (Singapore, Hong Kong, Malta, ...) are points in
`data/small-countries.csv`, taken from the same package's 1:50m file with
scripts/small-countries.py. Country ids there are ISO 3166-1 numeric; `iso3166` gives
the alpha-2 codes the findings use.

Projection: equirectangular (longitude and latitude as x and y), cut at 60°S.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import iso3166

WIDTH = 960.0
# Latitudes drawn: 84°N (the northern coasts) to 60°S (no Antarctica).
NORTH, SOUTH = 84.0, -60.0
SCALE = WIDTH / 360.0
HEIGHT = (NORTH - SOUTH) * SCALE

ANTARCTICA = "010"
# Shapes without an ISO 3166-1 numeric id in the data, by their name there.
_BY_NAME = {"Kosovo": "XK"}


@dataclass(frozen=True)
class Shape:
    """One country as an SVG path in map units, with its ISO alpha-2 code (or None)."""

    code: str | None
    name: str
    path: str


@dataclass(frozen=True)
class Point:
    """A country too small to draw at this scale: where to put its marker."""

    code: str
    name: str
    x: float
    y: float


def project(lon: float, lat: float) -> tuple[float, float]:
    """Longitude, latitude to map units (x right, y down)."""
    lat = max(min(lat, NORTH), SOUTH)
    return (lon + 180.0) * SCALE, (NORTH - lat) * SCALE


def decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """A TopoJSON topology's arcs as lists of (longitude, latitude).

    Quantized topologies store each arc's first position and then differences, all in
    grid units; `transform` turns grid units into degrees.
    """
    transform = topology.get("transform")
    arcs: list[list[tuple[float, float]]] = []
    for arc in topology["arcs"]:
        if transform is None:
            arcs.append([(float(p[0]), float(p[1])) for p in arc])
            continue
        (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
        x = y = 0
        points = []
        for position in arc:
            x += position[0]
            y += position[1]
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(
    arcs: Sequence[list[tuple[float, float]]], indexes: Sequence[int]
) -> list[tuple[float, float]]:
    """One polygon ring from arc indexes; ~i (a negative index) is arc i reversed. Arcs
    share their end points, so each arc after the first drops its first point."""
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def polygons(geometry: dict[str, Any]) -> Iterator[list[list[int]]]:
    if geometry.get("type") == "Polygon":
        yield geometry["arcs"]
    elif geometry.get("type") == "MultiPolygon":
        yield from geometry["arcs"]


def svg_path(rings: Sequence[Sequence[tuple[float, float]]]) -> str:
    """Rings of (longitude, latitude) as SVG path data, one decimal (0.4 km at this scale
    is far below a pixel)."""
    parts = []
    for points in rings:
        if len(points) < 3:
            continue
        projected = [project(lon, lat) for lon, lat in unwrap(points)]
        parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in projected) + "Z")
    return "".join(parts)


def unwrap(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """A ring that crosses the antimeridian (eastern Russia, Fiji) made continuous: each
    longitude within 180° of the one before. The part past ±180° falls outside the map
    and is clipped, instead of a band drawn across the whole world."""
    out: list[tuple[float, float]] = []
    for lon, lat in points:
        if out:
            while lon - out[-1][0] > 180:
                lon -= 360
            while lon - out[-1][0] < -180:
                lon += 360
        out.append((lon, lat))
    return out


def alpha2(numeric: str | None, name: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a shape (None for a territory without one)."""
    if numeric is not None and numeric in iso3166.countries_by_numeric:
        return str(iso3166.countries_by_numeric[numeric].alpha2)
    return _BY_NAME.get(name)


@cache
def shapes() -> tuple[Shape, ...]:
    """Every country of the 1:110m map, as SVG paths."""
    raw = resources.files("borderwatch.report").joinpath("data/countries-110m.json").read_text()
    topology = json.loads(raw)
    arcs = decode_arcs(topology)
    result = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        name = str(geometry.get("properties", {}).get("name", ""))
        if geometry.get("id") == ANTARCTICA:
            continue  # below the map's southern edge
        rings = [ring(arcs, r) for polygon in polygons(geometry) for r in polygon]
        result.append(Shape(alpha2(geometry.get("id"), name), name, svg_path(rings)))
    return tuple(result)


@cache
def small_countries() -> dict[str, Point]:
    """Countries too small for the 1:110m shapes, by alpha-2 code: where to mark them."""
    raw = resources.files("borderwatch.report").joinpath("data/small-countries.csv").read_text()
    points = {}
    for row in csv.DictReader(io.StringIO(raw)):
        x, y = project(float(row["longitude"]), float(row["latitude"]))
        points[row["code"]] = Point(row["code"], row["name"], x, y)
    return points
