"""`pipeline validate FILE...`: each file through the run's prepare stage, document checks and
tagger; nothing is written."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.checks.documents import check_rows, document_row
from pipeline.core.config import PipelineConfig
from pipeline.core.records import Article, Rejected
from pipeline.core.textutil import count_words, printable_path
from pipeline.stages.entities.tag import tag
from pipeline.stages.prepare import prepare_document


@dataclass(frozen=True)
class FileVerdict:
    """What `pipeline validate` says about one file."""

    path: str
    passed: bool
    stage: str = ""  # of the failure
    reason: str = ""
    detail: str = ""
    article: Article | None = None
    n_mentions: int = 0
    warnings: tuple[str, ...] = ()  # "reason: detail" of non-critical rules

    def lines(self) -> list[str]:
        if not self.passed:
            return [f"FAIL  {printable_path(self.path)}: {self.stage}/{self.reason}: {printable_path(self.detail)}"]
        a = self.article
        out = [f"PASS  {printable_path(self.path)} (article {a.article_id}, {count_words(a.text)} words, "
               f"language {a.language}, {len(a.paragraphs)} paragraphs, {self.n_mentions} entity mentions)"]
        return out + [f"      warning: {printable_path(w)}" for w in self.warnings]


def check_files(files: list[Path], config: PipelineConfig, suites_dir: Path,
                known_content: dict[str, str] | None = None) -> list[FileVerdict]:
    """Each file through prepare, the document rules and tag; nothing written.

    ``known_content`` (content_sha256 -> article_id) lets the duplicate rule see an existing
    corpus. Paths are taken relative to the files' common folder, so `pipeline validate
    seeds/new.txt` names (and ids) the document as a run over seeds/ would.
    """
    given = {Path(os.path.abspath(f)): str(f) for f in files}  # as the user typed them
    root = Path(os.path.commonpath([f.parent for f in given])) if given else Path(".")
    relative = {f.relative_to(root).as_posix(): f for f in given}
    outcomes: dict[str, Article | Rejected] = {}
    for path in relative:
        prepared = prepare_document(root, path, config)
        outcomes[path] = prepared if isinstance(prepared, Rejected) else prepared.article
    _, rejected, warned = check_rows([document_row(o) for o in outcomes.values() if isinstance(o, Article)],
                                     suites_dir, known_content)
    for out in rejected:
        outcomes[out.source_path] = out
    warnings: dict[str, list[str]] = {}
    for finding in warned:
        warnings.setdefault(finding.source_path, []).append(f"{finding.reason}: {finding.detail}")

    verdicts = []
    for path, outcome in outcomes.items():
        name = given[relative[path]]
        if isinstance(outcome, Rejected):
            verdicts.append(FileVerdict(name, False, outcome.stage, outcome.reason, outcome.detail))
            continue
        try:
            n_mentions = len(tag([outcome], config))
        except Exception as err:  # noqa: BLE001 - report it as this file's failure
            verdicts.append(FileVerdict(name, False, "tag", "tag_error", f"{type(err).__name__}: {err}"))
            continue
        verdicts.append(FileVerdict(name, True, article=outcome, n_mentions=n_mentions,
                                    warnings=tuple(warnings.get(path, ()))))
    return verdicts
