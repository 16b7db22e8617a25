"""Resolve speed: CPU seconds of resolve_mentions on a corpus replicated to 1.3k, 10.7k and 50k documents.

Run from the repository root:

    .venv/bin/python bench/resolve_speed.py           # compare with the saved reference outputs
    .venv/bin/python bench/resolve_speed.py --save    # save the reference outputs (before a change)
    .venv/bin/python bench/resolve_speed.py --copies 1 8

The input is a pickle of ``(articles, mentions)`` (tag.Mention list) of real articles; each
copy k of it gets its article ids suffixed with ``x{k}``, so the replicated corpus holds the
same names in k times as many articles (published dates: all None). Prints, per number of
copies, the documents, mentions and CPU seconds (time.process_time: steadier than the wall
clock on a shared machine), and whether the entities and entity_catalog tables equal the
reference saved with --save (byte-identical output is the requirement of any speed-up).
"""
from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.core import schema  # noqa: E402
from pipeline.core.config import PipelineConfig  # noqa: E402
from pipeline.stages.entities import resolve  # noqa: E402
from pipeline.stages.entities.tag import mention_batch  # noqa: E402


def replicated(tagged: pa.Table, copies: int) -> pa.Table:
    """The tagged table `copies` times over, article ids suffixed with the copy number."""
    index = tagged.schema.get_field_index("article_id")
    parts = [tagged.set_column(index, "article_id",
                               pc.binary_join_element_wise(tagged["article_id"], pa.scalar(f"x{c}"), ""))
             for c in range(copies)]
    return pa.concat_tables(parts).cast(schema.TAGGED)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pickle", default="/tmp/audit_tagged.pkl", help="(articles, mentions) pickle")
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 8, 37])
    parser.add_argument("--reference", default="/tmp/resolve_reference_k{copies}.arrow",
                        help="reference output file per number of copies")
    parser.add_argument("--save", action="store_true", help="save the outputs as the reference")
    args = parser.parse_args()
    with open(args.pickle, "rb") as f:
        articles, mentions = pickle.load(f)
    tagged = pa.Table.from_batches([mention_batch(mentions)])
    config = PipelineConfig()
    same_everywhere = True
    for copies in args.copies:
        big = replicated(tagged, copies)
        published = {a: None for a in pc.unique(big["article_id"]).to_pylist()}
        start = time.process_time()
        entities, catalog = resolve.resolve_mentions(big, published, config)
        seconds = time.process_time() - start
        path = Path(args.reference.format(copies=copies))
        if args.save:
            _write(path, entities, catalog)
            verdict = f"saved {path}"
        elif path.exists():
            ref_entities, ref_catalog = _read(path)
            same = entities.equals(ref_entities) and catalog.equals(ref_catalog)
            same_everywhere &= same
            verdict = "identical to reference" if same else "DIFFERENT FROM REFERENCE"
        else:
            verdict = f"no reference ({path})"
        print(f"k={copies:>3}  {copies * len(articles):>6} docs  {big.num_rows:>8} mentions  "
              f"{seconds:7.1f} s cpu  {entities.num_rows} entities rows, {catalog.num_rows} catalog rows  "
              f"{verdict}", flush=True)
    if not same_everywhere:
        sys.exit(1)


def _write(path: Path, entities: pa.Table, catalog: pa.Table) -> None:
    """Both tables in one file: entities, then the catalog, as two Arrow IPC streams."""
    with path.open("wb") as f:
        for table in (entities, catalog):
            with pa.ipc.new_stream(f, table.schema) as writer:
                writer.write_table(table)


def _read(path: Path) -> tuple[pa.Table, pa.Table]:
    with pa.memory_map(str(path)) as source:
        entities = pa.ipc.open_stream(source).read_all()
        catalog = pa.ipc.open_stream(source).read_all()
    return entities, catalog


if __name__ == "__main__":
    main()
