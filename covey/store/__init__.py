"""The store: one database for checkpoints, memory and eval results, with versioned schemas.

SQLite by default, PostgreSQL by URL. `Store` owns the engine; `CheckpointStore` keeps
graph threads (deltas plus periodic snapshots), pruned on each commit by a `KeepLast`
policy; `EffectJournal` keeps side-effect results by idempotency key; `KnowledgeGraph` keeps
entities, relations and observations per namespace, with ranked full-text search. Other
components declare a `Component` with their `Migration`s and call `Store.migrate()` before
first use.

Every name loads on first use, so that importing one part (such as `FieldOp`) does not
import SQLAlchemy.
"""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from .._lazy import lazy_loader as _lazy_loader
from .._lazy import lazy_names as _lazy_names
from ._errors import CheckpointConflict, CheckpointNotFound, StoreError

if _TYPE_CHECKING:
    from ._checkpoint_types import Checkpoint, CheckpointInfo, KeepLast
    from ._checkpoints import CheckpointStore
    from ._engine import Store, resolve_url
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

_LAZY = {
    **_lazy_names("covey.store._checkpoint_types", ("Checkpoint", "CheckpointInfo", "KeepLast")),
    **_lazy_names("covey.store._checkpoints", ("CheckpointStore",)),
    **_lazy_names("covey.store._engine", ("Store", "resolve_url")),
    **_lazy_names("covey.store._journal", ("Effect", "EffectJournal")),
    **_lazy_names(
        "covey.store._knowledge",
        (
            "Entity",
            "EntityNotFound",
            "GraphView",
            "KnowledgeGraph",
            "ObservationsAdded",
            "Relation",
        ),
    ),
    **_lazy_names("covey.store._knowledge_tables", ("MEMORY",)),
    **_lazy_names("covey.store._memories", ("Embedder", "LongTermMemory", "Memory")),
    **_lazy_names("covey.store._migrations", ("Component", "Migration")),
    **_lazy_names("covey.store._ops", ("FieldOp", "FieldOpLike", "OpName", "apply_ops")),
    **_lazy_names("covey.store._tables", ("CHECKPOINTS",)),
}
__getattr__ = _lazy_loader(__name__, _LAZY, globals())


def __dir__() -> list[str]:
    return sorted(__all__)


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
