"""AutobahnPython clients against a WAMP router, one serializer per run.

Usage: interop.py URL REALM json|msgpack

Runs every check below with real AutobahnPython sessions, prints one
"PASS <name>" line per check and "DONE <count>" at the end. Any failure
prints "FAIL <name>: <reason>" and exits with status 1. The router must check
URIs strictly (the invalid-URI check relies on it: AutobahnPython itself
rejects loosely invalid URIs before sending).
"""

import asyncio

from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallResult, PublishOptions

from peer import REALM, Checks, Inbox, connect, expect, expect_error


async def main():
    check = Checks()

    a, a_details = await connect()
    b, _ = await connect()

    @check("join")
    async def _():
        expect(a_details.realm == REALM, f"realm {a_details.realm}")
        expect(1 <= a_details.session <= 2**53, f"session id {a_details.session}")
        expect(a_details.authrole == "anonymous", f"authrole {a_details.authrole}")
        expect(a.session_id != b.session_id, "two sessions share an id")

    def add2(x, y, *, scale=1):
        return (x + y) * scale

    def echo(*args, **kwargs):
        return CallResult(*args, **kwargs)

    def fail(*args, **kwargs):
        raise ApplicationError("com.test.custom_error", *args, **kwargs)

    await a.register(add2, "com.test.add2")
    await a.register(echo, "com.test.echo")
    await a.register(fail, "com.test.fail")

    @check("call with args and kwargs")
    async def _():
        result = await b.call("com.test.add2", 2, 3)
        expect(result == 5, f"add2(2, 3) = {result}")
        result = await b.call("com.test.add2", 2, 3, scale=10)
        expect(result == 50, f"add2(2, 3, scale=10) = {result}")
        result = await b.call("com.test.echo", 1, "two", [3], three={"x": None}, four=4.5)
        expect(list(result.results) == [1, "two", [3]], f"echo args {result.results}")
        expect(result.kwresults == {"three": {"x": None}, "four": 4.5}, f"echo kwargs {result.kwresults}")

    @check("unicode payload")
    async def _():
        text = "Grüße, 世界! 🚀 \u2028 \"quoted\" \\ back"
        result = await b.call("com.test.echo", text, **{"ключ": text})
        expect(list(result.results) == [text] and result.kwresults == {"ключ": text}, f"got {result}")

    @check("binary payload")
    async def _():
        data = bytes(range(256)) + b"\x00\x00"
        result = await b.call("com.test.echo", data)
        expect(result == data, f"got {type(result)} {result!r:.60}")

    @check("1 MiB payload")
    async def _():
        big = "x" * (1024 * 1024)
        result = await b.call("com.test.echo", big)
        expect(result == big, f"got {len(result)} characters")

    @check("application error with custom uri, args and kwargs")
    async def _():
        e = await expect_error(b.call("com.test.fail", 1, "two", reason="because"), "com.test.custom_error")
        expect(list(e.args) == [1, "two"], f"error args {e.args}")
        expect(e.kwargs == {"reason": "because"}, f"error kwargs {e.kwargs}")

    @check("no_such_procedure")
    async def _():
        await expect_error(b.call("com.test.nothing"), "wamp.error.no_such_procedure")

    @check("procedure_already_exists")
    async def _():
        await expect_error(b.register(add2, "com.test.add2"), "wamp.error.procedure_already_exists")

    @check("invalid_uri")
    async def _():
        await expect_error(b.call("com.test.NotStrict"), "wamp.error.invalid_uri")
        await expect_error(b.register(add2, "com.test.Not-Strict"), "wamp.error.invalid_uri")

    @check("subscribe and publish with acknowledge")
    async def _():
        inbox = Inbox()
        await a.subscribe(inbox, "com.test.topic")
        publication = await b.publish("com.test.topic", "hello", 42, who="b", options=PublishOptions(acknowledge=True))
        expect(1 <= publication.id <= 2**53, f"publication id {publication.id}")
        items = await inbox.wait_for(1)
        expect(items[0] == (("hello", 42), {"who": "b"}), f"event {items[0]}")

    @check("exclude_me both ways")
    async def _():
        inbox = Inbox()
        await a.subscribe(inbox, "com.test.self")
        await a.publish("com.test.self", "excluded", options=PublishOptions(acknowledge=True))
        await a.publish("com.test.self", "included", options=PublishOptions(acknowledge=True, exclude_me=False))
        items = await inbox.wait_for(1)
        await asyncio.sleep(0.2)
        expect([args for args, _ in items] == [("included",)], f"events {items}")

    @check("unsubscribe stops delivery")
    async def _():
        gone, marker = Inbox(), Inbox()
        subscription = await a.subscribe(gone, "com.test.gone")
        await a.subscribe(marker, "com.test.marker")
        await subscription.unsubscribe()
        await b.publish("com.test.gone", 1, options=PublishOptions(acknowledge=True))
        await b.publish("com.test.marker", 2, options=PublishOptions(acknowledge=True))
        await marker.wait_for(1)
        expect(gone.items == [], f"received after unsubscribe: {gone.items}")

    @check("1000 events complete and in order")
    async def _():
        inbox = Inbox()
        await a.subscribe(inbox, "com.test.many")
        for i in range(1000):
            b.publish("com.test.many", i)
        items = await inbox.wait_for(1000)
        got = [args[0] for args, _ in items]
        wrong = [i for i, v in enumerate(got) if v != i]
        expect(not wrong and len(got) == 1000, f"{len(got)} events, order broken at {wrong[:5]}")

    @check("200 concurrent calls")
    async def _():
        results = await asyncio.gather(*(b.call("com.test.add2", i, i) for i in range(200)))
        expect(list(results) == [2 * i for i in range(200)], "wrong results")

    await check.run((a, b))


if __name__ == "__main__":
    asyncio.run(main())
