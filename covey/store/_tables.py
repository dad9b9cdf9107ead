"""Tables of the `checkpoints` component: threads, their checkpoints, the effect journal.

A thread's state at step `k` is the snapshot of the checkpoint at its `base_step` with the
deltas of the later checkpoints up to `k` applied in step order. Every `snapshot_every`
steps a checkpoint carries a full snapshot, so loading replays a bounded number of deltas.
"""

from __future__ import annotations

import sqlalchemy as sa

from ._migrations import Component, Migration

__all__ = ["CHECKPOINTS", "threads", "checkpoints", "effects"]

metadata = sa.MetaData()

threads = sa.Table(
    "covey_threads",
    metadata,
    sa.Column("thread_id", sa.String, primary_key=True),
    sa.Column("head_id", sa.String, nullable=False),  # the latest checkpoint
    sa.Column("head_step", sa.BigInteger, nullable=False),
    sa.Column("base_step", sa.BigInteger, nullable=False),  # the latest snapshot
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

checkpoints = sa.Table(
    "covey_checkpoints",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column(
        "thread_id",
        sa.String,
        sa.ForeignKey("covey_threads.thread_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("base_step", sa.BigInteger, nullable=False),  # where replay starts for this one
    sa.Column("parent_id", sa.String, nullable=True),  # no foreign key: parents get pruned
    sa.Column("delta", sa.Text, nullable=False),  # JSON list of ops
    sa.Column("snapshot", sa.Text, nullable=True),  # JSON full state, on snapshot steps
    sa.Column("next_nodes", sa.Text, nullable=False),
    sa.Column("interrupt", sa.Text, nullable=True),
    sa.Column("meta", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("thread_id", "step", name="uq_covey_checkpoints_thread_step"),
)

effects = sa.Table(
    "covey_effects",
    metadata,
    sa.Column("thread_id", sa.String, primary_key=True),
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)


def _v1(conn: sa.Connection) -> None:
    # Version 1 is today's tables. When a version 2 changes them, freeze this step by
    # copying the version-1 table definitions here.
    metadata.create_all(conn, tables=[threads, checkpoints, effects])


CHECKPOINTS = Component(
    name="checkpoints",
    migrations=(
        Migration(
            version=1,
            description="threads, checkpoints (deltas and snapshots), effect journal",
            apply=_v1,
        ),
    ),
)
"""The component that `CheckpointStore` and `EffectJournal` migrate on first use."""
