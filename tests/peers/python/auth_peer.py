"""AutobahnPython clients authenticating against a router configured with
docs/examples/auth.toml: realm `authrealm` with ticket, WAMP-CRA (plain and
salted) and cryptosign principals and the roles `full` and `caller`;
anonymous realm REALM (`realm1`).

Usage: auth_peer.py URL REALM json|msgpack

Each check prints "PASS <name>"; see peer.py. With `BRUTE_FORCE=N` in the
environment it runs only the brute-force check instead: N wrong tickets in a
row, then the right one, which must be refused too (the router's
max_auth_failures is below N).
"""

import asyncio
import os
import sys

from autobahn.wamp import auth
from autobahn.wamp.cryptosign import CryptosignKey
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import PublishOptions

from peer import REALM, TIMEOUT, Checks, connect, connect_with, expect, expect_error

AUTHREALM = "authrealm"
HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "..", "docs", "examples")


def cs_key():
    with open(os.path.join(EXAMPLES, "cs-user.key")) as f:
        return CryptosignKey.from_bytes(bytes.fromhex(f.read().strip()))


async def attempt(authmethods, authid=None, authextra=None, answer=None, realm=AUTHREALM):
    """Joins `realm` with the given authentication; returns ("joined",
    session, details) or ("left", None, close details)."""
    loop = asyncio.get_running_loop()
    outcome = loop.create_future()

    def on_connect(session):
        session.join(realm, authmethods=authmethods, authid=authid, authextra=authextra)

    def on_challenge(session, challenge):
        return answer(challenge)

    def on_join(session, details):
        outcome.done() or outcome.set_result(("joined", session, details))

    def on_leave(session, details):
        outcome.done() or outcome.set_result(("left", None, details))
        session.disconnect()

    await connect_with(on_connect=on_connect, on_challenge=on_challenge, on_join=on_join, on_leave=on_leave)
    return await asyncio.wait_for(outcome, TIMEOUT)


async def joins(expected_authid, expected_method, **kwargs):
    kind, session, details = await attempt(**kwargs)
    expect(kind == "joined", f"not joined: {details}")
    expect(details.authid == expected_authid, f"authid {details.authid}")
    expect(details.authmethod == expected_method, f"authmethod {details.authmethod}")
    expect(details.authprovider == "static", f"authprovider {details.authprovider}")
    return session, details


async def refused(reason, **kwargs):
    kind, _, details = await attempt(**kwargs)
    expect(kind == "left", "joined, but should have been refused")
    expect(details.reason == reason, f"reason {details.reason}, expected {reason}")
    return details


def ticket(secret):
    return lambda challenge: secret


def cra(secret):
    def answer(challenge):
        expect(challenge.method == "wampcra", f"method {challenge.method}")
        key = secret
        if "salt" in challenge.extra:
            key = auth.derive_key(secret, challenge.extra["salt"], challenge.extra["iterations"], challenge.extra["keylen"])
        return auth.compute_wcs(key, challenge.extra["challenge"]).decode("ascii")

    return answer


FAILED = "wamp.error.authentication_failed"


async def brute_force(attempts):
    for i in range(attempts):
        await refused(FAILED, authmethods=["ticket"], authid="ticket-user", answer=ticket(f"guess-{i}"))
    details = await refused(FAILED, authmethods=["ticket"], authid="ticket-user", answer=ticket("ticket-secret"))
    expect("too many failed" in (details.message or ""), f"message {details.message}")
    print("PASS brute force refused", flush=True)
    print("DONE 1", flush=True)


async def main():
    if os.environ.get("BRUTE_FORCE"):
        await brute_force(int(os.environ["BRUTE_FORCE"]))
        return
    check = Checks()
    sessions = []

    @check("ticket")
    async def _():
        s, details = await joins("ticket-user", "ticket", authmethods=["ticket"], authid="ticket-user", answer=ticket("ticket-secret"))
        expect(details.authrole == "full", f"authrole {details.authrole}")
        sessions.append(s)

    @check("ticket: wrong secret, unknown authid, no authid")
    async def _():
        await refused(FAILED, authmethods=["ticket"], authid="ticket-user", answer=ticket("wrong"))
        await refused(FAILED, authmethods=["ticket"], authid="nobody", answer=ticket("ticket-secret"))
        await refused(FAILED, authmethods=["ticket"], answer=ticket("ticket-secret"))

    @check("wampcra")
    async def _():
        s, details = await joins("cra-user", "wampcra", authmethods=["wampcra"], authid="cra-user", answer=cra("cra-secret"))
        expect(details.authrole == "full", f"authrole {details.authrole}")
        s.leave()
        await refused(FAILED, authmethods=["wampcra"], authid="cra-user", answer=cra("wrong"))

    @check("wampcra salted")
    async def _():
        s, _ = await joins("cra-salted", "wampcra", authmethods=["wampcra"], authid="cra-salted", answer=cra("salted-secret"))
        s.leave()
        await refused(FAILED, authmethods=["wampcra"], authid="cra-salted", answer=cra("wrong"))

    @check("cryptosign")
    async def _():
        key = cs_key()
        extra = {"pubkey": key.public_key()}
        answer = lambda challenge: key.sign_challenge(challenge)
        s, _ = await joins("cs-user", "cryptosign", authmethods=["cryptosign"], authid="cs-user", authextra=extra, answer=answer)
        s.leave()
        # Without an authid: the key names the principal.
        s, _ = await joins("cs-user", "cryptosign", authmethods=["cryptosign"], authextra=extra, answer=answer)
        s.leave()
        stranger = CryptosignKey.from_bytes(os.urandom(32))
        await refused(
            FAILED,
            authmethods=["cryptosign"],
            authid="cs-user",
            authextra={"pubkey": stranger.public_key()},
            answer=lambda challenge: stranger.sign_challenge(challenge),
        )

    @check("methods in the client's order")
    async def _():
        s, _ = await joins("cra-user", "wampcra", authmethods=["anonymous", "wampcra", "ticket"], authid="cra-user", answer=cra("cra-secret"))
        s.leave()

    @check("no anonymous sessions on authrealm")
    async def _():
        await refused("wamp.error.no_auth_method", authmethods=["anonymous"])
        await refused("wamp.error.no_auth_method", authmethods=None)

    @check("anonymous realm1, meta API included")
    async def _():
        kind, s, details = await attempt(authmethods=None, realm=REALM)
        expect(kind == "joined", f"not joined: {details}")
        expect(details.authrole == "anonymous", f"authrole {details.authrole}")
        count = await s.call("wamp.session.count")
        expect(count >= 1, f"session count {count}")
        sessions.append(s)

    @check("the caller role may call and subscribe, nothing else")
    async def _():
        full = sessions[0]
        await full.register(lambda x: x * 2, "com.auth.double")
        kind, caller, details = await attempt(authmethods=["ticket"], authid="ticket-caller", answer=ticket("caller-secret"))
        expect(kind == "joined" and details.authrole == "caller", f"{kind} {details}")
        sessions.append(caller)
        expect(await caller.call("com.auth.double", 21) == 42, "call")
        await caller.subscribe(lambda *a: None, "com.auth.events")
        e = await expect_error(caller.register(lambda: None, "com.auth.mine"), "wamp.error.not_authorized")
        expect("register" in e.args[0] and "com.auth.mine" in e.args[0], f"message {e.args}")
        await expect_error(
            caller.publish("com.auth.events", 1, options=PublishOptions(acknowledge=True)), "wamp.error.not_authorized"
        )
        await expect_error(caller.call("wamp.session.count"), "wamp.error.not_authorized")
        # The full role may use the meta API.
        expect(await full.call("wamp.session.count") >= 2, "meta API for full")

    await check.run(sessions)


if __name__ == "__main__":
    asyncio.run(main())
