"""A separate process writing checkpoints, as a graph worker would (used by test_processes).

python writer.py URL SCHEMA THREAD COUNT READY GO
    Touch READY, wait for GO to exist, then commit COUNT steps of THREAD (recording an
    effect before each, reading the thread back every 10 steps). COUNT 0: forever.
"""

from __future__ import annotations

import sys

import anyio

from covey.store import CheckpointStore, EffectJournal, FieldOp, Store


def message(step: int) -> dict[str, str]:
    return {"role": "assistant", "content": f"m{step}"}


async def main(url: str, schema: str, thread: str, count: int) -> None:
    async with Store.from_url(url, schema=schema or None) as store:
        checkpoints, journal = CheckpointStore(store, snapshot_every=25), EffectJournal(store)
        initial = [FieldOp(field="messages", op="set", value=[])]
        await checkpoints.commit(thread, step=0, delta=initial, next_nodes=["agent"])
        step = 1
        while count == 0 or step < count:
            await journal.record(thread, f"effect:{step}", {"step": step})
            delta = [FieldOp(field="messages", op="append", value=[message(step)])]
            await checkpoints.commit(thread, step=step, delta=delta, next_nodes=["agent"])
            if step % 10 == 0:
                saved = await checkpoints.latest(thread)
                assert saved is not None and len(saved.state["messages"]) == step
            step += 1
    print(f"done {thread} {step}")


if __name__ == "__main__":
    url, schema, thread, count = sys.argv[1:]
    print("ready", flush=True)
    sys.stdin.readline()  # the starting signal: all writers begin at once
    anyio.run(main, url, schema, thread, int(count))
