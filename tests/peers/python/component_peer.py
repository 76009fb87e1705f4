"""AutobahnPython calls and publishes to a Rust component hosted embedded.

Usage: component_peer.py URL REALM json|msgpack

The component (tests/tests/components.rs, `Geometry`) offers
com.test.geo.{add2, scale, move, greetings} and subscribes to
com.test.geo.greet. Prints "PASS <check>" per check and "DONE <count>".
"""

import asyncio
import sys

from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import JsonSerializer, MsgPackSerializer
from autobahn.wamp.types import ComponentConfig, PublishOptions
from autobahn.websocket.util import parse_url

URL, REALM, SERIALIZER = sys.argv[1], sys.argv[2], sys.argv[3]


async def connect():
    loop = asyncio.get_running_loop()
    joined = loop.create_future()
    session = ApplicationSession(ComponentConfig(REALM))
    session.on("join", lambda s, details: joined.done() or joined.set_result(details))
    serializer = JsonSerializer() if SERIALIZER == "json" else MsgPackSerializer()
    factory = WampWebSocketClientFactory(lambda: session, url=URL, serializers=[serializer])
    _, host, port, _, _, _ = parse_url(URL)
    await loop.create_connection(factory, host, port)
    await asyncio.wait_for(joined, 20)
    return session


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


async def main():
    s = await connect()
    checks = 0

    def passed(name):
        nonlocal checks
        checks += 1
        print(f"PASS {name}", flush=True)

    expect(await s.call("com.test.geo.add2", 2, 3) == 5, "add2")
    passed("positional arguments")

    result = await s.call("com.test.geo.scale", point={"x": 1.5, "y": -2}, factor=2)
    expect(result == {"x": 3.0, "y": -4.0}, f"scale: {result}")
    passed("keyword arguments and a struct parameter")

    try:
        await s.call("com.test.geo.move", -1)
        raise AssertionError("move(-1) succeeded")
    except ApplicationError as e:
        expect(e.error == "com.test.geo.error.backwards", f"uri {e.error}")
        expect(e.kwargs == {"dx": -1.0}, f"kwargs {e.kwargs}")
    passed("application error with a custom uri")

    try:
        await s.call("com.test.geo.add2", "two", 3)
        raise AssertionError("add2('two', 3) succeeded")
    except ApplicationError as e:
        expect(e.error == "wamp.error.invalid_argument", f"uri {e.error}")
        expect("argument 'x'" in str(e.args[0]), f"message {e.args}")
    passed("wrong argument type")

    await s.publish("com.test.geo.greet", "Grace", options=PublishOptions(acknowledge=True))
    for _ in range(100):
        greetings = await s.call("com.test.geo.greetings")
        if "Grace" in greetings:
            break
        await asyncio.sleep(0.02)
    expect("Grace" in greetings, f"greetings {greetings}")
    passed("publish to the component")

    s.leave()
    await asyncio.sleep(0.1)
    print(f"DONE {checks}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
