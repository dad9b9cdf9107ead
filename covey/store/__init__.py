"""The store: one database for checkpoints, memory and eval results, with versioned schemas.

SQLite by default, PostgreSQL by URL. `Store` owns the engine; `CheckpointStore` keeps
graph threads (deltas plus periodic snapshots), pruned on each commit by a `KeepLast`
policy; `EffectJournal` keeps side-effect results by idempotency key; `KnowledgeGraph` keeps
entities, relations and observations per namespace, with ranked full-text search. Other
components declare a `Component` with their `Migration`s and call `Store.migrate()` before
first use.
"""

from ._checkpoint_types import Checkpoint, CheckpointInfo, KeepLast
from ._checkpoints import CheckpointStore
from ._engine import Store, resolve_url
from ._errors import CheckpointConflict, CheckpointNotFound, StoreError
from ._journal import Effect, EffectJournal
from ._knowledge import (
    Entity,
    EntityNotFound,
    GraphView,
    KnowledgeGraph,
    ObservationsAdded,
    Relation,
)
from ._knowledge_tables import MEMORY
from ._memories import Embedder, LongTermMemory, Memory
from ._migrations import Component, Migration
from ._ops import FieldOp, FieldOpLike, OpName, apply_ops
from ._tables import CHECKPOINTS

__all__ = [
    "Store",
    "resolve_url",
    "Component",
    "Migration",
    "CheckpointStore",
    "Checkpoint",
    "CheckpointInfo",
    "KeepLast",
    "CHECKPOINTS",
    "KnowledgeGraph",
    "Entity",
    "Relation",
    "GraphView",
    "ObservationsAdded",
    "EntityNotFound",
    "MEMORY",
    "LongTermMemory",
    "Memory",
    "Embedder",
    "FieldOp",
    "FieldOpLike",
    "OpName",
    "apply_ops",
    "EffectJournal",
    "Effect",
    "StoreError",
    "CheckpointConflict",
    "CheckpointNotFound",
]
