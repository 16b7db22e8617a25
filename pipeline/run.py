"""What a run produces and how it is summarised for people; no Prefect here."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RunSummary:
    seeds_dir: str
    data_dir: str
    n_inputs: int = 0
    n_articles: int = 0
    n_paragraphs: int = 0
    n_mentions: int = 0
    quarantined: list[tuple[str, str, str]] = field(default_factory=list)  # (path, stage, reason)
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
        out += [f"    {path}: {stage}/{reason}" for path, stage, reason in self.quarantined[:20]]
        if len(self.quarantined) > 20:
            out.append(f"    ... and {len(self.quarantined) - 20} more (see quarantine.parquet)")
        out += [
            f"paragraphs:       {self.n_paragraphs}",
            f"entity mentions:  {self.n_mentions}",
            f"validation:       {'passed' if self.validation_success else 'FAILED'}",
        ]
        out += [f"    {line}" for line in self.validation_failures]
        version_note = ("new version" if self.version_created
                        else "unchanged: identical to an existing version, nothing new published")
        out.append(f"version:          {self.version_id} ({version_note})")
        if self.validation_success:
            out.append(f"tables:           {Path(self.data_dir, 'latest')}/ -> {self.tables_dir}")
        else:
            out.append(f"tables:           {self.tables_dir} (latest NOT moved: validation failed)")
        out.append(f"elapsed:          {self.elapsed_s:.1f} s")
        return out
