"""What the AutobahnPython check scripts share: joining a session, collecting
events, expectations, and running a list of named checks.

Every script takes `URL REALM json|msgpack` as its arguments (a `wss://`
URL trusts the CA certificate file named by `WAMP_TEST_CA`), prints
"PASS <name>" per check and "DONE <count>" at the end; a failure prints
"FAIL <name>: <reason>" and the script exits with status 1.

With `WAMP_TEST_DEFLATE=1` every connection offers permessage-deflate and
one more check, run last, requires that each of them uses it.
"""

import asyncio
import os
import ssl
import sys
import traceback

from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.websocket.compress import PerMessageDeflateOffer, PerMessageDeflateResponseAccept
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.serializer import JsonSerializer, MsgPackSerializer
from autobahn.wamp.types import ComponentConfig
from autobahn.websocket.util import parse_url

URL, REALM, SERIALIZER = sys.argv[1], sys.argv[2], sys.argv[3]
TIMEOUT = 20
DEFLATE = os.environ.get("WAMP_TEST_DEFLATE") == "1"

# The WebSocket connections opened, for the permessage-deflate check.
OPENED = []


async def open_transport(session):
    """Connects `session` to URL with the script's serializer."""
    loop = asyncio.get_running_loop()
    serializer = JsonSerializer() if SERIALIZER == "json" else MsgPackSerializer()
    factory = WampWebSocketClientFactory(lambda: session, url=URL, serializers=[serializer])
    if DEFLATE:
        factory.setProtocolOptions(
            perMessageCompressionOffers=[PerMessageDeflateOffer(accept_max_window_bits=True)],
            perMessageCompressionAccept=lambda response: PerMessageDeflateResponseAccept(response),
        )
    secure, host, port, _, _, _ = parse_url(URL)
    if secure:
        # wss://: trust the CA the test made (WAMP_TEST_CA), else the system's.
        context = ssl.create_default_context(cafile=os.environ.get("WAMP_TEST_CA"))
        _, protocol = await loop.create_connection(factory, host, port, ssl=context, server_hostname=host)
    else:
        _, protocol = await loop.create_connection(factory, host, port)
    OPENED.append(protocol)


async def connect():
    """Opens one session and waits until it has joined."""
    loop = asyncio.get_running_loop()
    joined = loop.create_future()
    session = ApplicationSession(ComponentConfig(REALM))
    session.on("join", lambda s, details: joined.done() or joined.set_result(details))
    session.on("leave", lambda s, details: joined.done() or joined.set_exception(RuntimeError(f"left: {details}")))
    await open_transport(session)
    details = await asyncio.wait_for(joined, TIMEOUT)
    return session, details


async def connect_with(on_connect, on_challenge, on_join, on_leave):
    """Opens a session whose life is in the caller's hands: each hook gets
    the session (and the challenge or details)."""

    class Session(ApplicationSession):
        def onConnect(self):
            on_connect(self)

        def onChallenge(self, challenge):
            return on_challenge(self, challenge)

        def onJoin(self, details):
            on_join(self, details)

        def onLeave(self, details):
            on_leave(self, details)

    await open_transport(Session(ComponentConfig(REALM)))


class Inbox:
    """Collects the calls of a handler (events of a subscription)."""

    def __init__(self):
        self.items = []
        self.changed = asyncio.Event()

    def __call__(self, *args, **kwargs):
        self.items.append((args, kwargs))
        self.changed.set()

    async def wait_for(self, count):
        while len(self.items) < count:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), TIMEOUT)
        return self.items


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


async def expect_error(coro, uri):
    """Awaits `coro`, which must fail with the error `uri`; returns the error."""
    try:
        await coro
    except ApplicationError as e:
        expect(e.error == uri, f"expected {uri}, got {e.error}")
        return e
    raise AssertionError(f"expected {uri}, got success")


async def expect_deflate():
    """Every connection opened so far negotiated permessage-deflate."""
    expect(OPENED, "no connection was opened")
    for protocol in OPENED:
        expect(protocol._perMessageCompress is not None, "permessage-deflate was not negotiated")


class Checks:
    """Named checks, run in the order they were declared."""

    def __init__(self):
        self.checks = []

    def __call__(self, name):
        def register(fn):
            self.checks.append((name, fn))
            return fn

        return register

    async def run(self, sessions):
        """Runs every check, leaves `sessions`, and exits 1 if any failed."""
        if DEFLATE:
            self.checks.append(("permessage-deflate in use", expect_deflate))
        failed = 0
        for name, fn in self.checks:
            try:
                await asyncio.wait_for(fn(), TIMEOUT)
                print(f"PASS {name}", flush=True)
            except Exception as e:
                failed += 1
                print(f"FAIL {name}: {e!r}", flush=True)
                traceback.print_exc()
        for s in sessions:
            s.leave()
        await asyncio.sleep(0.1)
        if failed:
            sys.exit(1)
        print(f"DONE {len(self.checks)}", flush=True)
