"""AWS Backup recovery points; a copy in another vault (or region) is a backup-copy.

store_id is the recovery point ARN. copy_of is the backed-up resource's store: its ARN, or
the bucket name for S3. ListRecoveryPointsByBackupVault is used rather than the job lists
because jobs are kept for a limited time and recovery points are what holds the data;
ListCopyJobs adds copies whose destination vault is in a region (or account) not collected.
"""

from __future__ import annotations

from typing import Any

from borderwatch.collect.aws.base import CollectedStore, Scope, arn_region

SERVICE = "backup"
GLOBAL = False


def resource_store_id(resource_arn: str) -> str:
    """The store_id the other collectors give the backed-up resource."""
    if resource_arn.startswith("arn:") and ":s3:::" in resource_arn:
        return resource_arn.split(":::", 1)[1]
    return resource_arn


def recovery_point_store(region: str, item: dict[str, Any]) -> CollectedStore:
    arn = item["RecoveryPointArn"]
    store = CollectedStore(arn, arn_region(arn) or region, SERVICE)
    resource = item.get("ResourceArn")
    if resource:
        store.copy_of = resource_store_id(resource)
        store.copy_kind = "backup-copy" if item.get("SourceBackupVaultArn") else "backup"
    return store


def collect(scope: Scope, region: str) -> list[CollectedStore]:
    vaults = scope.items(SERVICE, region, "ListBackupVaults", "BackupVaultList")
    stores: list[CollectedStore] = []
    for vault in vaults or []:
        points = scope.items(
            SERVICE,
            region,
            "ListRecoveryPointsByBackupVault",
            "RecoveryPoints",
            BackupVaultName=vault["BackupVaultName"],
        )
        stores.extend(recovery_point_store(region, p) for p in points or [])
    for job in scope.items(SERVICE, region, "ListCopyJobs", "CopyJobs") or []:
        store = copy_job_store(job)
        if store is not None:
            stores.append(store)
    return stores


def copy_job_store(job: dict[str, Any]) -> CollectedStore | None:
    """The destination of a copy job: seen even when its region or account is not collected."""
    destination = job.get("DestinationRecoveryPointArn")
    if not destination or job.get("State") in ("FAILED", "ABORTED"):
        return None
    vault = str(job.get("DestinationBackupVaultArn") or destination)
    store = CollectedStore(destination, arn_region(vault) or arn_region(destination), SERVICE)
    if job.get("ResourceArn"):
        store.copy_of, store.copy_kind = resource_store_id(job["ResourceArn"]), "backup-copy"
    store.notes.append(f"seen through copy job {job.get('CopyJobId', '?')} to vault {vault}")
    return store
