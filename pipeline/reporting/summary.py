"""What a run produces and how it is summarised for people; no Prefect here."""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.location import is_remote, join
from pipeline.core.textutil import printable_path


@dataclass(frozen=True)
class StageCounts:
    """Documents a document stage ran on, and those whose stored output was reused."""

    label: str  # the stage as people see it (Stage.title)
    processed: int = 0
    reused: int = 0

    def __str__(self) -> str:
        return f"{self.processed} processed, {self.reused} reused"


@dataclass
class RunSummary:
    seeds_dir: str
    data_dir: str
    n_inputs: int = 0
    n_articles: int = 0
    n_paragraphs: int = 0
    n_mentions: int = 0
    quarantined: list[tuple[str, str, str]] = field(default_factory=list)  # (path, stage, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, reason), documents kept
    counts: dict[str, StageCounts] = field(default_factory=dict)  # by document stage name, in run order
    validation_success: bool = False
    validation_failures: list[str] = field(default_factory=list)
    version_id: str = ""
    version_created: bool = False
    latest_moved: bool = False
    tables_dir: str = ""
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.validation_success

    def lines(self) -> list[str]:
        reasons = Counter(f"{stage}/{reason}" for _, stage, reason in self.quarantined)
        out = [
            f"inputs found:     {self.n_inputs}"
            + ("  (WARNING: no .txt/.html/.htm files: is --seeds right?)" if not self.n_inputs else ""),
            f"articles:         {self.n_articles}",
            f"quarantined:      {len(self.quarantined)}"
            + (f"  ({', '.join(f'{r}: {n}' for r, n in sorted(reasons.items()))})" if reasons else ""),
        ]
        out += [f"    {printable_path(path)}: {stage}/{reason}" for path, stage, reason in self.quarantined[:20]]
        if len(self.quarantined) > 20:
            out.append(f"    ... and {len(self.quarantined) - 20} more (see the quarantine table)")
        if self.warnings:
            out.append(f"warnings:         {len(self.warnings)} (documents kept)")
            out += [f"    {printable_path(path)}: {reason}" for path, reason in self.warnings[:20]]
        out += [
            "documents:        " + "; ".join(f"{c.label} {c}" for c in self.counts.values()),
            f"paragraphs:       {self.n_paragraphs}",
            f"entity mentions:  {self.n_mentions}",
            f"validation:       {'passed' if self.validation_success else 'FAILED'}",
        ]
        out += [f"    {line}" for line in self.validation_failures]
        version_note = ("new version" if self.version_created
                        else "unchanged: identical to an existing version, nothing new published")
        if self.latest_moved and not self.version_created:
            version_note += "; latest moved back to it"
        out.append(f"version:          {self.version_id} ({version_note})")
        if self.validation_success:
            from pipeline.storage.versions import LATEST_FILE

            current = join(self.data_dir, LATEST_FILE) if is_remote(self.data_dir) else f"{Path(self.data_dir, 'latest')}/"
            out.append(f"tables:           {printable_path(current)} -> {printable_path(self.tables_dir)}")
        else:
            out.append(f"tables:           {printable_path(self.tables_dir)} (latest NOT moved: validation failed)")
        out.append(f"elapsed:          {self.elapsed_s:.1f} s")
        return out

    @classmethod
    def for_unchanged_version(cls, seeds_dir: str, data_dir: str, store, manifest: dict, started: float,
                              counts: dict[str, StageCounts]) -> "RunSummary":
        """The summary of a run that found the latest version already built from its inputs."""
        from pipeline.storage.loading import read_table

        rows = {name: info["rows"] for name, info in manifest["tables"].items()}
        quarantine = read_table(store.readable_location(manifest["version_id"]), "quarantine",
                                columns=["source_path", "stage", "reason"]).to_pylist()
        return cls(
            seeds_dir=seeds_dir, data_dir=data_dir, n_inputs=len(manifest["inputs"]),
            n_articles=rows["articles"], n_paragraphs=rows["paragraphs"], n_mentions=rows["entities"],
            quarantined=sorted((q["source_path"], q["stage"], q["reason"]) for q in quarantine),
            warnings=[(w["path"], w["reason"]) for w in manifest.get("document_warnings", [])],
            counts=counts,
            validation_success=manifest["validation"]["success"], version_id=manifest["version_id"],
            tables_dir=str(store.version_location(manifest["version_id"])),
            elapsed_s=time.perf_counter() - started)
