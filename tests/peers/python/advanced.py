"""Advanced profile features of a WAMP router, exercised by AutobahnPython.

Usage: advanced.py URL REALM json|msgpack

Prints "PASS <name>" per check and "DONE <count>" at the end; any failure
prints "FAIL <name>: <reason>" and exits with status 1.

AutobahnPython 26 cannot ask for some options (`disclose_me` on PUBLISH,
`disclose_caller` on REGISTER): for those the script adds the option to
the message as it goes on the wire (see `with_wire_options`).
"""

import asyncio

from autobahn.wamp import message
from autobahn.wamp.types import CallOptions, PublishOptions, RegisterOptions, SubscribeOptions

from peer import TIMEOUT, Checks, Inbox, connect, expect, expect_error

# Options to add to the next message of a class, as it is serialized.
WIRE_OPTIONS = {}


def _add_wire_options(cls):
    original = cls.marshal_options

    def marshal_options(self):
        options = original(self)
        options.update(WIRE_OPTIONS.pop(cls, {}))
        return options

    cls.marshal_options = marshal_options


for _cls in (message.Publish, message.Register):
    _add_wire_options(_cls)


def with_wire_options(cls, **options):
    WIRE_OPTIONS[cls] = options


async def main():
    check = Checks()

    a, a_details = await connect()
    b, b_details = await connect()
    c, c_details = await connect()

    @check("router announces its advanced features")
    async def _():
        roles = a._router_roles
        for role, feature in [
            ("broker", "publisher_identification"),
            ("broker", "subscriber_blackwhite_listing"),
            ("broker", "publisher_exclusion"),
            ("broker", "pattern_based_subscription"),
            ("dealer", "pattern_based_registration"),
            ("dealer", "shared_registration"),
            ("broker", "session_meta_api"),
            ("dealer", "session_meta_api"),
            ("broker", "subscription_meta_api"),
            ("dealer", "registration_meta_api"),
            ("broker", "event_retention"),
            ("dealer", "testament_meta_api"),
            ("dealer", "caller_identification"),
            ("dealer", "call_canceling"),
            ("dealer", "call_timeout"),
            ("dealer", "progressive_call_results"),
        ]:
            expect(getattr(roles[role], feature, None) is True, f"{role}.{feature} not announced")

    @check("publisher identification")
    async def _():
        inbox = Inbox()
        await b.subscribe(
            lambda *args, details: inbox(details), "com.adv.disclosed", options=SubscribeOptions(details_arg="details")
        )
        with_wire_options(message.Publish, disclose_me=True)
        await a.publish("com.adv.disclosed", 1, options=PublishOptions(acknowledge=True))
        await a.publish("com.adv.disclosed", 2, options=PublishOptions(acknowledge=True))
        items = await inbox.wait_for(2)
        first, second = items[0][0][0], items[1][0][0]
        expect(first.publisher == a_details.session, f"publisher {first.publisher}")
        expect(first.publisher_authid == a_details.authid, f"publisher_authid {first.publisher_authid}")
        expect(first.publisher_authrole == a_details.authrole, f"publisher_authrole {first.publisher_authrole}")
        expect(second.publisher is None, "disclosed without being asked")

    @check("black- and whitelisting by session, authid and authrole")
    async def _():
        inboxes = {}
        for name, session in (("b", b), ("c", c)):
            inboxes[name] = Inbox()
            await session.subscribe(inboxes[name], "com.adv.listed")
        cases = [
            (PublishOptions(acknowledge=True, exclude=[b_details.session]), ["c"]),
            (PublishOptions(acknowledge=True, eligible=[b_details.session]), ["b"]),
            (PublishOptions(acknowledge=True, exclude_authid=[c_details.authid]), ["b"]),
            (PublishOptions(acknowledge=True, eligible_authid=[c_details.authid]), ["c"]),
            (PublishOptions(acknowledge=True, exclude_authrole=["anonymous"]), []),
            (PublishOptions(acknowledge=True, eligible_authrole=["anonymous"], exclude=[c_details.session]), ["b"]),
        ]
        for n, (options, _) in enumerate(cases):
            await a.publish("com.adv.listed", n, options=options)
        # A marker every subscriber gets closes the sequence.
        await a.publish("com.adv.listed", "end", options=PublishOptions(acknowledge=True))
        for name, inbox in inboxes.items():
            items = await inbox.wait_for(1 + sum(name in to for _, to in cases))
            got = [args[0] for args, _ in items]
            want = [n for n, (_, to) in enumerate(cases) if name in to] + ["end"]
            expect(got == want, f"{name} received {got}, expected {want}")

    @check("caller identification on a registration that asks")
    async def _():
        seen = []

        def whoami(details):
            seen.append(details)
            return details.caller

        with_wire_options(message.Register, disclose_caller=True)
        await a.register(whoami, "com.adv.whoami", options=RegisterOptions(details_arg="details"))
        result = await b.call("com.adv.whoami")
        expect(result == b_details.session, f"caller {result}, expected {b_details.session}")
        expect(seen[0].caller_authid == b_details.authid, f"caller_authid {seen[0].caller_authid}")
        expect(seen[0].caller_authrole == b_details.authrole, f"caller_authrole {seen[0].caller_authrole}")

    @check("progressive call results")
    async def _():
        async def countdown(n, details):
            for i in range(n, 0, -1):
                if details.progress:
                    details.progress(i)
                await asyncio.sleep(0)
            return "liftoff"

        await a.register(countdown, "com.adv.countdown", options=RegisterOptions(details_arg="details"))
        progress = []
        result = await b.call("com.adv.countdown", 3, options=CallOptions(on_progress=progress.append))
        expect(result == "liftoff", f"result {result}")
        expect(progress == [3, 2, 1], f"progressive results {progress}")

    @check("canceling a call interrupts the callee")
    async def _():
        loop = asyncio.get_running_loop()
        started, interrupted = loop.create_future(), loop.create_future()

        async def forever():
            started.set_result(True)
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                interrupted.set_result(True)
                raise

        await a.register(forever, "com.adv.forever")
        pending = b.call("com.adv.forever")
        await asyncio.wait_for(started, TIMEOUT)
        pending.cancel()
        await asyncio.wait_for(interrupted, TIMEOUT)
        # The session still works after the cancel's ERROR.
        expect(await b.call("com.adv.countdown", 0) == "liftoff", "session broken after cancel")

    @check("prefix and wildcard subscriptions get the concrete topic")
    async def _():
        prefix, wildcard = Inbox(), Inbox()
        await b.subscribe(
            lambda *args, details: prefix(details.topic, *args),
            "com.adv.shop.",
            options=SubscribeOptions(match="prefix", details_arg="details"),
        )
        await c.subscribe(
            lambda *args, details: wildcard(details.topic, *args),
            "com.adv..order",
            options=SubscribeOptions(match="wildcard", details_arg="details"),
        )
        for topic in ("com.adv.shop.order", "com.adv.bank.order", "com.adv.shop.stock.low", "com.adv.other"):
            await a.publish(topic, topic, options=PublishOptions(acknowledge=True))
        await a.publish("com.adv.shop.end", options=PublishOptions(acknowledge=True))
        await a.publish("com.adv.end.order", options=PublishOptions(acknowledge=True))
        got_prefix = [args for args, _ in await prefix.wait_for(3)]
        got_wildcard = [args for args, _ in await wildcard.wait_for(3)]
        expect(
            got_prefix
            == [
                ("com.adv.shop.order", "com.adv.shop.order"),
                ("com.adv.shop.stock.low", "com.adv.shop.stock.low"),
                ("com.adv.shop.end",),
            ],
            f"prefix subscriber got {got_prefix}",
        )
        expect(
            got_wildcard
            == [
                ("com.adv.shop.order", "com.adv.shop.order"),
                ("com.adv.bank.order", "com.adv.bank.order"),
                ("com.adv.end.order",),
            ],
            f"wildcard subscriber got {got_wildcard}",
        )

    @check("pattern registrations by the specification's precedence")
    async def _():
        # AutobahnPython fills in details.procedure from the registration
        # when the INVOCATION carries none.
        def answer(name):
            return lambda *args, details: (name, details.procedure)

        await a.register(answer("exact"), "com.adv.obj.get", options=RegisterOptions(details_arg="details"))
        await a.register(
            answer("short prefix"), "com.adv.obj", options=RegisterOptions(match="prefix", details_arg="details")
        )
        await a.register(
            answer("long prefix"), "com.adv.obj.item", options=RegisterOptions(match="prefix", details_arg="details")
        )
        await a.register(
            answer("wildcard"), "com.adv..get", options=RegisterOptions(match="wildcard", details_arg="details")
        )
        cases = {
            "com.adv.obj.get": ["exact", "com.adv.obj.get"],
            "com.adv.obj.put": ["short prefix", "com.adv.obj.put"],
            "com.adv.obj.item.7": ["long prefix", "com.adv.obj.item.7"],
            "com.adv.thing.get": ["wildcard", "com.adv.thing.get"],
        }
        for procedure, want in cases.items():
            got = list(await b.call(procedure))
            expect(got == want, f"{procedure} went to {got}, expected {want}")
        await expect_error(b.call("com.adv.thing.put"), "wamp.error.no_such_procedure")

    @check("shared registration, round robin")
    async def _():
        await a.register(lambda: "a", "com.adv.shared", options=RegisterOptions(invoke="roundrobin"))
        await c.register(lambda: "c", "com.adv.shared", options=RegisterOptions(invoke="roundrobin"))
        got = [await b.call("com.adv.shared") for _ in range(4)]
        expect(got == ["a", "c", "a", "c"], f"calls went to {got}")
        other_policy = RegisterOptions(invoke="random")
        await expect_error(
            b.register(lambda: "b", "com.adv.shared", options=other_policy), "wamp.error.procedure_already_exists"
        )

    @check("session meta API: count, list, get, on_join, on_leave")
    async def _():
        joined, left = Inbox(), Inbox()
        await a.subscribe(joined, "wamp.session.on_join")
        await a.subscribe(left, "wamp.session.on_leave")
        count = await b.call("wamp.session.count")
        listed = await b.call("wamp.session.list")
        expect(count == 3, f"count {count}")
        expect(sorted(listed) == sorted([a_details.session, b_details.session, c_details.session]), f"list {listed}")
        got = await b.call("wamp.session.get", c_details.session)
        expect(got["session"] == c_details.session and got["authid"] == c_details.authid, f"get {got}")
        await expect_error(b.call("wamp.session.get", 1), "wamp.error.no_such_session")
        d, d_details = await connect()
        (details,), _ = (await joined.wait_for(1))[0]
        expect(details["session"] == d_details.session, f"on_join {details}")
        d.leave()
        args, _ = (await left.wait_for(1))[0]
        expect(list(args) == [d_details.session, d_details.authid, d_details.authrole], f"on_leave {args}")
        await expect_error(b.call("wamp.session.kill", c_details.session), "wamp.error.not_authorized")

    @check("registration and subscription meta API and events")
    async def _():
        created, registered = Inbox(), Inbox()
        await a.subscribe(created, "wamp.registration.on_create")
        await a.subscribe(registered, "wamp.registration.on_register")
        registration = await c.register(lambda: None, "com.adv.meta.proc")
        (session, details), _ = (await created.wait_for(1))[0]
        expect(session == c_details.session, f"on_create session {session}")
        expect(details["id"] == registration.id and details["uri"] == "com.adv.meta.proc", f"on_create {details}")
        expect(details["match"] == "exact" and details["invoke"] == "single", f"on_create {details}")
        expect(len(details["created"]) == 24 and details["created"].endswith("Z"), f"created {details['created']}")
        (session, rid), _ = (await registered.wait_for(1))[0]
        expect((session, rid) == (c_details.session, registration.id), f"on_register {session}, {rid}")
        expect(await b.call("wamp.registration.lookup", "com.adv.meta.proc") == registration.id, "lookup")
        expect(await b.call("wamp.registration.match", "com.adv.meta.proc") == registration.id, "match")
        callees = await b.call("wamp.registration.list_callees", registration.id)
        expect(callees == [c_details.session], f"callees {callees}")
        got = await b.call("wamp.registration.get", registration.id)
        expect(got["uri"] == "com.adv.meta.proc", f"get {got}")
        subscription = await c.subscribe(lambda: None, "com.adv.meta.topic")
        expect(await b.call("wamp.subscription.lookup", "com.adv.meta.topic") == subscription.id, "lookup")
        expect(subscription.id in await b.call("wamp.subscription.match", "com.adv.meta.topic"), "match")
        expect(await b.call("wamp.subscription.count_subscribers", subscription.id) == 1, "count_subscribers")
        listed = await b.call("wamp.subscription.list")
        expect(subscription.id in listed["exact"], f"list {listed}")

    @check("event retention")
    async def _():
        await a.publish("com.adv.temperature", 20, options=PublishOptions(acknowledge=True, retain=True))
        await a.publish("com.adv.temperature", 21, options=PublishOptions(acknowledge=True, retain=True))
        await a.publish("com.adv.temperature", 99, options=PublishOptions(acknowledge=True))
        inbox, plain = Inbox(), Inbox()
        await b.subscribe(
            lambda *args, details: inbox(details.retained, *args),
            "com.adv.temperature",
            options=SubscribeOptions(get_retained=True, details_arg="details"),
        )
        await c.subscribe(plain, "com.adv.temperature")
        items = await inbox.wait_for(1)
        expect(items[0][0] == (True, 21), f"retained event {items[0]}")
        await a.publish("com.adv.temperature", 22, options=PublishOptions(acknowledge=True))
        items = await inbox.wait_for(2)
        expect(items[1][0] == (None, 22) or items[1][0] == (False, 22), f"next event {items[1]}")
        await plain.wait_for(1)
        expect([args for args, _ in plain.items] == [(22,)], f"without get_retained {plain.items}")

    @check("a testament is published when its session goes away")
    async def _():
        inbox = Inbox()
        await a.subscribe(inbox, "com.adv.testament")
        d, d_details = await connect()
        await d.call("wamp.session.add_testament", "com.adv.testament", ["gone", d_details.session], {"why": "test"})
        await d.call("wamp.session.add_testament", "com.adv.testament", ["flushed"], {}, scope="detached")
        await d.call("wamp.session.flush_testaments", scope="detached")
        # The connection drops without GOODBYE.
        d._transport.close()
        items = await inbox.wait_for(1)
        await asyncio.sleep(0.2)
        expect(inbox.items == [(("gone", d_details.session), {"why": "test"})], f"testaments {inbox.items}")

    @check("options the router does not offer are refused by name")
    async def _():
        hashed = PublishOptions(acknowledge=True, transaction_hash="abc")
        e = await expect_error(a.publish("com.adv.hashed", 1, options=hashed), "wamp.error.option_not_allowed")
        expect("transaction_hash" in str(e.args), f"message {e.args}")

    @check("the wamp. namespace is the router's")
    async def _():
        await expect_error(a.register(lambda: None, "wamp.session.count"), "wamp.error.invalid_uri")

    await check.run((a, b, c))


if __name__ == "__main__":
    asyncio.run(main())
