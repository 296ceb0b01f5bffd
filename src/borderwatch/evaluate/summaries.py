"""What the report shows besides findings, read from the evaluated views."""

from __future__ import annotations

from borderwatch.inventory.placement import ResolvedStore
from borderwatch.model.scan import CountryAccess, ResidencyRow
from borderwatch.runtime.tablestore import TableStore


def residency_rows(engine: TableStore, resolved: list[ResolvedStore]) -> list[ResidencyRow]:
    verdicts: dict[str, str] = {}
    for row in engine.query(
        "SELECT store_id, list(DISTINCT verdict) AS verdicts FROM residency_by_class "
        "GROUP BY store_id"
    ).to_pylist():
        found = set(row["verdicts"])
        # The worst verdict over the store's protected classes speaks for the store.
        verdicts[row["store_id"]] = next(
            (v for v in ("unknown", "outside") if v in found), "approved"
        )
    protected = {
        r["store_id"]
        for r in engine.query("SELECT DISTINCT store_id FROM protected_store_classes").to_pylist()
    }
    rows = []
    for item in resolved:
        store_id = item.store.store_id
        rows.append(
            ResidencyRow(
                store_id=store_id,
                provider=item.location.provider,
                region=item.store.region,
                service=item.store.service,
                location_kind=item.location.kind,
                countries=item.location.countries,
                data_classes=item.copies.data_classes,
                protected=store_id in protected,
                records=item.store.records,
                copy_of=item.store.copy_of,
                copy_path=item.copies.copy_path,
                verdict=verdicts.get(store_id, "not-protected"),
                origin=item.store.origin,
            )
        )
    return rows


def access_by_country(engine: TableStore) -> list[CountryAccess]:
    rows = engine.query(
        """
        WITH located AS (
            SELECT events, principal, data_classes, v.effective_country AS country
            FROM protected_access JOIN access_verdict v USING (group_id)
        ),
        -- Prohibition is decided once per (country, classes), not once per event.
        kinds AS (SELECT DISTINCT country, data_classes FROM located),
        judged AS (
            SELECT k.country, bool_or(EXISTS (
                SELECT 1 FROM access_prohibited ap
                WHERE ap.country = k.country AND list_contains(k.data_classes, ap.data_class)
            )) AS prohibited
            FROM kinds k GROUP BY k.country
        )
        SELECT l.country, sum(l.events) AS events,
            count(DISTINCT l.principal) AS principals, any_value(j.prohibited) AS prohibited
        FROM located l LEFT JOIN judged j ON j.country IS NOT DISTINCT FROM l.country
        GROUP BY l.country ORDER BY events DESC, l.country
        """
    ).to_pylist()
    return [
        CountryAccess(r["country"], int(r["events"]), int(r["principals"]), bool(r["prohibited"]))
        for r in rows
    ]


def scalar(engine: TableStore, sql: str) -> int:
    return int(engine.query(sql).column(0)[0].as_py())
