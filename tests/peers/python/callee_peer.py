"""AutobahnPython as the callee of our client's progressive, canceled and
timed calls.

Usage: callee_peer.py URL REALM json|msgpack

Registers com.test.py.{count, wait, interrupted, done}, prints "READY",
and serves until com.test.py.done is called; then prints "DONE" and exits.
The Rust test (tests/tests/progressive.rs) makes the calls and checks the
answers; `interrupted` tells it how many `wait` calls AutobahnPython saw
canceled.
"""

import asyncio

from autobahn.wamp.types import RegisterOptions

from peer import connect


async def main():
    s, _ = await connect()
    finished = asyncio.get_running_loop().create_future()
    interrupted = []

    async def count(n, details=None):
        for i in range(1, n):
            if details is not None and details.progress:
                details.progress(i)
        return n

    async def wait(details=None):
        try:
            if details is not None and details.progress:
                details.progress("started")
            await asyncio.sleep(60)
            return "finished"
        except asyncio.CancelledError:
            interrupted.append(1)
            raise

    def done():
        finished.done() or finished.set_result(None)

    with_details = RegisterOptions(details_arg="details")
    await s.register(count, "com.test.py.count", options=with_details)
    await s.register(wait, "com.test.py.wait", options=with_details)
    await s.register(lambda: len(interrupted), "com.test.py.interrupted")
    await s.register(done, "com.test.py.done")
    print("READY", flush=True)
    await asyncio.wait_for(finished, 120)
    s.leave()
    await asyncio.sleep(0.1)
    print("DONE", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
