"""The AutobahnPython side of the python-peer example.

It registers com.example.python.shout, calls the Rust component's
com.example.rust.add, then announces itself on com.example.python.ready;
the Rust component answers by calling shout and publishing the result on
com.example.rust.shouted, which ends this script.

    python peer.py [URL] [REALM] [json|msgpack]

URL defaults to ws://127.0.0.1:8080/ws (or WAMP_URL), REALM to realm1.
Needs the PyPI package autobahn (tests/peers/install.sh installs the
version the tests use).
"""

import asyncio
import os
import sys

from autobahn.asyncio.component import Component, run

url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("WAMP_URL", "ws://127.0.0.1:8080/ws")
realm = sys.argv[2] if len(sys.argv) > 2 else "realm1"
serializers = [sys.argv[3]] if len(sys.argv) > 3 else ["json", "msgpack"]

peer = Component(
    transports=[{"url": url, "serializers": serializers, "max_retries": 0}],
    realm=realm,
)


failures = []


@peer.on_join
async def joined(session, details):
    try:
        await talk(session)
    except Exception as e:
        failures.append(e)
        print(f"failed: {e!r}", file=sys.stderr, flush=True)
    finally:
        await session.leave()


async def talk(session):
    shouted = asyncio.get_running_loop().create_future()

    def shout(text):
        # Called by the Rust component.
        return text.upper()

    await session.register(shout, "com.example.python.shout")
    await session.subscribe(lambda text: shouted.set_result(text), "com.example.rust.shouted")

    total = await session.call("com.example.rust.add", 2, 3)
    print(f"rust add(2, 3) = {total}", flush=True)

    # Not acknowledged: the event's effect (the Rust side calling shout and
    # publishing the result) is what this waits for.
    session.publish("com.example.python.ready", "hello from python")
    text = await asyncio.wait_for(shouted, timeout=10)
    print(f"rust called python shout, then published: {text}", flush=True)


if __name__ == "__main__":
    run([peer], log_level=os.environ.get("LOG_LEVEL", "warn"))
    sys.exit(1 if failures else 0)
