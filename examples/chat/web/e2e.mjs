// End-to-end test of the chat page in headless Chromium, driven by
// playwright-core: two people chat, a third joins late and sees the
// history, a page that closes leaves the "online" list.
//
//   node e2e.mjs URL SCREENSHOT.png
//
// Prints "E2E OK <checks>" and exits 0 when every check passed. The
// browser is Debian's chromium (CHROMIUM to use another).
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
if (!url || !screenshot) {
  console.error("usage: node e2e.mjs URL SCREENSHOT.png");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
let checks = 0;
const check = (what, ok) => {
  if (!ok) throw new Error(`check failed: ${what}`);
  checks += 1;
};
const timeout = 10_000;

/** A new browser context (its own cookies and storage) on the page. */
async function open() {
  const context = await browser.newContext({ viewport: { width: 820, height: 560 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error("page error:", error.message));
  await page.goto(url);
  await page.waitForSelector("#status[data-state=connected]", { timeout });
  return page;
}

async function join(page, nick) {
  await page.fill("#nick", nick);
  await page.click("#join");
}

async function say(page, text) {
  await page.fill("#text", text);
  await page.click("#send");
}

const messages = (page) => page.$$eval("#messages li", (items) => items.map((i) => i.textContent));
const online = (page) => page.$$eval("#online li", (items) => items.map((i) => i.textContent));
const waitForText = (page, selector, text) =>
  page.waitForFunction(
    ([selector, text]) => [...document.querySelectorAll(selector)].some((e) => e.textContent.includes(text)),
    [selector, text],
    { timeout },
  );
const waitForCount = (page, selector, count) =>
  page.waitForFunction(([selector, count]) => document.querySelectorAll(selector).length === count, [selector, count], {
    timeout,
  });

try {
  const ada = await open();
  const bob = await open();
  await join(ada, "ada");
  await ada.waitForSelector("#room:not([hidden])", { timeout });
  await join(bob, "bob");
  await bob.waitForSelector("#room:not([hidden])", { timeout });
  await waitForCount(ada, "#online li", 2);
  check("both are online, as ada sees it", JSON.stringify(await online(ada)) === '["ada","bob"]');

  await say(ada, "hello bob");
  await waitForText(bob, "#messages li", "hello bob");
  await say(bob, "hi ada, how are you?");
  // Each page shows a message when the router delivers it back, so bob's own
  // line may reach ada's page before his.
  await waitForText(ada, "#messages li", "hi ada, how are you?");
  await waitForText(bob, "#messages li", "hi ada, how are you?");
  check("ada sees both messages in order", JSON.stringify(await messages(ada)) ===
    JSON.stringify(["adahello bob", "bobhi ada, how are you?"]));
  check("bob sees the same", JSON.stringify(await messages(bob)) === JSON.stringify(await messages(ada)));

  // A taken nickname is refused with the component's message.
  const late = await open();
  await join(late, "ada");
  await waitForText(late, "#join-error", "someone else uses that nickname");
  check("a taken nickname is refused", true);
  await join(late, "cy");
  await late.waitForSelector("#room:not([hidden])", { timeout });
  check("a late joiner gets the history", (await messages(late)).length === 2);
  await waitForCount(ada, "#online li", 3);

  // Closing a page is noticed through the router's wamp.session.on_leave.
  await bob.context().close();
  await waitForCount(ada, "#online li", 2);
  check("bob's page left", JSON.stringify(await online(ada)) === '["ada","cy"]');

  await say(late, "bob left");
  await waitForText(ada, "#messages li", "bob left");
  await ada.screenshot({ path: screenshot });
  check("screenshot taken", true);
  console.log(`E2E OK ${checks}`);
} catch (error) {
  console.error(error.stack || String(error));
  process.exitCode = 1;
} finally {
  await browser.close();
}
