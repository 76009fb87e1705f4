"""AutobahnPython as the caller of a Rust component's progressive and
interruptible procedures, hosted embedded.

Usage: component_advanced_peer.py URL REALM json|msgpack

The component (tests/tests/progressive.rs, `Streams`) offers
com.test.stream.{count, watch, hang, log}. Prints "PASS <check>" per check
and "DONE <count>".

AutobahnPython 26 reads a call timeout in seconds; the script puts the
timeout (milliseconds) into CALL.Options on the wire itself.
"""

import asyncio

from autobahn.wamp import message
from autobahn.wamp.types import CallOptions

from peer import Checks, connect, expect, expect_error

WIRE_CALL_OPTIONS = {}
_marshal = message.Call.marshal_options


def _marshal_with_wire_options(self):
    options = _marshal(self)
    options.update(WIRE_CALL_OPTIONS.pop(self.procedure, {}))
    return options


message.Call.marshal_options = _marshal_with_wire_options


async def logged(s, entry):
    """Waits until the component logs `entry` (its log empties as it is read)."""
    seen = []
    for _ in range(200):
        seen += await s.call("com.test.stream.log")
        if entry in seen:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"'{entry}' never logged; logged meanwhile: {seen}")


async def main():
    check = Checks()
    s, _ = await connect()

    @check("partial results reach on_progress, then the result")
    async def _():
        partial = []
        result = await s.call("com.test.stream.count", 4, options=CallOptions(on_progress=partial.append))
        expect(partial == [1, 2, 3] and result == 4, f"partial {partial}, result {result}")

    @check("a caller that takes no partial results gets the result alone")
    async def _():
        expect(await s.call("com.test.stream.count", 3) == 3, "count(3)")

    @check("canceling a call interrupts the procedure")
    async def _():
        started = asyncio.get_running_loop().create_future()
        pending = s.call(
            "com.test.stream.watch",
            options=CallOptions(on_progress=lambda m: started.done() or started.set_result(m)),
        )
        expect(await started == "started", "the procedure started")
        pending.cancel()
        try:
            await pending
        except asyncio.CancelledError:
            pass
        await logged(s, "watch killnowait wamp.error.canceled")

    @check("a router-timed call interrupts the procedure with wamp.error.timeout")
    async def _():
        WIRE_CALL_OPTIONS["com.test.stream.watch"] = {"timeout": 300}
        await expect_error(s.call("com.test.stream.watch", options=CallOptions(on_progress=lambda m: None)),
                           "wamp.error.timeout")
        await logged(s, "watch killnowait wamp.error.timeout")

    @check("a procedure that does not watch is dropped when interrupted")
    async def _():
        WIRE_CALL_OPTIONS["com.test.stream.hang"] = {"timeout": 300}
        await expect_error(s.call("com.test.stream.hang"), "wamp.error.timeout")
        await logged(s, "hang dropped")

    await check.run([s])


if __name__ == "__main__":
    asyncio.run(main())
