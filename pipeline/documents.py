"""One document through ingest -> extract -> normalize; any failure becomes a Rejected.

Also `check_files`: the per-document path of `pipeline validate FILE...`, the same stages
and document rules as a run, without publishing anything.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa

from pipeline.config import PipelineConfig
from pipeline.corpus import boilerplate_batch
from pipeline.records import Article, Rejected
from pipeline.stages.extract import ExtractionError, extract
from pipeline.stages.ingest import ingest
from pipeline.stages.normalize import NormalizationError, normalize
from pipeline.textutil import count_words, printable_path


def prepare_document(seeds_dir: Path, relative_path: str, config: PipelineConfig) -> Article | Rejected:
    source = ingest(seeds_dir, relative_path, config)
    if isinstance(source, Rejected):
        return source
    stage = "extract"
    try:
        extracted = extract(source)
        stage = "normalize"
        return without_page_text(normalize(extracted, config))
    except (ExtractionError, NormalizationError) as err:
        return Rejected(relative_path, stage, err.reason, err.detail, source.sha256)
    except Exception as err:  # noqa: BLE001 - one bad document must never stop the corpus
        return Rejected(relative_path, stage, f"{stage}_error",
                        f"unexpected {type(err).__name__}: {err}", source.sha256)


@dataclass(frozen=True)
class Prepared:
    """A document as a run holds it: the article without its page's blocks, and the blocks as
    rows of the boilerplate table. Blocks are most of an article's memory, and as Arrow rows
    they cost no Python object each (millions at 10,000 pages)."""

    article: Article
    boilerplate: pa.RecordBatch


def prepare_for_run(seeds_dir: Path, relative_path: str, config: PipelineConfig) -> Prepared | Rejected:
    """prepare_document, in the form a run keeps and caches."""
    outcome = prepare_document(seeds_dir, relative_path, config)
    if isinstance(outcome, Rejected):
        return outcome
    return Prepared(without_blocks(outcome), boilerplate_batch(outcome))


def without_page_text(article: Article) -> Article:
    """Only extraction reads the page itself; dropping it keeps runs and the cache small."""
    source = replace(article.extracted.source, text="")
    return replace(article, extracted=replace(article.extracted, source=source))


def without_blocks(article: Article) -> Article:
    """The article without its page's blocks (article.boilerplate_ratio keeps their summary)."""
    return replace(article, extracted=replace(article.extracted, blocks=()))


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
    """Each file through ingest, extract, normalize, the document rules and tag; nothing written.

    ``known_content`` (content_sha256 -> article_id) lets the duplicate rule see an existing
    corpus. Paths are taken relative to the files' common folder, so `pipeline validate
    seeds/new.txt` names (and ids) the document as a run over seeds/ would.
    """
    from pipeline.stages import document_checks, tag

    given = {Path(os.path.abspath(f)): str(f) for f in files}  # as the user typed them
    root = Path(os.path.commonpath([f.parent for f in given])) if given else Path(".")
    relative = {f.relative_to(root).as_posix(): f for f in given}
    outcomes = {path: prepare_document(root, path, config) for path in relative}
    checked = document_checks.check_documents(
        [o for o in outcomes.values() if isinstance(o, Article)], suites_dir, known_content)
    for rejected in checked.rejected:
        outcomes[rejected.source_path] = rejected
    warnings: dict[str, list[str]] = {}
    for finding in checked.warnings:
        warnings.setdefault(finding.source_path, []).append(f"{finding.reason}: {finding.detail}")

    verdicts = []
    for path, outcome in outcomes.items():
        name = given[relative[path]]
        if isinstance(outcome, Rejected):
            verdicts.append(FileVerdict(name, False, outcome.stage, outcome.reason, outcome.detail))
            continue
        try:
            n_mentions = len(tag.tag([outcome], config))
        except Exception as err:  # noqa: BLE001 - report it as this file's failure
            verdicts.append(FileVerdict(name, False, "tag", "tag_error", f"{type(err).__name__}: {err}"))
            continue
        verdicts.append(FileVerdict(name, True, article=outcome, n_mentions=n_mentions,
                                    warnings=tuple(warnings.get(path, ()))))
    return verdicts
